// `npm start`: builds if a source changed, then runs the Electron tray app. Where Electron cannot be
// had (its binary download failed or was skipped, no display, missing libraries) it says so in one
// sentence and names `npm run headless`, instead of electron's own retry-download and stack traces.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildIfStale, repoRoot } from './build-if-stale.mjs';

const HEADLESS =
  '`npm run headless` runs the same server without Electron (the dashboard in a browser).';

/** Where node_modules/electron/index.js would look, without its download-on-require fallback. */
export function electronBinary(env = process.env) {
  let dir;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { error: 'the electron package is not installed (run npm install)' };
  }
  const pathFile = path.join(dir, 'path.txt');
  const rel = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, 'utf8').trim() : null;
  // ELECTRON_OVERRIDE_DIST_PATH: electron's own override (index.js), honoured the same way.
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const bin = path.join(env.ELECTRON_OVERRIDE_DIST_PATH, rel || 'electron');
    return fs.existsSync(bin)
      ? { bin }
      : { error: `Electron's binary is not at ${bin} (ELECTRON_OVERRIDE_DIST_PATH)` };
  }
  if (!rel || !fs.existsSync(path.join(dir, 'dist', rel))) {
    return {
      error:
        "Electron's binary is not installed (its download during npm install failed or was skipped; `npx install-electron` fetches it)",
    };
  }
  return { bin: path.join(dir, 'dist', rel) };
}

const found = electronBinary();
if (found.error) {
  console.error(`npm start: ${found.error}; ${HEADLESS}`);
  process.exit(69);
}
const built = buildIfStale();
if (built !== 0) process.exit(built);

// Electron's stderr is passed through, but kept to name the cause if it fails at once.
const started = Date.now();
const child = spawn(found.bin, ['.', ...process.argv.slice(2)], {
  cwd: repoRoot,
  stdio: ['inherit', 'inherit', 'pipe'],
});
let early = '';
child.stderr.on('data', (d) => {
  if (Date.now() - started < 15_000 && early.length < 20_000) early += d;
  process.stderr.write(d);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('error', (err) => {
  console.error(`npm start: Electron could not be run (${err.message}); ${HEADLESS}`);
  process.exit(69);
});
child.on('exit', (code, signal) => {
  if (code && Date.now() - started < 15_000) {
    const cause = /Missing X server|cannot open display|\$DISPLAY/i.test(early)
      ? 'there is no display (no X server or Wayland)'
      : /error while loading shared libraries: (\S+)/.exec(early)?.[1]
        ? `a system library is missing (${/error while loading shared libraries: (\S+?):/.exec(early)?.[1]})`
        : `it exited with code ${code}`;
    console.error(`npm start: Electron could not start: ${cause}; ${HEADLESS}`);
    process.exit(69);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
