// Stopping a tree on Linux and macOS: every child starts as the leader of its own process group,
// so one signal to the group reaches grandchildren too (even those re-parented to init when their
// parent died). A pid we did not start is stopped by walking the process table.

import type { ChildProcess } from 'node:child_process';
import { descendants, listProcesses, signalPid } from './procs.js';

export const OWN_GROUP = true;
export const GENTLE = 'SIGTERM';

export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export async function ask(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
}

export async function killOwned(child: ChildProcess): Promise<void> {
  if (child.pid && !signalGroup(child.pid, 'SIGKILL')) child.kill('SIGKILL');
}

export async function killTree(pid: number): Promise<void> {
  // A snapshot first: killed first, a parent's children would be re-parented out of reach.
  for (const p of descendants(pid, await listProcesses())) signalPid(p.pid, 'SIGKILL');
  signalPid(pid, 'SIGKILL');
}
