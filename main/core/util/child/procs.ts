// The process table: who is alive, their parents, process groups and start times; who holds a
// port. Each OS reads it its own way (proc-table.linux.ts: /proc; proc-table.darwin.ts: `ps`/`lsof`;
// proc-table.win32.ts: PowerShell (CIM) / `netstat`), picked in os.ts. The parsers and the tree
// logic (`descendants`, `treeOf`) here are pure. Killing a tree: os.ts (`treeStop`).

import { procTable, treeStop } from './os.js';

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

/** Every process (zombies excluded). */
export function listProcesses(): Promise<ProcInfo[]> {
  return procTable.listProcesses();
}

/** The start time of a live process, or null when it is gone. */
export async function processStartTime(pid: number): Promise<string | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return procTable.processStartTime(pid);
}

/**
 * Alive by signal 0, where there is no /proc to read (macOS, Windows): EPERM means it exists but
 * belongs to another user.
 */
export function answersSignalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  return procTable.isAlive(pid);
}

/** The uid owning `pid` (POSIX), null when it is gone or the OS does not say (Windows). */
export async function processOwner(pid: number): Promise<number | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return procTable.processOwner(pid);
}

/** Which process listens on `port`, where the OS tells (null when it cannot be told). */
export function portHolder(port: number): Promise<PortHolder | null> {
  return procTable.portHolder(port);
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
  usesGroups = treeStop.ownGroup,
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

/** Pure: `ps -o uid= -p PID` output: the uid, or null (no such process). */
export function parseOwner(text: string): number | null {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
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
