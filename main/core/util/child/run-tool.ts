// Running a tool once: explicit argv (never a shell), a deadline and an output cap. It never
// throws: a tool that cannot start (ENOENT, EACCES, no file descriptor left) comes back as `error`;
// one that overstays or prints too much is killed with its whole tree and comes back as `timedOut`
// or `truncated`, at once, even if the kill does not take (a wedged driver: `running()` says so).

import type { ChildProcess } from 'node:child_process';
import { spawnChecked } from './spawn.js';
import { treeStop } from './os.js';

export interface ToolOptions {
  /** The deadline: past it the tool's tree is killed and the result says `timedOut`. */
  timeoutMs: number;
  /** Both streams together; past it the tree is killed and the result says `truncated` (default 1 MiB). */
  maxOutputBytes?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Aborting kills the tree; the result says `aborted`. */
  signal?: AbortSignal;
}

export interface ToolResult {
  /** Exited with code 0, in time, with all its output. */
  ok: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  aborted: boolean;
  /** It could not be started (ENOENT, EACCES, EMFILE…). */
  error: NodeJS.ErrnoException | null;
  pid: number | null;
  /** True while the child has not exited (a killed tool whose kill did not take yet). */
  running(): boolean;
}

export const DEFAULT_MAX_OUTPUT = 1 << 20;

export function runTool(
  file: string,
  args: readonly string[],
  opts: ToolOptions,
): Promise<ToolResult> {
  const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const base = (child: ChildProcess | null) => ({
    code: null,
    signal: null,
    stdout: '',
    stderr: '',
    timedOut: false,
    truncated: false,
    aborted: false,
    error: null,
    pid: child?.pid ?? null,
    running: () => child !== null && child.exitCode === null && child.signalCode === null,
  });
  if (opts.signal?.aborted) return Promise.resolve({ ...base(null), ok: false, aborted: true });
  const spawned = spawnChecked(file, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
    // Its own process group on POSIX: a deadline kills what it started too.
    detached: treeStop.ownGroup,
  });
  if (!spawned.ok) return Promise.resolve({ ...base(null), ok: false, error: spawned.error });
  const child = spawned.child;
  return new Promise<ToolResult>((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (patch: Partial<ToolResult>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const r: ToolResult = {
        ...base(child),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ok: false,
        ...patch,
      };
      r.ok = !r.error && !r.timedOut && !r.truncated && !r.aborted && r.code === 0;
      resolve(r);
    };
    const kill = (patch: Partial<ToolResult>) => {
      if (done) return;
      finish(patch);
      void treeStop.killOwned(child);
    };
    const collect = (into: Buffer[]) => (d: Buffer) => {
      if (done) return;
      const room = max - size;
      size += d.length;
      if (d.length > room) {
        if (room > 0) into.push(d.subarray(0, room));
        kill({ truncated: true });
        return;
      }
      into.push(d);
    };
    child.stdout!.on('data', collect(out));
    child.stderr!.on('data', collect(err));
    const timer = setTimeout(() => kill({ timedOut: true }), opts.timeoutMs);
    timer.unref?.();
    const onAbort = () => kill({ aborted: true });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => finish({ error: e }));
    child.on('close', (code, signal) => finish({ code, signal }));
  });
}

/** What a tool printed ('' when it could not start: no file descriptor left reads as no answer). */
export async function toolOutput(
  file: string,
  args: readonly string[],
  timeoutMs = 5000,
): Promise<string> {
  return (await runTool(file, args, { timeoutMs, maxOutputBytes: 16 << 20 })).stdout;
}

/** "not found", "is not executable", or Node's own words: why `file` did not start. */
export function startFailure(file: string, e: NodeJS.ErrnoException): string {
  if (e.code === 'ENOENT') return `not found (${file})`;
  if (e.code === 'EACCES') return `is not executable (${file})`;
  return `could not be started: ${e.message}`;
}

/**
 * One line for a failed run, led by `label`: "nvidia-smi did not answer within 5 s (stopped it)",
 * "… printed more than 256 KB", "… exited with code 9: <its first line>".
 */
export function describeFailure(
  label: string,
  file: string,
  r: ToolResult,
  opts: ToolOptions,
): string {
  if (r.error) return `${label} ${startFailure(file, r.error)}`;
  if (r.timedOut)
    return `${label} did not answer within ${fmtSeconds(opts.timeoutMs)} (stopped it)`;
  if (r.truncated) {
    return `${label} printed more than ${Math.round((opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT) / 1024)} KB`;
  }
  if (r.aborted) return `${label} was cancelled`;
  const said = firstLine(r.stdout) || firstLine(r.stderr);
  const how = r.signal ? `was stopped by ${r.signal}` : `exited with code ${r.code}`;
  return `${label} ${how}${said ? `: ${said}` : ''}`;
}

export function firstLine(s: string): string {
  const l = s.split(/\r?\n/).find((x) => x.trim()) ?? '';
  const t = l.trim();
  return t.length > 160 ? t.slice(0, 157) + '...' : t;
}

export function fmtSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
