// The supervisor against real fake-service processes: ready = healthy, crash → back-off respawn,
// crash loop → failed, hung → restarted, SIGTERM ignored → tree killed, nothing left after stop.
// It reports ready and loads no model itself (that is hibernation's decision): the tests that need
// a runner grandchild load one as a client would.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAST,
  alive,
  fakeOllama,
  fakeState,
  freePort,
  makeHarness,
  post,
  until,
  type Harness,
} from './supervisor-helpers.js';

let h: Harness | null = null;
/** A client's load (an empty generate, as Ollama's own CLI does): the fake starts a runner per model. */
const load = async (port: number, ...models: string[]) => {
  for (const model of models)
    expect((await post(port, '/api/generate', { model, prompt: '', stream: false })).status).toBe(
      200,
    );
};
afterEach(async () => {
  await h?.close();
  h = null;
});

const status = (id = 'ollama') => h!.sup.get(id)?.status;

describe('supervisor lifecycle (fake-ollama)', () => {
  it('is ready only once healthy, passes env, logs to ring and file, and stops the whole tree', async () => {
    const port = await freePort();
    h = makeHarness({
      services: {
        ollama: fakeOllama(
          port,
          { START_DELAY_MS: 300 },
          { options: { keepAlive: '7m', origins: 'app://x' } },
        ),
      },
    });
    await h.sup.start();
    // Spawned but not yet answering: starting, not running.
    await until(() => h!.sup.get('ollama')?.pid);
    expect(status()).toBe('starting');
    expect(await h.sup.waitReady('ollama', 5000)).toBe(true);
    const e = h.sup.get('ollama')!;
    expect(e).toMatchObject({
      status: 'running',
      port,
      restarts: 0,
      lastError: null,
      health: { ok: true },
    });
    expect(h.sup.baseUrl('ollama')).toBe(`http://127.0.0.1:${port}`);

    const st = await fakeState(port);
    expect(st.pid).toBe(e.pid);
    expect(st.env).toMatchObject({
      OLLAMA_HOST: `127.0.0.1:${port}`,
      OLLAMA_KEEP_ALIVE: '7m',
      OLLAMA_ORIGINS: 'app://x',
    });
    // A loaded model: a runner grandchild exists and is part of the tree.
    await load(port, 'mistral:7b');
    const runners = await until(async () => {
      const r = (await fakeState(port)).runners;
      return r.length === 1 ? r : null;
    });
    const tree = await h.sup.processTree('ollama');
    expect(tree).toEqual(expect.arrayContaining([e.pid!, runners[0]!]));

    // The snapshot section carries the entry.
    await until(
      () => h!.ctx.store.get('services').find((s) => s.id === 'ollama')?.status === 'running',
    );
    const logs = h.sup.logs('ollama', 100).map((l) => `${l.stream} ${l.text}`);
    expect(logs.some((l) => l.startsWith('stderr') && l.includes('Listening on 127.0.0.1'))).toBe(
      true,
    );
    // A line of ours about the service (hibernation's "preloaded …") lands in its log, ring and file.
    h.sup.note('ollama', 'preloaded mistral:7b');
    expect(h.sup.logs('ollama', 1)[0]).toMatchObject({
      stream: 'supervisor',
      text: 'preloaded mistral:7b',
    });
    expect(h.sup.logs('ollama', 2)).toHaveLength(2);
    // Our own health checks are in the file, not in the live view; the client's load request is in both.
    expect(logs.some((l) => l.includes('"/api/version"'))).toBe(false);
    await until(() =>
      h!.sup.logs('ollama', 100).some((l) => l.text.includes('POST    "/api/generate"')),
    );

    await h.sup.stopService('ollama');
    expect(status()).toBe('stopped');
    expect(await alive(tree)).toEqual([]);
    expect(fs.existsSync(path.join(h.dataDir, 'run', 'ollama.pid'))).toBe(false);
    await h.close();
    const file = fs.readFileSync(path.join(h.dataDir, 'logs', 'ollama.log'), 'utf8');
    expect(file).toContain('Listening on 127.0.0.1');
    expect(file).toContain('GET     "/api/version"');
    expect(file).toMatch(/supervisor +preloaded mistral:7b/);
  });

  it('reports ready on every start, its own and after a crash, and loads nothing itself (models.preload set)', async () => {
    const port = await freePort();
    h = makeHarness({
      services: { ollama: fakeOllama(port, { MODEL_LOAD_MS: 20 }) },
      preload: ['mistral:7b', 'llama3.2:1b'],
    });
    const readies: string[] = [];
    h.sup.onReady((id) => readies.push(id));
    await h.sup.start();
    expect(await h.sup.waitReady('ollama', 5000)).toBe(true);
    expect(readies).toEqual(['ollama']);
    const pid = h.sup.get('ollama')!.pid;
    await post(port, '/__fake/crash');
    await until(() => status() === 'running' && h!.sup.get('ollama')!.pid !== pid, 5000, 5);
    expect(readies).toEqual(['ollama', 'ollama']);
    await new Promise((r) => setTimeout(r, 500)); // a load would have arrived by now (20 ms each)
    expect(await fakeState(port)).toMatchObject({ runners: [], loaded: [] });
    const requests = h.sup
      .logs('ollama', 1000)
      .filter((l) => /"\/api\/(generate|chat)"/.test(l.text));
    expect(requests).toEqual([]);
  });

  it('respawns a crashed service with growing back-off, and kills the runner it orphaned', async () => {
    const port = await freePort();
    h = makeHarness({
      services: { ollama: fakeOllama(port) },
      options: {
        timings: {
          policy: { initialDelayMs: 150, factor: 2, maxDelayMs: 5000, stableAfterMs: 60_000 },
        },
      },
    });
    await h.sup.start();
    expect(await h.sup.waitReady('ollama', 5000)).toBe(true);
    await load(port, 'mistral:7b');
    const runner = await until(async () => (await fakeState(port)).runners[0]);

    const gaps: number[] = [];
    const waits: number[] = [];
    const respawnAfter: number[] = [];
    let pid = h.sup.get('ollama')!.pid!;
    for (let i = 0; i < 3; i++) {
      await post(port, '/__fake/crash');
      const t0 = Date.now();
      await until(() => status() === 'backoff', 3000, 2);
      const b0 = Date.now();
      expect(h.sup.get('ollama')!.nextRestartInSeconds).toBeGreaterThanOrEqual(0);
      await until(() => status() !== 'backoff', 3000, 2);
      waits.push(Date.now() - b0);
      respawnAfter.push(Date.now() - t0);
      await until(() => status() === 'running' && h!.sup.get('ollama')!.pid !== pid, 5000, 5);
      gaps.push(Date.now() - t0);
      pid = h.sup.get('ollama')!.pid!;
    }
    console.log(
      'back-off waits (ms):',
      waits.join(', '),
      '| crash → running again (ms):',
      gaps.join(', '),
    );
    expect(respawnAfter[0]).toBeLessThan(1000); // the first restart comes within 1 s of the crash
    // 150 → 300 → 600 ms: each wait at least its delay, and doubling.
    expect(waits[0]).toBeGreaterThanOrEqual(140);
    expect(waits[1]).toBeGreaterThanOrEqual(290);
    expect(waits[2]).toBeGreaterThanOrEqual(590);
    expect(waits[2]! - waits[1]!).toBeGreaterThan(waits[1]! - waits[0]!);
    expect(h.sup.get('ollama')).toMatchObject({ restarts: 3, lastError: null });
    // The crashed server's runner did not outlive it.
    expect(await alive([runner])).toEqual([]);
  });

  it('a crash loop ends failed with a notice, bounded in time, CPU and memory', async () => {
    const port = await freePort();
    h = makeHarness({ services: { ollama: fakeOllama(port, { EXIT_AT_ONCE: 3 }) } });
    const rss0 = process.memoryUsage().rss;
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    await h.sup.start();
    await until(() => status() === 'failed', 15_000);
    const elapsed = Date.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const e = h.sup.get('ollama')!;
    expect(e.restarts).toBe(4);
    expect(e.pid).toBeNull();
    expect(e.lastError).toContain('exited with code 3');
    expect(e.lastError).toContain('5 times within 60 s');
    const notice = h.ctx.store.snapshot().notices.find((n) => n.code === 'service_failed');
    expect(notice?.level).toBe('error');
    expect(notice?.message).toContain('Ollama');
    // Back-off 50+100+200+400 ms plus five node starts: a few seconds, not a spin.
    console.log(
      `crash loop: failed after ${elapsed} ms, supervisor CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`,
    );
    expect(elapsed).toBeGreaterThan(700);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(elapsed);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 1024 * 1024);
    // Failed means it stays down: no more spawns.
    const lines = h.sup.logs('ollama', 1000).length;
    await new Promise((r) => setTimeout(r, 600));
    expect(h.sup.logs('ollama', 1000).length).toBe(lines);
    expect(status()).toBe('failed');
    // A start (the user's) tries again.
    await h.sup.startService('ollama');
    expect(['starting', 'backoff']).toContain(status());
  });

  it('restarts a hung service (alive, health check failing N times)', async () => {
    const port = await freePort();
    h = makeHarness({ services: { ollama: fakeOllama(port) } });
    await h.sup.start();
    expect(await h.sup.waitReady('ollama', 5000)).toBe(true);
    const pid = h.sup.get('ollama')!.pid!;
    await post(port, '/__fake/hang');
    await until(() => status() === 'unhealthy', 3000, 10);
    await until(() => status() === 'running' && h!.sup.get('ollama')!.pid !== pid, 8000, 10);
    expect(h.sup.get('ollama')!.restarts).toBe(1);
    expect(await alive([pid])).toEqual([]);
    expect(
      h.sup.logs('ollama', 200).some((l) => l.text.includes('stopped answering its health check')),
    ).toBe(true);
  });

  it('confirms a hang at the recheck pace, not at the full interval', async () => {
    const port = await freePort();
    h = makeHarness({
      services: { ollama: fakeOllama(port) },
      options: { timings: { ...FAST, healthIntervalMs: 4000, recheckMs: 100 } },
    });
    await h.sup.start();
    expect(await h.sup.waitReady('ollama', 5000)).toBe(true);
    const pid = h.sup.get('ollama')!.pid!;
    await post(port, '/__fake/hang');
    await until(() => status() === 'unhealthy', 6000, 10);
    const t0 = Date.now();
    await until(() => h!.sup.get('ollama')!.pid !== pid, 6000, 10);
    // Two more failed checks, each 100 ms + a 300 ms timeout, then the stop: well under one 4 s interval.
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(h.sup.logs('ollama', 200).some((l) => l.text.includes('3 failures in a row'))).toBe(
      true,
    );
  });

  it('kills the whole tree of a service that ignores SIGTERM, after the stop timeout', async () => {
    const port = await freePort();
    h = makeHarness({ services: { ollama: fakeOllama(port, { IGNORE_SIGTERM: 1 }) } });
    await h.sup.start();
    expect(await h.sup.waitReady('ollama', 5000)).toBe(true);
    await load(port, 'mistral:7b', 'llama3.2:1b');
    await until(async () => (await fakeState(port)).runners.length === 2);
    const tree = await h.sup.processTree('ollama');
    expect(tree.length).toBe(3);
    const t0 = Date.now();
    await h.sup.stopService('ollama');
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(950); // waited the 1 s timeout …
    expect(took).toBeLessThan(4000); // … then killed
    expect(await alive(tree)).toEqual([]);
    expect(status()).toBe('stopped');
    expect(h.sup.logs('ollama', 50).some((l) => l.text.includes('killing its process tree'))).toBe(
      true,
    );
  });

  it('restartService gives a new process; stopAll leaves nothing of any tree', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    h = makeHarness({
      services: {
        ollama: fakeOllama(p1),
        extra: {
          ...fakeOllama(p2),
          env: { OLLAMA_HOST: `127.0.0.1:${p2}` },
          healthPath: '/api/version',
        },
      },
    });
    await h.sup.start();
    expect(await h.sup.waitReady('ollama', 5000)).toBe(true);
    expect(await h.sup.waitReady('extra', 5000)).toBe(true);
    const before = h.sup.get('ollama')!.pid;
    const entry = await h.sup.restartService('ollama');
    expect(entry.status).toBe('starting');
    expect(await h.sup.waitReady('ollama', 5000)).toBe(true);
    expect(h.sup.get('ollama')!.pid).not.toBe(before);
    const trees = [...(await h.sup.processTree('ollama')), ...(await h.sup.processTree('extra'))];
    expect(trees.length).toBeGreaterThanOrEqual(2);
    await h.sup.stopAll();
    expect(await alive(trees)).toEqual([]);
    expect(
      h.sup
        .list()
        .filter((s) => s.enabled)
        .map((s) => s.status),
    ).toEqual(['stopped', 'stopped']);
  });
});
