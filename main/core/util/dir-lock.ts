// One server per data folder: two would fight over the settings file, the PID files and the ports.
// The lock file holds the owner's pid; a lock whose owner is gone (crash, SIGKILL) is taken over.

import fs from 'node:fs';
import path from 'node:path';

export class DataDirLockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(fs.readFileSync(file, 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== pid && alive(owner)) {
      throw new DataDirLockedError(
        `Another UnaMentis Server (pid ${owner}) is already using ${dataDir}. Stop it, or use another --data-dir.`,
      );
    }
    fs.rmSync(file, { force: true }); // stale: its owner died without cleaning up
  }
  throw new DataDirLockedError(`Could not lock ${dataDir}`);
}
