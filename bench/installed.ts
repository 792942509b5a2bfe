// The command an admin runs: `npm run pack:linux`'s tarball unpacked into a temp folder, so a bench
// measures bin/unamentis-server from its process start (no npm, no tsx, no source tree).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../test/helpers/headless.js';

export interface Installed {
  bin: string;
  /** The same entry file, for a baseline run as `node <file>` (no shebang flags). */
  entry: string;
  remove(): void;
}

export function installPackage(): Installed {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-installed-'));
  const tarball = execFileSync(
    process.execPath,
    [path.join(repoRoot, 'scripts/pack-linux.mjs'), '--out', root],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  ).trim();
  execFileSync('tar', ['-C', root, '-xzf', tarball]);
  const top = path.join(root, 'unamentis-server');
  return {
    bin: path.join(top, 'bin/unamentis-server'),
    entry: path.join(top, 'dist/main/headless.js'),
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** VmRSS of a live process in MB (Linux), or null. */
export function rssMB(pid: number): number | null {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) a live process has used so far, in ms (Linux /proc), or null. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) in clock ticks; 100 per second on Linux.
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return null;
  }
}
