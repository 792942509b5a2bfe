// The process table on Linux: /proc (no child process), and `ss` (else `lsof`) for a port's holder.

import fs from 'node:fs';
import { parseLsof, parseProcStat, parseSs, type PortHolder, type ProcInfo } from './procs.js';
import { toolOutput } from './run-tool.js';

function readProc(pid: number): ProcInfo | null {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Callers in the same tick share one read of /proc (the GPU sampler asks for every service's tree at
 * once: one scan of a few hundred files, not one per service). Cleared before any later tick.
 */
let thisTick: ProcInfo[] | null = null;

export async function listProcesses(): Promise<ProcInfo[]> {
  if (thisTick) return thisTick.slice();
  const out: ProcInfo[] = [];
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const p = readProc(Number(n));
    if (p && p.state !== 'Z') out.push(p);
  }
  thisTick = out;
  queueMicrotask(() => (thisTick = null));
  return out.slice();
}

export async function processStartTime(pid: number): Promise<string | null> {
  const p = readProc(pid);
  return p && p.state !== 'Z' ? p.startTime : null;
}

/** The owner of /proc/<pid> is the process's real uid's (its effective uid for a setuid program). */
export async function processOwner(pid: number): Promise<number | null> {
  try {
    return fs.statSync(`/proc/${pid}`).uid;
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  const p = readProc(pid);
  return p !== null && p.state !== 'Z';
}

export async function portHolder(port: number): Promise<PortHolder | null> {
  const ss = parseSs(await toolOutput('ss', ['-ltnpH', `sport = :${port}`]), port);
  if (ss) {
    if (ss.pid !== null && !ss.name) ss.name = readProc(ss.pid)?.name ?? null;
    return ss;
  }
  return parseLsof(await toolOutput('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc']));
}
