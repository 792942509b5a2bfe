// The polled HTTP (util/http-get): kept connections (no TCP connect per check), a connection the server
// closed just as it was reused is asked again on a new one, and a down or silent server still reads as
// such. `keptFetch`, the same GETs shaped as fetch for the ollama client, behaves as fetch would.

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkHealth } from '../../main/core/supervisor/health.js';
import { httpGet } from '../../main/core/util/http-get.js';
import { keptFetch } from '../../main/core/util/http-get.js';
import { listLoaded } from '../../main/core/services/ollama.js';

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
async function serve(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, nth: number) => void,
): Promise<TestServer> {
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

  it('again: a process that passed is asked only its last request; anything else gets the full check', async () => {
    const asked: string[] = [];
    let version = 200;
    const s = await serve((req, res) => {
      asked.push(req.url!);
      if (req.url === '/') res.end('Ollama is running');
      else
        res
          .writeHead(version)
          .end(version === 200 ? JSON.stringify({ version: '0.12.6' }) : 'boom');
    });
    const first = await checkHealth('ollama', '127.0.0.1', s.port, { timeoutMs: 2000 });
    expect(first).toMatchObject({
      state: 'ok',
      version: '0.12.6',
      memo: { paths: ['/', '/api/version'] },
    });
    expect(asked).toEqual(['/', '/api/version']);
    const second = await checkHealth('ollama', '127.0.0.1', s.port, {
      timeoutMs: 2000,
      again: first.memo,
    });
    expect(second).toMatchObject({ state: 'ok', version: '0.12.6' });
    expect(second.latencyMs).toEqual(expect.any(Number));
    expect(asked).toEqual(['/', '/api/version', '/api/version']);
    version = 500;
    const third = await checkHealth('ollama', '127.0.0.1', s.port, {
      timeoutMs: 2000,
      again: second.memo,
    });
    expect(third).toMatchObject({ state: 'error', message: 'GET /api/version answered 500' });
    expect(third.memo).toBeUndefined();
    expect(asked.slice(3)).toEqual(['/api/version', '/', '/api/version']);
    // No answer is down at once (no second timeout through the full check).
    const gone = third.memo ?? second.memo!;
    await s.close();
    const t0 = performance.now();
    expect(
      await checkHealth('ollama', '127.0.0.1', s.port, { timeoutMs: 2000, again: gone }),
    ).toEqual({
      state: 'down',
      latencyMs: null,
      message: `connection refused on port ${s.port}`,
    });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(asked).toHaveLength(6);
    // One request kinds have nothing to skip: the memo changes nothing.
    const vv = await serve((_req, res) => res.end(JSON.stringify({ model_loaded: true })));
    const a = await checkHealth('vibevoice', '127.0.0.1', vv.port, { timeoutMs: 2000 });
    expect(
      await checkHealth('vibevoice', '127.0.0.1', vv.port, { timeoutMs: 2000, again: a.memo }),
    ).toMatchObject({ state: 'ok' });
  });

  it('asks again on a new connection when the server drops a kept one as it is reused', async () => {
    const s = await serve((req, res, nth) => {
      if (nth === 2)
        req.socket.destroy(); // the idle-timeout race: closed without an answer
      else res.end('{"status":"ok"}');
    });
    expect(await httpGet('127.0.0.1', s.port, '/health', 2000)).toEqual({
      status: 200,
      body: '{"status":"ok"}',
    });
    expect(await httpGet('127.0.0.1', s.port, '/health', 2000)).toEqual({
      status: 200,
      body: '{"status":"ok"}',
    });
    expect(s.connections()).toBe(2);
  });

  it('a server that went away reads as refused, not as a reset', async () => {
    const s = await serve((_req, res) => res.end('ok'));
    expect(await httpGet('127.0.0.1', s.port, '/', 2000)).toMatchObject({ status: 200 });
    await s.close();
    expect(await httpGet('127.0.0.1', s.port, '/', 2000)).toEqual({
      error: `connection refused on port ${s.port}`,
    });
  });

  it('a silent server times out, and the next check still gets its answer', async () => {
    let silent = true;
    const s = await serve((_req, res) => {
      if (!silent) res.end('ok');
    });
    const t0 = performance.now();
    expect(await httpGet('127.0.0.1', s.port, '/', 300)).toEqual({
      error: 'no answer within 300 ms',
    });
    expect(performance.now() - t0).toBeLessThan(2000);
    silent = false;
    expect(await httpGet('127.0.0.1', s.port, '/', 2000)).toEqual({ status: 200, body: 'ok' });
  });
});

describe("keptFetch (the ollama client's polled GETs)", () => {
  const ps = {
    models: [
      {
        name: 'mistral:7b',
        model: 'mistral:7b',
        size: 5_000_000_000,
        size_vram: 4_000_000_000,
        digest: 'd',
        expires_at: '2026-11-23T22:00:00Z',
      },
    ],
  };

  it("reads /api/ps on one kept connection, with the client's headers", async () => {
    const agents: string[] = [];
    const s = await serve((req, res) => {
      agents.push(String(req.headers['user-agent']));
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/api/ps' ? JSON.stringify(ps) : '{}');
    });
    const base = `http://127.0.0.1:${s.port}`;
    for (let i = 0; i < 3; i++) {
      expect(await listLoaded(base)).toEqual([
        {
          name: 'mistral:7b',
          sizeBytes: 5_000_000_000,
          vramBytes: 4_000_000_000,
          expiresAt: '2026-11-23T22:00:00Z',
          contextLength: null,
          digest: 'd',
        },
      ]);
    }
    expect(s.connections()).toBe(1);
    expect(agents).toHaveLength(3);
    expect(agents[0]).toMatch(/^ollama-js\//);
  });

  it("an error answer is the client's error, with Ollama's message", async () => {
    const s = await serve((_req, res) =>
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"runner crashed"}'),
    );
    await expect(listLoaded(`http://127.0.0.1:${s.port}`)).rejects.toThrow('runner crashed');
  });

  it('a silent server hits the deadline, a closed port is "fetch failed" naming why', async () => {
    const s = await serve(() => {});
    const t0 = performance.now();
    await expect(
      listLoaded(`http://127.0.0.1:${s.port}`, { timeoutMs: 200 }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - t0).toBeLessThan(2000);
    await s.close();
    const err = await keptFetch(`http://127.0.0.1:${s.port}/api/ps`).catch(
      (e: unknown) => e as TypeError & { cause: Error },
    );
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toMatchObject({
      message: 'fetch failed',
      cause: { message: `connection refused on port ${s.port}` },
    });
  });

  it('an already aborted signal rejects before any request; POST and 204 behave as fetch', async () => {
    const seen: string[] = [];
    const s = await serve((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        if (req.url === '/empty') res.writeHead(204).end();
        else res.end('ok');
      });
    });
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await expect(keptFetch(`http://127.0.0.1:${s.port}/x`, { signal: ac.signal })).rejects.toThrow(
      'gone',
    );
    expect(seen).toEqual([]);
    const post = await keptFetch(`http://127.0.0.1:${s.port}/api/generate`, {
      method: 'POST',
      body: '{"model":"m"}',
    });
    expect(await post.text()).toBe('ok');
    const empty = await keptFetch(`http://127.0.0.1:${s.port}/empty`);
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
    expect(seen).toEqual(['POST /api/generate {"model":"m"}', 'GET /empty ']);
  });
});
