// The spine, end to end: a real headless process on a free port.

import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startHeadless, tempDir, type Headless } from '../helpers/headless.js';

type SseEvent = { event: string; data: unknown };

/**
 * Reads SSE events from /api/events until `enough(events)` says so (or times out). Other events
 * (logs, a GPU sample, a notice) may come in between: the caller says what it waits for.
 */
function readEvents(
  h: Headless,
  enough: (events: SseEvent[]) => boolean,
  onOpen?: () => void,
): Promise<SseEvent[]> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const req = http.get(
      `${h.url}api/events`,
      { headers: { authorization: `Bearer ${h.token}` } },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (ev && data) {
              events.push({ event: ev, data: JSON.parse(data) });
              if (events.length === 1) onOpen?.();
              if (enough(events)) {
                req.destroy();
                resolve(events);
              }
            }
          }
        });
      },
    );
    req.on('error', (e) => (enough(events) ? undefined : reject(e)));
    setTimeout(() => reject(new Error(`only ${events.length} events`)), 10_000).unref();
  });
}

describe('headless core', () => {
  let h: Headless;
  beforeAll(async () => {
    h = await startHeadless({ settings: { displayName: 'Test Box' } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers /health in the contract shape', async () => {
    const { status, body } = await getJson(`${h.url}health`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      ok: true,
      name: 'Test Box',
      state: expect.any(String),
      serving: expect.any(Boolean),
      ready: expect.any(Boolean),
    });
    expect((body as { id: string }).id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers /api/status with the whole snapshot and no secrets', async () => {
    const { status, body } = await getJson(`${h.url}api/status`);
    expect(status).toBe(200);
    const s = body as Record<string, unknown>;
    expect(s.v).toBe(1);
    for (const key of ['host', 'hibernation', 'services', 'gpu', 'peers'])
      expect(s).toHaveProperty(key);
    expect(s.host).toMatchObject({
      name: 'Test Box',
      platform: process.platform,
      role: expect.stringMatching(/primary|fallback/),
      prio: expect.any(Number),
    });
    expect(JSON.stringify(body)).not.toContain(h.token);
  });

  it('refuses a mutating call without the token with the contract error body', async () => {
    const res = await getJson(`${h.url}api/settings`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"displayName":"x"}',
    });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      error: { code: 'unauthorized', message: expect.any(String) },
    });
    const wrong = await getJson(`${h.url}api/settings`, {
      headers: { authorization: 'Bearer wrong-token-123456' },
    });
    expect(wrong.status).toBe(401);
  });

  it('answers unknown paths and malformed JSON with contract errors', async () => {
    expect((await getJson(`${h.url}api/nope`)).body).toMatchObject({
      error: { code: 'not_found' },
    });
    const bad = await getJson(`${h.url}api/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
      body: '{"displayName":',
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'bad_request' } });
  });

  it('rejects a bad setting naming the field, and changes nothing', async () => {
    const auth = { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' };
    const res = await getJson(`${h.url}api/settings`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ api: { port: 70000 } }),
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'bad_request', field: 'api.port' } });
    const now = await getJson(`${h.url}api/settings`, { headers: auth });
    expect((now.body as { api: { port: number } }).api.port).toBe(11400);
    expect(JSON.stringify(now.body)).not.toContain(h.token);
  });

  it('streams a snapshot on connect and another after a change', async () => {
    const renamed = (e: SseEvent) =>
      e.event === 'snapshot' && (e.data as { host: { name: string } }).host.name === 'Renamed Box';
    const events = await readEvents(
      h,
      (all) => all.some(renamed),
      () => {
        void fetch(`${h.url}api/settings`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ displayName: 'Renamed Box' }),
        });
      },
    );
    expect(events[0]!.event).toBe('snapshot');
    expect((events[0]!.data as { host: { name: string } }).host.name).toBe('Test Box');
    // Every snapshot before the rename landed still has the old name; the first one after has the new.
    const names = events
      .filter((e) => e.event === 'snapshot')
      .map((e) => (e.data as { host: { name: string } }).host.name);
    expect(names.at(-1)).toBe('Renamed Box');
    expect(names.slice(0, -1).every((n) => n === 'Test Box')).toBe(true);
    // Put it back for the other tests.
    await fetch(`${h.url}api/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: 'Test Box' }),
    });
  });

  it('writes the token file readable only by the user', () => {
    const mode = fs.statSync(path.join(h.dataDir, 'token')).mode & 0o777;
    expect(mode).toBe(0o600);
  });
});

describe('headless startup problems', () => {
  it('backs up a corrupt settings file, uses defaults, and shows a notice', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'settings.json'), '{ this is not json');
    const h = await startHeadless({ dataDir: dir });
    try {
      const { body } = await getJson(`${h.url}api/status`);
      const notices = (body as { notices: { code: string; message: string }[] }).notices;
      expect(notices.find((n) => n.code === 'settings_reset')?.message).toMatch(
        /moved to .*settings\.json\.corrupt-/,
      );
      expect(fs.readdirSync(dir).some((f) => f.startsWith('settings.json.corrupt-'))).toBe(true);
      expect(
        fs.readFileSync(
          path.join(
            dir,
            fs.readdirSync(dir).find((f) => f.startsWith('settings.json.corrupt-'))!,
          ),
          'utf8',
        ),
      ).toBe('{ this is not json');
    } finally {
      await h.stop();
    }
  });

  it('exits with a clear message when the control port is taken, and shuts down cleanly on SIGTERM', async () => {
    const a = await startHeadless();
    const dir = tempDir();
    const { spawnSync } = await import('node:child_process');
    const { repoRoot } = await import('../helpers/headless.js');
    const r = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'),
        path.join(repoRoot, 'main/headless.ts'),
        '--data-dir',
        dir,
        '--port',
        String(a.port),
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status).toBe(75); // EX_TEMPFAIL: the port may be free later (main/headless-cli.ts)
    expect(r.stdout + r.stderr).toMatch(new RegExp(`Control port ${a.port} .*already in use`));
    expect(await a.stop()).toBe(0);
  });
});
