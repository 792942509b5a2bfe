// What a bench suite left running. Every process a bench starts inherits UNAMENTIS_BENCH_RUN (set by
// bench/run.ts), and keeps it when its parent dies and it is re-parented: scanning /proc/*/environ for
// the marker finds orphans that a walk of our child tree would miss (a fake's `sleep`, a service).

import fs from 'node:fs';

export const MARKER = 'UNAMENTIS_BENCH_RUN';

/** Pids (other than `self`) whose environment carries MARKER=id. Empty off Linux. */
export function markedPids(id: string, self = process.pid, procDir = '/proc'): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(procDir);
  } catch {
    return [];
  }
  const needle = `${MARKER}=${id}`;
  const found: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === self) continue;
    try {
      if (fs.readFileSync(`${procDir}/${e}/environ`, 'latin1').split('\0').includes(needle))
        found.push(Number(e));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

export function commandLine(pid: number, procDir = '/proc'): string {
  try {
    return fs
      .readFileSync(`${procDir}/${pid}/cmdline`, 'latin1')
      .split('\0')
      .filter(Boolean)
      .join(' ');
  } catch {
    return '?';
  }
}

/**
 * Waits up to `settleMs` for marked processes to end on their own (a child killed a moment ago), then
 * SIGTERM, then SIGKILL after `graceMs`, for each one still there; returns those.
 */
export async function sweep(
  id: string,
  graceMs = 2000,
  settleMs = 0,
): Promise<{ pid: number; cmd: string }[]> {
  const settle = Date.now() + settleMs;
  while (Date.now() < settle && markedPids(id).length) await new Promise((r) => setTimeout(r, 100));
  const pids = markedPids(id);
  const found = pids.map((pid) => ({ pid, cmd: commandLine(pid) }));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const end = Date.now() + graceMs;
  while (Date.now() < end && markedPids(id).length) await new Promise((r) => setTimeout(r, 50));
  for (const pid of markedPids(id)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  return found;
}
