// `npm run headless`: builds only if a source changed, then runs the server in this same process
// (no wrapper child), and stops it when npm is stopped (scripts/npm-parent.mjs).

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfStale, repoRoot } from './build-if-stale.mjs';
import { npmWentAway, stopWhenNpmGoesAway } from './npm-parent.mjs';

const status = buildIfStale();
if (status !== 0) {
  console.error('unamentis-server: the build failed (see above); nothing was started.');
  process.exit(status);
}
if (npmWentAway()) process.exit(0); // stopped while building
stopWhenNpmGoesAway();
await import(pathToFileURL(path.join(repoRoot, 'dist/main/headless.js')).href);
