// `npm run pack:linux`: the Linux package an admin installs, release/unamentis-server-<version>-linux.tar.gz.
// It unpacks to unamentis-server/ (meant for /opt): the compiled core and dashboard, the production
// dependencies (pure JavaScript: one tarball for every architecture; Node >= 20.19 comes from the
// system), the bin command and the systemd units. packaging/linux/README.md says how to install it.
// Usage: node scripts/pack-linux.mjs [--out DIR]   (prints the tarball's path)

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildIfStale, repoRoot } from './build-if-stale.mjs';

// Bundled into dist/renderer by Vite: the server never loads them.
const RENDERER_ONLY = new Set(['react', 'react-dom', 'scheduler', 'qrcode']);

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const outDir = path.resolve(values.out ?? path.join(repoRoot, 'release'));
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));

if (buildIfStale() !== 0) process.exit(1);

/**
 * What the server loads at run time, as installed (npm's own resolution, no network): the production
 * dependencies minus the renderer-only ones, with everything they depend on.
 */
function productionModules() {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--json', '--long'], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const nm = path.join(repoRoot, 'node_modules') + path.sep;
  const paths = new Set();
  const walk = (node) => {
    if (!node?.path?.startsWith(nm) || paths.has(node.path)) return;
    paths.add(node.path);
    for (const dep of Object.values(node.dependencies ?? {})) walk(dep);
  };
  for (const [name, node] of Object.entries(JSON.parse(out).dependencies ?? {}))
    if (!RENDERER_ONLY.has(name)) walk(node);
  return [...paths].map((p) => p.slice(nm.length)).sort();
}

const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'unamentis-pack-'));
try {
  const top = path.join(stage, 'unamentis-server');
  const copy = (from, to, filter) =>
    fs.cpSync(path.join(repoRoot, from), path.join(top, to ?? from), { recursive: true, filter });
  // dist/main/shell is the Electron app: not part of the headless package.
  copy(
    'dist/main',
    'dist/main',
    (src) => !src.includes(`${path.sep}dist${path.sep}main${path.sep}shell`),
  );
  copy('dist/renderer');
  for (const rel of productionModules()) copy(path.join('node_modules', rel));
  copy('packaging/linux/unamentis-server.service', 'systemd/unamentis-server.service');
  copy('packaging/linux/user/unamentis-server.service', 'systemd/user/unamentis-server.service');
  copy('packaging/linux/README.md', 'README.md');
  const deps = Object.fromEntries(
    Object.entries(pkg.dependencies).filter(([name]) => !RENDERER_ONLY.has(name)),
  );
  const slim = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    license: pkg.license,
    private: true,
    type: 'module',
    engines: pkg.engines,
    bin: pkg.bin,
    dependencies: deps,
  };
  fs.writeFileSync(path.join(top, 'package.json'), JSON.stringify(slim, null, 2) + '\n');
  fs.chmodSync(path.join(top, 'dist/main/headless.js'), 0o755);
  fs.mkdirSync(path.join(top, 'bin'));
  fs.symlinkSync('../dist/main/headless.js', path.join(top, 'bin/unamentis-server'));

  fs.mkdirSync(outDir, { recursive: true });
  const tarball = path.join(outDir, `unamentis-server-${pkg.version}-linux.tar.gz`);
  // Owned by root, sorted, no build-machine names: the same inputs give the same listing.
  execFileSync('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-czf',
    tarball,
    '-C',
    stage,
    'unamentis-server',
  ]);
  console.log(tarball);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
