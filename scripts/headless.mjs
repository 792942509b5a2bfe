// `npm run headless`: builds only if a source changed, then runs the server in this same process.
// npm runs a script as `sh -c '…'` and forwards SIGTERM/SIGINT to that shell only; the shell dies and
// does not pass them on (dash does not exec the command). So when our parent goes away we stop as if
// the signal had reached us: nothing is left serving with parent 1. Only under npm: a server that an
// admin deliberately detached (`unamentis-server &`, disown) keeps running.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfStale, repoRoot } from './build-if-stale.mjs';

const status = buildIfStale();
if (status !== 0) {
  console.error('unamentis-server: the build failed (see above); nothing was started.');
  process.exit(status);
}
if (process.env.npm_lifecycle_event) {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
  }, 250).unref();
}
await import(pathToFileURL(path.join(repoRoot, 'dist/main/headless.js')).href);
