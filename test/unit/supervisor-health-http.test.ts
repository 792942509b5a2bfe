// The health checks' HTTP: kept connections (no TCP connect per check), a connection the server closed
// just as it was reused is asked again on a new one, and a down or silent server still reads as such.

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkHealth, httpGet } from '../../main/core/supervisor/health.js';

interface TestServer {
  port: number;
  connections: () => number;
  close: () => Promise<void>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A local server; `handler` may return false to leave the request unanswered. */
async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, nth: number) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const perSocket = new WeakMap<Socket, number>();
  const server = http.createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    handler(req, res, n);
  });
  server.keepAliveTimeout = 10_000;
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const t: TestServer = {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  servers.push(t);
  return t;
}

describe('health check HTTP', () => {
  it("keeps the connection: Ollama's two requests and the next check use one", async () => {
    const s = await serve((req, res) => {
      if (req.url === '/') res.end('Ollama is running');
      else res.end(JSON.stringify({ version: '0.12.6' }));
    });
    for (let i = 0; i < 3; i++) {
      const h = await checkHealth('ollama', '127.0.0.1', s.port, { timeoutMs: 2000 });
      expect(h).toMatchObject({ state: 'ok', version: '0.12.6' });
    }
    expect(s.connections()).toBe(1);
  });

  it("again: a process that passed is asked only its last request; anything else gets the full check", async () => {
    const asked: string[] = [];
    let version = 200;
    const s = await serve((req, res) => {
      asked.push(req.url!);
      if (req.url === '/') res.end('Ollama is running');
      else res.writeHead(version).end(version === 200 ? JSON.stringify({ version: '0.12.6' }) : 'boom');
    });
    const first = await checkHealth('ollama', '127.0.0.1', s.port, { timeoutMs: 2000 });
    expect(first).toMatchObject({ state: 'ok', version: '0.12.6', memo: { paths: ['/', '/api/version'] } });
    expect(asked).toEqual(['/', '/api/version']);
    const second = await checkHealth('ollama', '127.0.0.1', s.port, { timeoutMs: 2000, again: first.memo });
    expect(second).toMatchObject({ state: 'ok', version: '0.12.6' });
    expect(second.latencyMs).toEqual(expect.any(Number));
    expect(asked).toEqual(['/', '/api/version', '/api/version']);
    version = 500;
    const third = await checkHealth('ollama', '127.0.0.1', s.port, { timeoutMs: 2000, again: second.memo });
    expect(third).toMatchObject({ state: 'error', message: 'GET /api/version answered 500' });
    expect(third.memo).toBeUndefined();
    expect(asked.slice(3)).toEqual(['/api/version', '/', '/api/version']);
    // No answer is down at once (no second timeout through the full check).
    const gone = third.memo ?? second.memo!;
    await s.close();
    const t0 = performance.now();
    expect(await checkHealth('ollama', '127.0.0.1', s.port, { timeoutMs: 2000, again: gone })).toEqual({
      state: 'down',
      latencyMs: null,
      message: `connection refused on port ${s.port}`,
    });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(asked).toHaveLength(6);
    // One request kinds have nothing to skip: the memo changes nothing.
    const vv = await serve((_req, res) => res.end(JSON.stringify({ model_loaded: true })));
    const a = await checkHealth('vibevoice', '127.0.0.1', vv.port, { timeoutMs: 2000 });
    expect(await checkHealth('vibevoice', '127.0.0.1', vv.port, { timeoutMs: 2000, again: a.memo })).toMatchObject({ state: 'ok' });
  });

  it('asks again on a new connection when the server drops a kept one as it is reused', async () => {
    const s = await serve((req, res, nth) => {
      if (nth === 2) req.socket.destroy(); // the idle-timeout race: closed without an answer
      else res.end('{"status":"ok"}');
    });
    expect(await httpGet('127.0.0.1', s.port, '/health', 2000)).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect(await httpGet('127.0.0.1', s.port, '/health', 2000)).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect(s.connections()).toBe(2);
  });

  it('a server that went away reads as refused, not as a reset', async () => {
    const s = await serve((_req, res) => res.end('ok'));
    expect(await httpGet('127.0.0.1', s.port, '/', 2000)).toMatchObject({ status: 200 });
    await s.close();
    expect(await httpGet('127.0.0.1', s.port, '/', 2000)).toEqual({ error: `connection refused on port ${s.port}` });
  });

  it('a silent server times out, and the next check still gets its answer', async () => {
    let silent = true;
    const s = await serve((_req, res) => {
      if (!silent) res.end('ok');
    });
    const t0 = performance.now();
    expect(await httpGet('127.0.0.1', s.port, '/', 300)).toEqual({ error: 'no answer within 300 ms' });
    expect(performance.now() - t0).toBeLessThan(2000);
    silent = false;
    expect(await httpGet('127.0.0.1', s.port, '/', 2000)).toEqual({ status: 200, body: 'ok' });
  });
});
