// The process table, per OS: who is alive, their parents, process groups and start times; who
// holds a port. Linux reads /proc; macOS asks `ps`/`lsof`; Windows asks PowerShell (CIM) / `netstat`.
// The tree logic (`descendants`, `treeOf`) is pure. Killing a tree: os.ts (`treeStop`).

import fs from 'node:fs';
import { runTool } from './run-tool.js';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** Process group (POSIX); equals pid on Windows. */
  pgid: number;
  /** Opaque start time: equal strings = the same process (pids get reused, start times do not). */
  startTime: string;
  /** Short command name, when known. */
  name?: string;
  /** Linux state letter (Z = zombie: dead, waiting for its parent). */
  state?: string;
}

const platform = process.platform;

/** What a tool printed; '' when it could not start (no file descriptor left: the same as no answer). */
async function run(file: string, args: string[], timeoutMs = 5000): Promise<string> {
  return (await runTool(file, args, { timeoutMs, maxOutputBytes: 16 << 20 })).stdout;
}

/** Parses /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcInfo | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < 0) return null;
  const pid = Number(text.slice(0, open).trim());
  const f = text.slice(close + 2).split(' ');
  // Fields after the name, from 3 (state): ppid = 4, pgrp = 5, starttime = 22.
  const ppid = Number(f[1]);
  const pgid = Number(f[2]);
  const start = f[19];
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || start === undefined) return null;
  return {
    pid,
    ppid,
    pgid,
    startTime: start,
    name: text.slice(open + 1, close),
    state: f[0] ?? '',
  };
}

function linuxProc(pid: number): ProcInfo | null {
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

function linuxProcesses(): ProcInfo[] {
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
    const p = linuxProc(Number(n));
    if (p && p.state !== 'Z') out.push(p);
  }
  thisTick = out;
  queueMicrotask(() => (thisTick = null));
  return out.slice();
}

/** Every process (zombies excluded). */
export async function listProcesses(): Promise<ProcInfo[]> {
  if (platform === 'linux') return linuxProcesses();
  if (platform === 'win32') {
    const text = await run(
      'powershell.exe',
      [
        '-NoProfile',
        '-NonInteractive',
        '-Command',
        'Get-CimInstance Win32_Process | ForEach-Object { "$($_.ProcessId) $($_.ParentProcessId) $($_.CreationDate.ToFileTimeUtc()) $($_.Name)" }',
      ],
      15_000,
    );
    return text
      .split(/\r?\n/)
      .map((l) => l.trim().split(' '))
      .filter((f) => f.length >= 3 && /^\d+$/.test(f[0]!))
      .map((f) => ({
        pid: Number(f[0]),
        ppid: Number(f[1]),
        pgid: Number(f[0]),
        startTime: f[2]!,
        name: f.slice(3).join(' '),
      }));
  }
  // macOS and other POSIX: lstart is "Mon Nov 23 18:46:07 2026" (5 words).
  const text = await run('ps', ['-axo', 'pid=,ppid=,pgid=,stat=,lstart=,comm=']);
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

/** The start time of a live process, or null when it is gone. */
export async function processStartTime(pid: number): Promise<string | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (platform === 'linux') {
    const p = linuxProc(pid);
    return p && p.state !== 'Z' ? p.startTime : null;
  }
  if (platform === 'win32') {
    const text = await run('powershell.exe', [
      '-NoProfile',
      '-NonInteractive',
      '-Command',
      `$p = Get-CimInstance Win32_Process -Filter "ProcessId=${pid}"; if ($p) { $p.CreationDate.ToFileTimeUtc() }`,
    ]);
    return text.trim() || null;
  }
  const text = await run('ps', ['-o', 'lstart=', '-p', String(pid)]);
  return text.trim().split(/\s+/).join(' ') || null;
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (platform === 'linux') {
    const p = linuxProc(pid);
    return p !== null && p.state !== 'Z';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pure: every descendant of `root` by parent links (not including root). */
export function descendants(root: number, procs: ProcInfo[]): ProcInfo[] {
  const children = new Map<number, ProcInfo[]>();
  for (const p of procs) {
    if (p.pid === p.ppid) continue;
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const out: ProcInfo[] = [];
  const seen = new Set<number>([root]);
  const queue = [root];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      if (seen.has(c.pid)) continue;
      seen.add(c.pid);
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/**
 * Pure: the process tree a supervised child owns: itself, its descendants, and (POSIX) every
 * member of its process group, which still finds grandchildren orphaned when their parent died
 * (they are re-parented to init but keep the group).
 */
export function treeOf(
  rootPid: number,
  procs: ProcInfo[],
  usesGroups = platform !== 'win32',
): ProcInfo[] {
  const byPid = new Map<number, ProcInfo>();
  const root = procs.find((p) => p.pid === rootPid);
  if (root) byPid.set(root.pid, root);
  for (const d of descendants(rootPid, procs)) byPid.set(d.pid, d);
  if (usesGroups) {
    for (const p of procs) {
      if (p.pgid === rootPid) {
        byPid.set(p.pid, p);
        for (const d of descendants(p.pid, procs)) byPid.set(d.pid, d);
      }
    }
  }
  return [...byPid.values()];
}

export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export interface PortHolder {
  pid: number | null;
  name: string | null;
}

/** Pure: the listener on `port` in `ss -ltnpH` output. */
export function parseSs(text: string, port: number): PortHolder | null {
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const local = f[3];
    if (!local || !local.endsWith(`:${port}`)) continue;
    const m = /users:\(\("([^"]*)",pid=(\d+)/.exec(line);
    return { pid: m ? Number(m[2]) : null, name: m ? m[1]! : null };
  }
  return null;
}

/** Pure: `lsof -nP -iTCP:<port> -sTCP:LISTEN -Fpc` output. */
export function parseLsof(text: string): PortHolder | null {
  const pid = /^p(\d+)$/m.exec(text);
  const name = /^c(.+)$/m.exec(text);
  return pid ? { pid: Number(pid[1]), name: name ? name[1]! : null } : null;
}

/** Pure: `netstat -ano -p tcp` output (Windows). */
export function parseNetstat(text: string, port: number): number | null {
  for (const line of text.split(/\r?\n/)) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== 'TCP' || !f[1]?.endsWith(`:${port}`) || !/LISTEN/i.test(f[3] ?? '')) continue;
    return Number(f[4]) || null;
  }
  return null;
}

/** Which process listens on `port`, where the OS tells (null when it cannot be told). */
export async function portHolder(port: number): Promise<PortHolder | null> {
  if (platform === 'linux') {
    const ss = parseSs(await run('ss', ['-ltnpH', `sport = :${port}`]), port);
    if (ss) {
      if (ss.pid !== null && !ss.name) ss.name = linuxProc(ss.pid)?.name ?? null;
      return ss;
    }
    return parseLsof(await run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc']));
  }
  if (platform === 'win32') {
    const pid = parseNetstat(await run('netstat', ['-ano', '-p', 'tcp']), port);
    if (pid === null) return null;
    const csv = await run('tasklist', ['/FI', `PID eq ${pid}`, '/FO', 'CSV', '/NH']);
    const name = /^"([^"]+)"/.exec(csv.trim())?.[1] ?? null;
    return { pid, name };
  }
  return parseLsof(await run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc']));
}
