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
