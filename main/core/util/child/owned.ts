// Owning a long-lived child (a service, a sleep inhibitor, an nvidia-smi loop): spawned without a
// shell, in its own process group where the OS has them, and stopped as a whole tree: a gentle ask,
// a grace period, then the tree is killed, then whatever of it is still left.

import type { ChildProcess, StdioOptions } from 'node:child_process';
import { spawnChecked } from './spawn.js';
import { treeStop } from './os.js';
import { isAlive, listProcesses, signalPid, treeOf, type ProcInfo } from './procs.js';

export interface OwnedOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default: no stdin, stdout and stderr piped. */
  stdio?: StdioOptions;
}

export type Owned = { ok: true; child: OwnedChild } | { ok: false; error: NodeJS.ErrnoException };

/** Starts `file` (no shell); never throws (spawnChecked: EMFILE and the like come back as `error`). */
export function spawnOwned(file: string, args: readonly string[], opts: OwnedOptions = {}): Owned {
  const spawned = spawnChecked(file, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
    // Its own process group on POSIX: the group (grandchildren included) can be killed as one.
    detached: treeStop.ownGroup,
  });
  return spawned.ok ? { ok: true, child: new OwnedChild(spawned.child) } : spawned;
}

export interface StopOptions {
  /** Between the gentle ask and killing the tree. */
  graceMs: number;
  /** Said when the gentle ask goes out (`how`: "SIGTERM" or "Ctrl+Break"). */
  onAsk?(how: string): void;
  /** Said when the grace ran out and the tree is killed. */
  onKill?(): void;
}

export class OwnedChild {
  constructor(readonly process: ChildProcess) {}

  get pid(): number | undefined {
    return this.process.pid;
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /** Resolves with null once it runs, or with why it could not start. */
  started(): Promise<Error | null> {
    return new Promise((resolve) => {
      this.process.once('spawn', () => resolve(null));
      this.process.once('error', (err) => resolve(err));
    });
  }

  /** True once it has exited, false when `ms` passed first. */
  waitExit(ms: number): Promise<boolean> {
    const child = this.process;
    if (this.exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        child.off('exit', onExit);
        resolve(false);
      }, ms);
      const onExit = () => {
        clearTimeout(t);
        resolve(true);
      };
      child.once('exit', onExit);
    });
  }

  /** Kills its tree at once (its group on POSIX; taskkill /F /T on Windows). */
  kill(): Promise<void> {
    return treeStop.killOwned(this.process);
  }

  /**
   * Asks it to stop, and after `graceMs` kills the tree: the group, and (POSIX) the members seen at
   * the start that left it, matched by start time so a reused pid is never hit. Returns the tree as
   * it was before, for `sweepTree` once the leader is gone.
   */
  async stopTree(o: StopOptions): Promise<ProcInfo[]> {
    const pid = this.process.pid;
    if (pid === undefined) return [];
    const before = treeOf(pid, await listProcesses(), treeStop.ownGroup);
    if (this.exited) return before;
    o.onAsk?.(treeStop.gentle);
    await treeStop.ask(this.process, o.graceMs);
    if (await this.waitExit(o.graceMs)) return before;
    o.onKill?.();
    if (!treeStop.ownGroup) await treeStop.killOwned(this.process);
    else {
      treeStop.signalGroup(pid, 'SIGKILL'); // safe: the leader is alive, so the group id is still ours
      const now = await listProcesses();
      for (const p of now)
        if (before.some((b) => b.pid === p.pid && b.startTime === p.startTime))
          signalPid(p.pid, 'SIGKILL');
    }
    await this.waitExit(5000);
    return before;
  }
}

/**
 * Stops what is left of a tree whose leader `pid` has exited: its group (POSIX) and the processes
 * in `known` (seen in it earlier), matched by start time so a reused pid is never hit. SIGTERM,
 * `graceMs`, then SIGKILL (Windows: the trees of those left). Returns the pids it had to stop.
 */
export async function sweepTree(
  pid: number,
  known: readonly ProcInfo[],
  graceMs: number,
  onLeft?: (pids: number[]) => void,
): Promise<number[]> {
  const procs = await listProcesses();
  const members = [...treeOf(pid, procs, treeStop.ownGroup), ...known];
  const left = procs.filter(
    (p) =>
      p.pid !== process.pid &&
      ((treeStop.ownGroup && p.pgid === pid) ||
        members.some((b) => b.pid === p.pid && b.startTime === p.startTime)),
  );
  const pids = left.map((p) => p.pid);
  if (pids.length === 0) return [];
  onLeft?.(pids);
  await stopPids(pids, graceMs);
  return pids;
}

/**
 * SIGTERM to each, up to `graceMs` for them to go, then SIGKILL to those left (Windows: their
 * trees); then up to 2 s more. For pids already known to be ours (a PID file's, a tree's leftovers).
 */
export async function stopPids(pids: readonly number[], graceMs: number): Promise<void> {
  for (const p of pids) signalPid(p, 'SIGTERM');
  if (await waitFor(() => pids.every((p) => !isAlive(p)), graceMs)) return;
  for (const p of pids) if (isAlive(p)) signalPid(p, 'SIGKILL');
  if (!treeStop.ownGroup) for (const p of pids) if (isAlive(p)) await treeStop.killTree(p);
  await waitFor(() => pids.every((p) => !isAlive(p)), 2000);
}

/** Polls `pred` every `stepMs` until it holds (true) or `ms` passed (false). */
export async function waitFor(pred: () => boolean, ms: number, stepMs = 25): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (pred()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
