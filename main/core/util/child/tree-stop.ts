// What each OS supplies to start a child that can be stopped as a tree, and to stop it
// (tree-stop.posix.ts, tree-stop.win32.ts export these names; os.ts picks one), and to read the
// process table (proc-table.linux.ts, proc-table.darwin.ts, proc-table.win32.ts).

import type { ChildProcess } from 'node:child_process';
import type { PortHolder, ProcInfo } from './procs.js';

export interface TreeStop {
  /**
   * Children start in their own process group (POSIX `detached`), so the group, grandchildren
   * included, can be signalled as one. Windows has no such groups (and `detached` there means no
   * console at all): a tree is found by parent links instead.
   */
  readonly ownGroup: boolean;
  /** What the gentle ask is called in a log line. */
  readonly gentle: string;
  /** Asks the tree of our child to stop (POSIX: SIGTERM to it; Windows: a console control event). */
  ask(child: ChildProcess, timeoutMs: number): Promise<void>;
  /** Kills the tree of a child we started (its group on POSIX), at once. */
  killOwned(child: ChildProcess): Promise<void>;
  /** Kills the tree rooted at any pid (one we did not start: found by parent links). */
  killTree(pid: number): Promise<void>;
  /** Signals process group `pgid` (false where there are no groups, or it is gone). */
  signalGroup(pgid: number, signal: NodeJS.Signals): boolean;
}

export interface ProcTable {
  /** Every process (zombies excluded). */
  listProcesses(): Promise<ProcInfo[]>;
  /** The start time of a live process, or null when it is gone. */
  processStartTime(pid: number): Promise<string | null>;
  isAlive(pid: number): boolean;
  /** Which process listens on `port`, where the OS tells (null when it cannot be told). */
  portHolder(port: number): Promise<PortHolder | null>;
  /** The uid owning `pid` (POSIX), null when it is gone or the OS does not say (Windows). */
  processOwner(pid: number): Promise<number | null>;
}
