// One PID file per service (DATA_DIR/run/<id>.pid): pid, process group and start time of the
// child, and who spawned it. After the app itself was killed, the next start stops what these
// files name, and only that: a live pid whose start time differs is someone else's process.

import fs from 'node:fs';
import path from 'node:path';
import type { ProcInfo } from '../util/child/procs.js';
import { ensurePrivateDir, untrusted } from '../util/private-fs.js';

export interface PidRecord {
  v: 1;
  service: string;
  pid: number;
  /** POSIX process group of the child (its own pid: spawned detached); null on Windows. */
  pgid: number | null;
  startTime: string;
  command: string;
  startedAt: string;
  /** The app that spawned it, to tell a crashed app from a second live one. */
  appPid: number;
  appStartTime: string | null;
}

export class PidFiles {
  /** Records ignored by the last readAll, and why (for the log). */
  ignored: string[] = [];

  constructor(readonly dir: string) {}

  file(id: string): string {
    return path.join(this.dir, `${id}.pid`);
  }

  write(rec: PidRecord): void {
    ensurePrivateDir(this.dir);
    const tmp = `${this.file(rec.service)}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(rec) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, this.file(rec.service));
  }

  remove(id: string): void {
    fs.rmSync(this.file(id), { force: true });
  }

  /**
   * Every readable record we can trust; unreadable files are removed (they cannot name a process
   * safely). A record is trusted only when it and its folder are ours and nobody else may write them:
   * another user must not be able to make us stop a process of their choosing.
   */
  readAll(): PidRecord[] {
    this.ignored = [];
    let names: string[];
    try {
      const why = untrusted(fs.lstatSync(this.dir));
      if (why) {
        this.ignored.push(`${this.dir} ${why}: no PID file in it is trusted`);
        return [];
      }
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: PidRecord[] = [];
    for (const n of names) {
      if (!n.endsWith('.pid')) continue;
      const full = path.join(this.dir, n);
      try {
        const why = untrusted(fs.lstatSync(full));
        if (why) {
          this.ignored.push(`${full} ${why}`);
          continue;
        }
        const rec = JSON.parse(fs.readFileSync(full, 'utf8')) as PidRecord;
        if (
          rec.v === 1 &&
          Number.isInteger(rec.pid) &&
          rec.pid > 0 &&
          typeof rec.startTime === 'string'
        )
          out.push(rec);
        else fs.rmSync(full, { force: true });
      } catch {
        fs.rmSync(full, { force: true });
      }
    }
    return out;
  }
}

export type ReapPlan =
  { action: 'skip'; reason: string } | { action: 'reap'; pids: number[]; reason: string };

/**
 * Pure: which processes of a stale record to stop, given the process table.
 * - The spawning app still alive (same start time): it owns them; skip.
 * - The recorded pid alive with the recorded start time: reap it and its group/tree.
 * - The pid reused by another process (different start time): never touch that process; its
 *   group is someone else's too.
 * - The pid gone: reap group members left over (orphaned runners), which started after it.
 */
export function planReap(
  rec: PidRecord,
  procs: ProcInfo[],
  appAlive: boolean,
  usesGroups: boolean,
): ReapPlan {
  if (appAlive)
    return {
      action: 'skip',
      reason: `the app that started it (pid ${rec.appPid}) is still running`,
    };
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const leader = byPid.get(rec.pid);
  const pids = new Set<number>();
  if (leader && leader.startTime !== rec.startTime) {
    return {
      action: 'skip',
      reason: `pid ${rec.pid} now belongs to another process (start time ${leader.startTime}, recorded ${rec.startTime})`,
    };
  }
  if (leader) pids.add(leader.pid);
  if (usesGroups && rec.pgid) {
    for (const p of procs) if (p.pgid === rec.pgid) pids.add(p.pid);
  }
  if (leader) {
    // Descendants that left the group (setsid) still hang off the leader.
    const queue = [leader.pid];
    while (queue.length) {
      const parent = queue.shift()!;
      for (const p of procs) {
        if (p.ppid === parent && !pids.has(p.pid)) {
          pids.add(p.pid);
          queue.push(p.pid);
        }
      }
    }
  }
  if (pids.size === 0) return { action: 'skip', reason: 'nothing of it is left' };
  return {
    action: 'reap',
    pids: [...pids],
    reason: leader
      ? `pid ${rec.pid} is still running`
      : `pid ${rec.pid} is gone but ${pids.size} process(es) of its group remain`,
  };
}
