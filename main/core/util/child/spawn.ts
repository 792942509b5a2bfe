// `spawn` that never throws and never leaves an `error` event without a listener.
//
// When the process has no file descriptor left (EMFILE/ENFILE), Node's spawn returns a ChildProcess
// whose stdio pipes were never made (`child.stdout === null`) and emits `error` on the next tick;
// other failures throw at once. Code that touched `child.stdout` first crashed the server with a
// TypeError (issue #20: 21,200 half-open connections, then `spawn(nvidia-smi)`). Callers get either
// a child whose requested pipes all exist (listen to its `error` before anything else), or the reason.
// Never through a shell: `shell` is forced off, so an argument is never parsed as shell syntax.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export type Spawned =
  { ok: true; child: ChildProcess } | { ok: false; error: NodeJS.ErrnoException };

export function spawnChecked(file: string, args: readonly string[], opts: SpawnOptions): Spawned {
  let child: ChildProcess;
  try {
    child = spawn(file, args, { ...opts, shell: false });
  } catch (err) {
    return { ok: false, error: err as NodeJS.ErrnoException };
  }
  const stdio = Array.isArray(opts.stdio)
    ? opts.stdio
    : [opts.stdio ?? 'pipe', opts.stdio ?? 'pipe', opts.stdio ?? 'pipe'];
  const streams = [child.stdin, child.stdout, child.stderr];
  const missing = stdio
    .slice(0, 3)
    .some((s, i) => (s === 'pipe' || s === 'overlapped') && !streams[i]);
  if (missing) {
    // The `error` Node queued for the next tick must find a listener, or it is an uncaught exception.
    child.once('error', () => {});
    const error: NodeJS.ErrnoException = new Error(
      `spawn ${file}: no file descriptor left for its pipes (EMFILE)`,
    );
    error.code = 'EMFILE';
    return { ok: false, error };
  }
  return { ok: true, child };
}
