// The README's commands as a newcomer runs them: `npm start` where Electron cannot be had, and
// `npm run headless` (no rebuild when nothing changed; SIGTERM to npm stops the server too).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/headless.js';

const dirs: string[] = [];
beforeAll(() => {
  // Bring dist/ up to date once, so the runs below measure the no-rebuild path.
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/build-if-stale.mjs')], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  expect(r.status).toBe(0);
}, 240_000);
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function npm(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync('npm', args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('npm start without Electron', () => {
  it('says in one sentence that Electron is missing and that npm run headless runs the same server', () => {
    const empty = tempDir('unamentis-noelectron-');
    dirs.push(empty);
    const r = npm(['start', '--silent'], { ELECTRON_OVERRIDE_DIST_PATH: empty });
    expect(r.status).toBe(69);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^npm start: Electron's binary is not at .*; `npm run headless` runs the same server/,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('names the cause when Electron starts but cannot open a display', () => {
    const r = npm(['start', '--silent'], {
      ELECTRON_OVERRIDE_DIST_PATH: path.join(repoRoot, 'test/fixtures/electron-no-display'),
    });
    expect(r.status).toBe(69);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      'npm start: Electron could not start: there is no display (no X server or Wayland); `npm run headless` runs the same server without Electron (the dashboard in a browser).',
    );
  });
});

describe('npm run headless', () => {
  it('starts without rebuilding, and SIGTERM to npm leaves no server behind', async () => {
    const dataDir = tempDir('unamentis-npmrun-');
    dirs.push(dataDir);
    const child = spawn('npm', ['run', 'headless', '--', '--data-dir', dataDir, '--port', '0'], {
      cwd: repoRoot,
      env: { ...process.env, UNAMENTIS_MDNS_INTERFACES: 'lo' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.once('exit', r));
    const end = Date.now() + 60_000;
    while (!out.includes('Dashboard: ')) {
      if (Date.now() > end || child.exitCode !== null)
        throw new Error(`no dashboard line:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).not.toContain('building (');
    const serverPid = Number(fs.readFileSync(path.join(dataDir, 'server.lock'), 'utf8'));
    expect(serverPid).not.toBe(child.pid);
    child.kill('SIGTERM');
    await exited;
    const gone = Date.now() + 20_000;
    const alive = () => {
      try {
        process.kill(serverPid, 0);
        return true;
      } catch {
        return false;
      }
    };
    while (alive() && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    if (alive()) process.kill(serverPid, 'SIGKILL');
    expect(alive()).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'server.lock'))).toBe(false); // it stopped cleanly, releasing the lock
  });
});

describe('npm run demo', () => {
  it('serves a healthy dashboard from the fakes, and stopping npm removes it all', async () => {
    const child = spawn('npm', ['run', 'demo'], {
      cwd: repoRoot,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.once('exit', r));
    const end = Date.now() + 90_000;
    let m: RegExpExecArray | null;
    while (!(m = /Dashboard: (http:\/\/[^/]+\/)#token=(\S+)/.exec(out))) {
      if (Date.now() > end || child.exitCode !== null)
        throw new Error(`no dashboard line:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(out).toContain('DEMO: fake Ollama, VibeVoice, Piper and GPU');
    const dataDir = path.dirname(/Settings:\s+(\S+)/.exec(out)![1]!);
    type Status = {
      host: { name: string };
      services: { id: string; status: string; pid?: number | null }[];
      gpu: { gpus: { name: string }[] };
    };
    let status: Status | null = null;
    while (Date.now() < end) {
      const res = await fetch(`${m[1]}api/status`, {
        headers: { authorization: `Bearer ${m[2]}` },
      });
      status = (await res.json()) as Status;
      if (
        status.services.filter((s) => s.status === 'running').length === 3 &&
        status.gpu.gpus.length === 1
      )
        break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(
      status!.services
        .filter((s) => s.status === 'running')
        .map((s) => s.id)
        .sort(),
    ).toEqual(['ollama', 'piper', 'vibevoice']);
    expect(status!.gpu.gpus[0]!.name).toContain('(demo)');
    expect(status!.host.name).toBe('Demo (fake services)');
    const pids = status!.services.map((s) => s.pid).filter((p): p is number => !!p);
    child.kill('SIGTERM');
    await exited;
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const gone = Date.now() + 30_000;
    while ((pids.some(alive) || fs.existsSync(dataDir)) && Date.now() < gone)
      await new Promise((r) => setTimeout(r, 100));
    for (const p of pids.filter(alive)) process.kill(p, 'SIGKILL');
    expect(pids.filter(alive)).toEqual([]);
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});
