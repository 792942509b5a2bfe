// The process table on macOS (and any other POSIX without /proc): `ps` and `lsof`.

import {
  answersSignalZero,
  parseLsof,
  parseOwner,
  type PortHolder,
  type ProcInfo,
} from './procs.js';
import { toolOutput } from './run-tool.js';

export async function listProcesses(): Promise<ProcInfo[]> {
  // lstart is "Mon Nov 23 18:46:07 2026" (5 words).
  const text = await toolOutput('ps', ['-axo', 'pid=,ppid=,pgid=,stat=,lstart=,comm=']);
  const out: ProcInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9 || !/^\d+$/.test(f[0]!)) continue;
    if (f[3]!.startsWith('Z')) continue;
    out.push({
      pid: Number(f[0]),
      ppid: Number(f[1]),
      pgid: Number(f[2]),
      startTime: f.slice(4, 9).join(' '),
      name: f.slice(9).join(' '),
      state: f[3]!,
    });
  }
  return out;
}

export async function processStartTime(pid: number): Promise<string | null> {
  const text = await toolOutput('ps', ['-o', 'lstart=', '-p', String(pid)]);
  return text.trim().split(/\s+/).join(' ') || null;
}

export async function processOwner(pid: number): Promise<number | null> {
  return parseOwner(await toolOutput('ps', ['-o', 'uid=', '-p', String(pid)]));
}

export const isAlive = answersSignalZero;

export async function portHolder(port: number): Promise<PortHolder | null> {
  return parseLsof(await toolOutput('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc']));
}
