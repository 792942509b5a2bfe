// Child processes, in one place: run a tool with a deadline and an output cap (`runTool`), own a
// long-lived child and stop its whole tree (`spawnOwned`, `OwnedChild.stopTree`), the process table
// (`procs.ts`), and the per-OS ways to stop a tree (`tree-stop.posix.ts`, `tree-stop.win32.ts`,
// picked once in `os.ts`). Nothing here starts a shell.

export { runTool, describeFailure, startFailure, firstLine, fmtSeconds } from './run-tool.js';
export type { ToolOptions, ToolResult } from './run-tool.js';
export { spawnOwned, OwnedChild, sweepTree, stopPids, waitFor } from './owned.js';
export type { Owned, OwnedOptions, StopOptions } from './owned.js';
export { treeStop } from './os.js';
export {
  isAlive,
  listProcesses,
  portHolder,
  processOwner,
  processStartTime,
  signalPid,
  treeOf,
  type PortHolder,
  type ProcInfo,
} from './procs.js';
