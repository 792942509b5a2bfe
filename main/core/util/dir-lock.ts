// One server per data folder: two would fight over the settings file, the PID files and the ports.
// The lock file holds the owner's pid (scripts and tests read it); a lock is taken over when its owner
// is gone (crash, SIGKILL), when the pid now belongs to a process that started after the lock was
// written or is no Node/Electron process (issue #20: a stale lock naming any live pid blocked every
// start until deleted by hand), when that process is another user's, or when the lock file itself is
// not ours or writable by others.

import fs from 'node:fs';
import path from 'node:path';
import { untrusted } from './private-fs.js';

export class DataDirLockedError extends Error {}

/** True only for a live process of this user (EPERM: another user's, so not a server of ours). */
function aliveAndOurs(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Linux: when the process started (ms since the epoch, from /proc: boot time + field 22); else null. */
export function processStartedAt(pid: number): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return null;
    return btime * 1000 + (ticks / 100) * 1000; // USER_HZ is 100 on every Linux ABI Node runs on
  } catch {
    return null;
  }
}

/**
 * Whether the lock's owner is a live server: a process of ours, started before the lock was written
 * (a later one got the pid after the owner died), and, on Linux, a Node/Electron process.
 */
function ownerLive(text: string, lockStat: fs.Stats, self: number): number | null {
  const owner = Number(text.trim());
  if (!Number.isInteger(owner) || owner <= 0 || owner === self) return null;
  if (untrusted(lockStat)) return null;
  if (!aliveAndOurs(owner)) return null;
  const started = processStartedAt(owner);
  if (started !== null && started > lockStat.mtimeMs + 2_000) return null; // the pid was reused
  if (process.platform === 'linux') {
    try {
      if (!/node|electron|unamentis/i.test(fs.readFileSync(`/proc/${owner}/cmdline`, 'utf8')))
        return null;
    } catch {
      return null;
    }
  }
  return owner;
}

/** Takes the lock or throws DataDirLockedError naming the owner. Returns the release function. */
export function lockDataDir(dataDir: string, pid = process.pid): () => void {
  const file = path.join(dataDir, 'server.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, String(pid), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(pid)) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A full disk: the file was made but its pid could not be written. Keep the empty file as our
      // lock rather than refuse to start (issue #20); a later start takes an empty lock as stale.
      if (
        (code === 'ENOSPC' || code === 'EDQUOT') &&
        fs.existsSync(file) &&
        fs.statSync(file).size === 0
      ) {
        return () => fs.rmSync(file, { force: true });
      }
      if (code !== 'EEXIST') throw err;
    }
    let owner: number | null = null;
    try {
      owner = ownerLive(fs.readFileSync(file, 'utf8'), fs.lstatSync(file), pid);
    } catch {
      // vanished meanwhile: try again
    }
    if (owner !== null) {
      throw new DataDirLockedError(
        `Another UnaMentis Server (pid ${owner}) is already using ${dataDir}. Stop it, or use another --data-dir.`,
      );
    }
    fs.rmSync(file, { force: true }); // stale: its owner died without cleaning up, or it is not a server of ours
  }
  throw new DataDirLockedError(`Could not lock ${dataDir}`);
}
