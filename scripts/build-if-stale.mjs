// `npm run build` only when a source is newer than what it built: `npm run headless` (and `npm start`,
// `npm run demo`, `npm run pack:linux`) then start at once when nothing changed. A stat of every
// source file takes milliseconds; tsc's own --incremental still spends seconds loading the program.
// Usage: node scripts/build-if-stale.mjs [--check]   (--check: exit 1 if stale, build nothing)

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What `npm run build` reads, and the outputs it always rewrites (tsc and vite rewrite every file).
const SOURCES = [
  'main',
  'renderer',
  'preload',
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'vite.config.ts',
  'vite.preload.config.ts',
];
const OUTPUTS = ['dist/main/headless.js', 'dist/renderer/index.html', 'dist/preload'];

function newest(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const e of fs.readdirSync(p)) max = Math.max(max, newest(path.join(p, e)));
  return max;
}

function oldestOutput(root) {
  let min = Infinity;
  for (const o of OUTPUTS) {
    const t = newest(path.join(root, o));
    if (t === 0) return 0; // missing: never built
    min = Math.min(min, t);
  }
  return min;
}

/** The first source newer than the build, or null when dist/ is up to date. */
export function staleReason(root = repoRoot) {
  const built = oldestOutput(root);
  if (built === 0) return 'dist/ is missing';
  for (const s of SOURCES) {
    if (newest(path.join(root, s)) > built) return `${s} changed since the last build`;
  }
  return null;
}

/**
 * One build at a time: test files run in parallel and may each find dist/ stale. A second caller
 * waits for the first (a lock folder holding its pid), then finds dist/ fresh and builds nothing.
 */
function withBuildLock(root, fn) {
  const lock = path.join(root, 'node_modules', '.unamentis-build.lock');
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {
        /* being written or removed */
      }
      let alive = true;
      if (Number.isInteger(owner) && owner > 0) {
        try {
          process.kill(owner, 0);
        } catch (e) {
          alive = e.code === 'EPERM';
        }
      }
      if (!alive || Date.now() > deadline) fs.rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds when stale; returns the exit status (0 when nothing had to be done). */
export function buildIfStale(root = repoRoot, log = (m) => process.stderr.write(m + '\n')) {
  if (!staleReason(root)) return 0;
  return withBuildLock(root, () => {
    const reason = staleReason(root); // another process may have built it while we waited
    if (!reason) return 0;
    log(`building (${reason})…`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['run', 'build', '--silent'], {
      cwd: root,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
    return r.status ?? 1;
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const reason = staleReason();
    if (reason) console.log(reason);
    process.exit(reason ? 1 : 0);
  }
  process.exit(buildIfStale());
}
