// Windows: stopping a console program gracefully. `taskkill /T` without `/F` only posts WM_CLOSE to
// windows, and console programs (ollama serve, python, whisper-server) have none, so every stop
// waited the whole grace period and then killed. Ollama's own desktop app stops its server with a
// console control event (ollama/ollama app/server/server_windows.go `terminate`): AttachConsole(pid),
// SetConsoleCtrlHandler(NULL, TRUE) so the sender survives, GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT)
// then (CTRL_C_EVENT); then `stop()` polls every 10 ms for 5 s before killing. Node cannot call
// kernel32 itself, so a short PowerShell (no shell for the service: this is our own helper) does it.
// A tree is killed with `taskkill /F /T`: Windows has no process groups, taskkill follows parent links.

import type { ChildProcess } from 'node:child_process';
import { runTool } from './run-tool.js';

const CTRL_C_EVENT = 0;
const CTRL_BREAK_EVENT = 1;

/**
 * The helper's script. Ollama sends the events to the process group `pid` (it starts its server with
 * CREATE_NEW_PROCESS_GROUP); Node can only ask for that together with DETACHED_PROCESS (no console
 * at all), so our children share one console per tree and the events go to group 0: every process
 * on the console we attached to, i.e. the service's tree (the helper ignores them).
 */
export function consoleCtrlScript(pid: number): string {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`not a pid: ${pid}`);
  return [
    "$ErrorActionPreference = 'Stop'",
    "Add-Type -Namespace UnaMentis -Name Kernel32 -MemberDefinition @'",
    '[DllImport("kernel32.dll", SetLastError = true)] public static extern bool FreeConsole();',
    '[DllImport("kernel32.dll", SetLastError = true)] public static extern bool AttachConsole(uint dwProcessId);',
    '[DllImport("kernel32.dll", SetLastError = true)] public static extern bool SetConsoleCtrlHandler(System.IntPtr handler, bool add);',
    '[DllImport("kernel32.dll", SetLastError = true)] public static extern bool GenerateConsoleCtrlEvent(uint dwCtrlEvent, uint dwProcessGroupId);',
    "'@",
    '[void][UnaMentis.Kernel32]::FreeConsole()',
    `if (-not [UnaMentis.Kernel32]::AttachConsole(${pid})) { exit 2 }`,
    '[void][UnaMentis.Kernel32]::SetConsoleCtrlHandler([System.IntPtr]::Zero, $true)',
    `if (-not [UnaMentis.Kernel32]::GenerateConsoleCtrlEvent(${CTRL_BREAK_EVENT}, 0)) { exit 3 }`,
    `if (-not [UnaMentis.Kernel32]::GenerateConsoleCtrlEvent(${CTRL_C_EVENT}, 0)) { exit 4 }`,
    'exit 0',
  ].join('\n');
}

export type StopStep =
  | { kind: 'run'; what: 'console-ctrl' | 'close' | 'kill'; file: string; args: string[] }
  | { kind: 'wait'; pollMs: number; upToMs: number };

/**
 * The steps of a graceful stop of the tree rooted at `pid`, as Ollama's app does it: control event,
 * wait (polling), then kill the tree. `ownConsole`: we share a console with our children (the
 * headless core started from a terminal), where an event to group 0 would reach us too; then the old
 * way (`taskkill /T`) is the only gentle ask.
 */
export function windowsStopPlan(
  pid: number,
  timeoutMs: number,
  opts: { ownConsole: boolean },
): StopStep[] {
  const ask: StopStep = opts.ownConsole
    ? { kind: 'run', what: 'close', file: 'taskkill', args: ['/PID', String(pid), '/T'] }
    : {
        kind: 'run',
        what: 'console-ctrl',
        file: 'powershell.exe',
        args: [
          '-NoLogo',
          '-NoProfile',
          '-NonInteractive',
          '-ExecutionPolicy',
          'Bypass',
          '-EncodedCommand',
          Buffer.from(consoleCtrlScript(pid), 'utf16le').toString('base64'),
        ],
      };
  return [
    ask,
    { kind: 'wait', pollMs: 10, upToMs: timeoutMs },
    { kind: 'run', what: 'kill', file: 'taskkill', args: ['/F', '/T', '/PID', String(pid)] },
  ];
}

/** Does this process have a console its children would share? (The Electron app has none.) */
function hasOwnConsole(): boolean {
  return !!(process.stdin?.isTTY || process.stdout?.isTTY || process.stderr?.isTTY);
}

/** Runs the first step (the gentle ask); the caller waits and kills. Falls back to `taskkill /T`. */
export async function askToStop(
  pid: number,
  timeoutMs: number,
  ownConsole = hasOwnConsole(),
): Promise<void> {
  const [ask] = windowsStopPlan(pid, timeoutMs, { ownConsole });
  if (!ask || ask.kind !== 'run') return;
  const ok = await run(ask.file, ask.args);
  if (!ok && ask.what === 'console-ctrl') await run('taskkill', ['/PID', String(pid), '/T']);
}

async function run(file: string, args: string[]): Promise<boolean> {
  return (await runTool(file, args, { timeoutMs: 15_000 })).ok;
}

export const OWN_GROUP = false;
export const GENTLE = 'Ctrl+Break';

/** Windows has no process groups. */
export function signalGroup(): boolean {
  return false;
}

export async function ask(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.pid) await askToStop(child.pid, timeoutMs);
}

export async function killOwned(child: ChildProcess): Promise<void> {
  if (child.pid) await killTree(child.pid);
}

/** Kills the tree rooted at `pid` for good. */
export async function killTree(pid: number): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 0) return;
  await run('taskkill', ['/F', '/T', '/PID', String(pid)]);
}
