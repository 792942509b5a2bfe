// The /health check discovery runs against each listed host (every 1.5 s): what counts as an answer,
// on one kept connection, and a host that stops answering reads as not answering at once.

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchHealth } from '../../main/core/discovery/browser.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function host(
  handler: http.RequestListener,
  bind = '127.0.0.1',
): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, bind, r));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  closers.push(close);
  return {
    url: `http://${bind.includes(':') ? `[${bind}]` : bind}:${port}/health`,
    connections: () => connections,
    close,
  };
}

describe('discovery /health check', () => {
  it('reads id and readiness, on one kept connection', async () => {
    const h = await host((_req, res) =>
      res.end(JSON.stringify({ ok: true, id: 'a1b2', ready: false })),
    );
    for (let i = 0; i < 3; i++)
      expect(await fetchHealth(h.url, 1500)).toEqual({ id: 'a1b2', ready: false });
    expect(h.connections()).toBe(1);
  });

  it('is null for an error status, a redirect or a body that is not UnaMentis', async () => {
    const answers: [number, string][] = [
      [500, JSON.stringify({ ok: true, id: 'x' })],
      [302, ''],
      [200, JSON.stringify({ ok: false, id: 'x' })],
      [200, JSON.stringify({ status: 'ok' })],
      [200, 'x'.repeat(5000)],
    ];
    let i = 0;
    const h = await host((_req, res) => {
      const [status, body] = answers[i++]!;
      res.writeHead(status, status === 302 ? { location: '/elsewhere' } : {}).end(body);
    });
    for (let k = 0; k < answers.length; k++) expect(await fetchHealth(h.url, 1500)).toBeNull();
    await expect(
      (async () => {
        const bad = await host((_req, res) => res.end('not json'));
        return fetchHealth(bad.url, 1500);
      })(),
    ).rejects.toThrow(SyntaxError); // the browser counts a throw as no answer
  });

  it('a host that went away or went silent is no answer, within the timeout', async () => {
    let silent = false;
    const h = await host((_req, res) => {
      if (!silent) res.end(JSON.stringify({ ok: true, id: 'a', ready: true }));
    });
    expect(await fetchHealth(h.url, 1500)).toEqual({ id: 'a', ready: true });
    silent = true;
    const t0 = performance.now();
    expect(await fetchHealth(h.url, 300)).toBeNull();
    expect(performance.now() - t0).toBeLessThan(1500);
    await h.close();
    expect(await fetchHealth(h.url, 1500)).toBeNull();
  });

  it('reaches an IPv6 address written in brackets', async (t) => {
    const h = await host(
      (_req, res) => res.end(JSON.stringify({ ok: true, id: 'v6', ready: true })),
      '::1',
    ).catch(() => null);
    if (!h) return t.skip('no IPv6 loopback on this machine');
    expect(await fetchHealth(h.url, 1500)).toEqual({ id: 'v6', ready: true });
  });
});
