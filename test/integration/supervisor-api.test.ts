// The service endpoints on a real core (createCore, in-process): token-gated, 202 with the entry,
// logs with ?lines=N, unknown id 404, path tricks 400, SSE `log` events.

import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { nullLogger } from '../../main/core/util/logger.js';
import type { ServiceEntry } from '../../main/core/contract.js';
import { FAST, fakeOllama, freePort, tempDir, until } from './supervisor-helpers.js';

let core: Core;
let base: string;
let token: string;
let ollamaPort: number;

beforeAll(async () => {
  const dataDir = tempDir();
  ollamaPort = await freePort();
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      serveOnLan: false,
      discovery: { advertise: false, interfaces: [] },
      models: { preload: [] },
      services: {
        ollama: fakeOllama(ollamaPort),
        vibevoice: { enabled: false },
        piper: { enabled: false },
        whisper: { enabled: false },
      },
    }),
  );
  core = createCore({
    dataDir,
    port: 0,
    bind: '127.0.0.1',
    logger: nullLogger,
    rendererDir: null,
    supervisor: { timings: FAST },
  });
  const { url } = await core.start();
  base = url.replace(/\/$/, '');
  token = core.token();
  expect(await core.supervisor.waitReady('ollama', 10_000)).toBe(true);
});

afterAll(async () => {
  await core?.stop('quit');
});

const auth = () => ({ authorization: `Bearer ${token}` });
const post = (p: string, headers: Record<string, string> = auth()) =>
  fetch(base + p, { method: 'POST', headers });

describe('service endpoints', () => {
  it('are token-gated', async () => {
    expect((await post('/api/services/ollama/restart', {})).status).toBe(401);
    expect((await fetch(`${base}/api/services/ollama/logs`)).status).toBe(401);
  });

  it('the snapshot and /health see the supervised services', async () => {
    const status = (await (await fetch(`${base}/api/status`)).json()) as {
      services: ServiceEntry[];
    };
    const o = status.services.find((s) => s.id === 'ollama')!;
    expect(o).toMatchObject({
      status: 'running',
      port: ollamaPort,
      restarts: 0,
      health: { ok: true },
    });
    expect(o.pid).toBeGreaterThan(0);
    expect(status.services.map((s) => s.id)).toEqual(['ollama', 'vibevoice', 'piper', 'whisper']);
    expect(status.services.find((s) => s.id === 'whisper')!.status).toBe('disabled');
    const health = (await (await fetch(`${base}/health`)).json()) as { ready: boolean };
    expect(health.ready).toBe(true);
  });

  it('stop, start and restart answer 202 with the entry', async () => {
    const stop = await post('/api/services/ollama/stop');
    expect(stop.status).toBe(202);
    expect(((await stop.json()) as ServiceEntry).status).toBe('stopped');
    const start = await post('/api/services/ollama/start');
    expect(start.status).toBe(202);
    const started = (await start.json()) as ServiceEntry;
    expect(started.id).toBe('ollama');
    expect(['starting', 'running']).toContain(started.status);
    expect(await core.supervisor.waitReady('ollama', 5000)).toBe(true);
    const pid = core.supervisor.get('ollama')!.pid;
    const restart = await post('/api/services/ollama/restart');
    expect(restart.status).toBe(202);
    expect(await core.supervisor.waitReady('ollama', 5000)).toBe(true);
    expect(core.supervisor.get('ollama')!.pid).not.toBe(pid);
  });

  it('stop-all and start-all answer 202', async () => {
    const stopAll = await post('/api/services/stop-all');
    expect(stopAll.status).toBe(202);
    const body = (await stopAll.json()) as { services: ServiceEntry[] };
    expect(body.services.find((s) => s.id === 'ollama')!.status).toBe('stopped');
    expect((await post('/api/services/start-all')).status).toBe(202);
    expect(await core.supervisor.waitReady('ollama', 5000)).toBe(true);
  });

  it('serves the last N log lines', async () => {
    const res = await fetch(`${base}/api/services/ollama/logs?lines=3`, { headers: auth() });
    expect(res.status).toBe(200);
    const { lines } = (await res.json()) as {
      lines: { t: string; stream: string; text: string }[];
    };
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      expect(['stdout', 'stderr', 'supervisor']).toContain(l.stream);
      expect(Number.isNaN(Date.parse(l.t))).toBe(false);
    }
    expect(
      (await fetch(`${base}/api/services/ollama/logs?lines=abc`, { headers: auth() })).status,
    ).toBe(400);
  });

  it('unknown ids are 404, path tricks 400, disabled 409', async () => {
    const unknown = await post('/api/services/nope/start');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
    for (const trick of [
      '..%2F..%2Fetc%2Fpasswd',
      '%2E%2E%2F',
      'Ollama',
      'a%00b',
      'x'.repeat(40),
    ]) {
      const r = await post(`/api/services/${trick}/start`);
      expect(r.status, trick).toBe(400);
    }
    // A bare ".." segment is resolved by the URL itself (to /api/start): no such endpoint.
    expect((await post('/api/services/%2E%2E/start')).status).toBe(404);
    expect(
      (await fetch(`${base}/api/services/..%2Fsettings/logs`, { headers: auth() })).status,
    ).toBe(400);
    const disabled = await post('/api/services/whisper/start');
    expect(disabled.status).toBe(409);
    expect(((await disabled.json()) as { error: { message: string } }).error.message).toContain(
      'services.whisper.enabled',
    );
    expect((await post('/api/services/ollama/take-over')).status).toBe(409); // not external
  });

  it('pushes new log lines as SSE `log` events', async () => {
    const events: string[] = [];
    const req = http.get(`${base}/api/events`, { headers: auth() }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => events.push(c));
    });
    try {
      await until(() => events.join('').includes('event: snapshot'));
      await post('/api/services/ollama/restart');
      await until(
        () => /event: log\ndata: \{"service":"ollama","line":\{"t":/.test(events.join('')),
        5000,
      );
    } finally {
      req.destroy();
    }
  });

  it('commands work for views other than HTTP (tray, dashboard IPC)', async () => {
    const entry = (await core.commands.execute({
      type: 'service.stop',
      id: 'ollama',
    })) as ServiceEntry;
    expect(entry.status).toBe('stopped');
    await core.commands.execute({ type: 'services.startAll' });
    expect(await core.supervisor.waitReady('ollama', 5000)).toBe(true);
  });
});
