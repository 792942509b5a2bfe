// `npm install` on Node 20 prints EBADENGINE for five packages that declare Node >= 22.12. All five are
// Electron's own tooling (the npm wrapper, its downloader and unzipper, electron-builder's rebuild and
// ABI table); Electron 45 itself runs Node 22. We keep the pinned versions and show here, on the Node
// running the tests, that each one does its job. A new package that refuses this Node fails the first
// test, so the README's list stays true.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/headless.js';

const require_ = (await import('node:module')).createRequire(import.meta.url);
const semver = require_('semver') as { satisfies(v: string, r: string): boolean };

/** Every installed package whose engines.node excludes this Node. */
function refusing(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.name.startsWith('@')) {
        walk(p);
        continue;
      }
      try {
        const j = JSON.parse(fs.readFileSync(path.join(p, 'package.json'), 'utf8')) as {
          name: string;
          engines?: { node?: string };
        };
        if (j.engines?.node && !semver.satisfies(process.version, j.engines.node)) out.push(j.name);
      } catch {
        /* not a package */
      }
      if (fs.existsSync(path.join(p, 'node_modules'))) walk(path.join(p, 'node_modules'));
    }
  };
  walk(path.join(repoRoot, 'node_modules'));
  return [...new Set(out)].sort();
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'unamentis-engines-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe(`packages whose engines exclude Node ${process.version} still work on it`, () => {
  const list = refusing();

  it('the list is the known Electron tooling (nothing else refuses this Node)', () => {
    if (semver.satisfies(process.version, '>=22.12')) {
      expect(list).toEqual([]);
      return;
    }
    expect(list).toEqual([
      '@electron-internal/extract-zip',
      '@electron/get',
      '@electron/rebuild',
      'electron',
      'node-abi',
    ]);
  });

  it('electron: the npm wrapper loads and names its binary (ELECTRON_OVERRIDE_DIST_PATH: no download)', () => {
    const out = execFileSync(
      process.execPath,
      ['-e', "process.stdout.write(require('electron'))"],
      {
        cwd: repoRoot,
        env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: tmp },
        encoding: 'utf8',
      },
    );
    expect(path.dirname(out)).toBe(tmp);
  }, 30_000);

  it('@electron/get: downloads a file (from a loopback server)', async () => {
    const { FetchDownloader } = await import('@electron/get');
    const server = http
      .createServer((_q, r) => r.end('electron-v45.zip bytes'))
      .listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const target = path.join(tmp, 'download.bin');
      await new FetchDownloader().download(
        `http://127.0.0.1:${(server.address() as { port: number }).port}/e.zip`,
        target,
        {},
      );
      expect(fs.readFileSync(target, 'utf8')).toBe('electron-v45.zip bytes');
    } finally {
      server.close();
    }
  });

  it('@electron-internal/extract-zip: unpacks a zip', async () => {
    const { extract } = (await import('@electron-internal/extract-zip')) as unknown as {
      extract: (zip: string, o: { dir: string }) => Promise<void>;
    };
    const zip = path.join(tmp, 'a.zip');
    execFileSync('python3', [
      '-c',
      'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z: z.writestr("dir/hello.txt", "hi")',
      zip,
    ]);
    const dir = path.join(tmp, 'unzipped');
    await extract(zip, { dir });
    expect(fs.readFileSync(path.join(dir, 'dir/hello.txt'), 'utf8')).toBe('hi');
  });

  it('node-abi: knows Electron 45', async () => {
    const { getAbi } = require_('node-abi') as { getAbi: (v: string, runtime: string) => string };
    expect(Number(getAbi('45.4.1', 'electron'))).toBeGreaterThan(100);
  });

  it('@electron/rebuild: runs on a project without native modules', async () => {
    const { rebuild } = await import('@electron/rebuild');
    const project = path.join(tmp, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'x', version: '1.0.0' }),
    );
    await rebuild({ buildPath: project, electronVersion: '45.4.1' });
  });
});
