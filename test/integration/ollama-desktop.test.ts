// Next to the Ollama desktop app (test/fixtures/fake-ollama-desktop.mjs copies ollama/ollama app/server):
// it runs its own `ollama serve`, restarts it 1 s after it exits, and once kills every other
// `ollama serve` when its own cannot get the port. We must adopt its server, never race it, carry
// its settings over on "Take over", and keep preloaded models as long as hibernation says.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fakeOllama,
  FAST,
  fakeState,
  fixtures,
  freePort,
  makeHarness,
  tempDir,
  until,
  type Harness,
} from './supervisor-helpers.js';

let h: Harness | null = null;
const children: ChildProcess[] = [];
afterEach(async () => {
  await h?.close();
  h = null;
  for (const c of children.splice(0)) {
    if (c.exitCode === null) c.kill('SIGTERM');
    await new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)));
  }
});

interface Desktop {
  child: ChildProcess;
  events: { event: string; pid?: number; pids?: number[] }[];
}

/** Starts the app and waits until it runs as `Ollama` (the name the supervisor looks for). */
async function startDesktop(port: number, env: Record<string, string> = {}): Promise<Desktop> {
  const child = spawn(process.execPath, [path.join(fixtures, 'fake-ollama-desktop.mjs')], {
    env: { ...process.env, OLLAMA_HOST: `127.0.0.1:${port}`, FAKE_MODEL_LOAD_MS: '20', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const d: Desktop = { child, events: [] };
  readline.createInterface({ input: child.stdout! }).on('line', (l) => {
    if (l.startsWith('FAKE ')) d.events.push(JSON.parse(l.slice(5)));
  });
  // Not just its pid: a Node process is named `node` until its code runs, which under load can
  // outlast the supervisor's first look (the real app is named `Ollama` from exec).
  await until(() => d.events.some((e) => e.event === 'app'), 15_000);
  return d;
}

const startsOfOurs = (hh: Harness) =>
  hh.sup
    .logs('ollama', 500)
    .filter((l) => l.stream === 'supervisor' && l.text.startsWith('starting:')).length;

describe('the Ollama desktop app', () => {
  it('running but its server not up yet: we start no second ollama serve and adopt its server', async () => {
    const port = await freePort();
    const desktop = await startDesktop(port);
    h = makeHarness({
      services: { ollama: fakeOllama(port) },
      options: { ollamaDesktopLog: null },
    });
    await h.sup.start();
    await until(
      () => h!.sup.get('ollama')!.status === 'external' && h!.sup.get('ollama')!.health?.ok,
      15_000,
    );
    // We adopted the server that answers on the port, and it is the app's (its one server: ours
    // never started, so its reaper never fired and nothing was restarted).
    expect(startsOfOurs(h)).toBe(0);
    expect(desktop.events.some((e) => e.event === 'reaped')).toBe(false);
    const servers = desktop.events.filter((e) => e.event === 'server');
    expect(servers).toHaveLength(1);
    expect(h.sup.get('ollama')!.pid).toBe((await fakeState(port)).pid);
    expect(h.sup.get('ollama')!.pid).toBe(servers[0]!.pid);
  });

  it('the app restarts its server between two health checks: we show and watch the new one', async () => {
    const port = await freePort();
    const desktop = await startDesktop(port);
    h = makeHarness({
      services: { ollama: fakeOllama(port) },
      // Checks never fail often enough to give up on it (as with the real 5 s interval, which the
      // app's 1 s restart fits inside): only noticing the pid died can find the new server.
      options: { ollamaDesktopLog: null, timings: { ...FAST, hungAfterFailures: 1000 } },
    });
    await h.sup.start();
    await until(
      () => h!.sup.get('ollama')!.status === 'external' && h!.sup.get('ollama')!.health?.ok,
      15_000,
    );
    const first = h.sup.get('ollama')!.pid!;
    expect(first).toBe((await fakeState(port)).pid);
    // It crashes (not exit 1, so no reap); the app starts another 1 s later.
    process.kill(first, 'SIGKILL');
    const second = await until(
      () => desktop.events.filter((e) => e.event === 'server')[1]?.pid,
      15_000,
    );
    await until(() => h!.sup.get('ollama')!.pid === second, 15_000);
    expect((await fakeState(port)).pid).toBe(second);
    expect(h.sup.get('ollama')!.status).toBe('external');
    expect(startsOfOurs(h)).toBe(0);
  });

  it('a desktop app serving another port is no rival: ours starts (and other tests on this machine are not blocked)', async () => {
    await startDesktop(await freePort());
    const port = await freePort();
    h = makeHarness({
      services: { ollama: fakeOllama(port) },
      options: { ollamaDesktopLog: null },
    });
    await h.sup.start();
    expect(await h.sup.waitReady('ollama', 10_000)).toBe(true);
    expect(h.sup.get('ollama')!.status).toBe('running');
  });

  it('started after ours: its reaper kills ours once; we then adopt its server instead of fighting it', async () => {
    const port = await freePort();
    h = makeHarness({
      services: { ollama: fakeOllama(port) },
      options: { ollamaDesktopLog: null },
    });
    await h.sup.start();
    expect(await h.sup.waitReady('ollama', 10_000)).toBe(true);
    const ours = h.sup.get('ollama')!.pid!;
    const desktop = await startDesktop(port);
    const reaped = await until(() => desktop.events.find((e) => e.event === 'reaped'), 15_000);
    expect(reaped.pids).toContain(ours);
    await until(
      () => h!.sup.get('ollama')!.status === 'external' && h!.sup.get('ollama')!.health?.ok,
      15_000,
    );
    // The app's second server (after the reap) holds the port, and stays: nobody is killed again.
    const servers = desktop.events.filter((e) => e.event === 'server');
    expect(h.sup.get('ollama')!.pid).toBe(servers.at(-1)!.pid);
    await new Promise((r) => setTimeout(r, 2500));
    expect(desktop.events.filter((e) => e.event === 'server')).toHaveLength(servers.length);
    expect(startsOfOurs(h)).toBe(1);
    expect(h.sup.get('ollama')!.status).toBe('external');
  });

  it('Take over quits the app first and keeps its model folder and context length', async () => {
    const port = await freePort();
    const dir = tempDir('ollama-desktop-');
    const models = path.join(dir, 'models on D');
    fs.mkdirSync(models);
    const log = path.join(dir, 'server.log');
    const desktop = await startDesktop(port, {
      FAKE_DESKTOP_LOG: log,
      FAKE_DESKTOP_MODELS: models,
      FAKE_DESKTOP_CONTEXT_LENGTH: '16384',
    });
    h = makeHarness({ services: { ollama: fakeOllama(port) }, options: { ollamaDesktopLog: log } });
    await h.sup.start();
    await until(
      () => h!.sup.get('ollama')!.status === 'external' && h!.sup.get('ollama')!.health?.ok,
      15_000,
    );
    await h.sup.takeOver('ollama');
    expect(await h.sup.waitReady('ollama', 10_000)).toBe(true);
    expect(h.sup.get('ollama')!.status).toBe('running');
    await until(() => desktop.child.exitCode !== null, 10_000);
    const env = (await fakeState(port)).env!;
    expect([env.OLLAMA_MODELS, env.OLLAMA_CONTEXT_LENGTH]).toEqual([models, '16384']);
    expect(h.ctx.settings.get().services.ollama!.options).toMatchObject({
      modelsDir: models,
      contextLength: 16384,
    });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("an adopted server's preload gets hibernation's keep-alive, not the app's 5 minutes", async () => {
    const port = await freePort();
    // Someone else's `ollama serve` (the desktop app's) with Ollama's default keep-alive.
    const ext = spawn(process.execPath, [path.join(fixtures, 'fake-ollama.mjs'), 'serve'], {
      env: {
        ...process.env,
        OLLAMA_HOST: `127.0.0.1:${port}`,
        OLLAMA_KEEP_ALIVE: '5m',
        FAKE_MODEL_LOAD_MS: '20',
      },
      stdio: 'ignore',
    });
    children.push(ext);
    await until(
      async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => null))?.ok,
      10_000,
    );
    h = makeHarness({
      services: { ollama: fakeOllama(port) },
      preload: ['mistral:7b'],
      options: { ollamaDesktopLog: null },
      hibernation: true,
    });
    await h.start();
    const ps = await until(async () => {
      const j = (await (await fetch(`http://127.0.0.1:${port}/api/ps`)).json()) as {
        models: { name: string; expires_at: string }[];
      };
      return j.models.find((m) => m.name === 'mistral:7b');
    }, 15_000);
    const left = (Date.parse(ps.expires_at) - Date.now()) / 1000;
    // hibernation.coldAfterSeconds (1800) + 60 s: the staircase decides when it goes.
    expect(left).toBeGreaterThan(1800);
    expect(left).toBeLessThanOrEqual(1860);
  });
});
