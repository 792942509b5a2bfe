// The front door's pass-through (main/core/frontdoor/proxy.ts) between a real client and a real
// upstream HTTP server on loopback: streams arrive chunk by chunk, backpressure holds both ways,
// a client that leaves aborts the upstream request, status/headers/error bodies come back as sent,
// the upstream connection is kept alive, and a refused connection leaves the request whole.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { forward, upstreamAgent, type Upstream } from '../../main/core/frontdoor/proxy.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: http.Server[] = [];
const agents: http.Agent[] = [];

async function serve(handler: Handler): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A front door in miniature: every request forwarded to `upstream`. */
async function proxyTo(upstream: Upstream, hooks: Parameters<typeof forward>[4] = {}) {
  const agent = upstreamAgent();
  agents.push(agent);
  return serve((req, res) => forward(req, res, upstream, agent, hooks));
}

afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((r) => {
          s.closeAllConnections();
          s.close(() => r());
        }),
    ),
  );
});

const until = async (what: string, fn: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

function request(
  port: number,
  opts: http.RequestOptions = {},
  body?: Buffer | string,
): Promise<{ res: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('front door pass-through', () => {
  it('forwards an SSE stream chunk by chunk, before the upstream has finished', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const up = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n');
      void released.then(() => res.end('data: [DONE]\n\n'));
    });
    const fd = await proxyTo({ host: '127.0.0.1', port: up.port });
    const first = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: fd.port, method: 'POST', path: '/v1/chat/completions' },
        (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          res.once('data', (c: Buffer) => resolve(c.toString()));
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    // The first event arrived while the upstream still holds the rest.
    expect(first).toBe('data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n');
    release();
  });

  it('passes status, headers (repeated ones too) and error bodies as the program sent them', async () => {
    const up = await serve((req, res) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('x-ollama-thing', 'kept');
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.writeHead(404, 'Not Found');
      res.end(
        JSON.stringify({
          error: `model "${req.headers['x-model']}" not found, try pulling it first`,
        }),
      );
    });
    const fd = await proxyTo({ host: '127.0.0.1', port: up.port });
    const { res, body } = await request(
      fd.port,
      {
        path: '/api/chat',
        method: 'POST',
        headers: { 'x-model': 'nope:1b', 'content-type': 'application/json' },
      },
      '{"model":"nope:1b"}',
    );
    expect(res.statusCode).toBe(404);
    expect(res.statusMessage).toBe('Not Found');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['x-ollama-thing']).toBe('kept');
    expect(JSON.parse(body.toString())).toEqual({
      error: 'model "nope:1b" not found, try pulling it first',
    });
  });

  it('tells the upstream who asked, and addresses it by its own host', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const up = await serve((req, res) => {
      seen = req.headers;
      res.end('ok');
    });
    const fd = await proxyTo({ host: '127.0.0.1', port: up.port });
    await request(fd.port, {
      path: '/',
      headers: { host: 'macbook.local:11434', authorization: 'Bearer k' },
    });
    expect(seen.host).toBe(`127.0.0.1:${up.port}`);
    expect(seen['x-forwarded-host']).toBe('macbook.local:11434');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.authorization).toBe('Bearer k');
  });

  it('holds back a fast upstream while the client does not read (response backpressure)', async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const total = 64 * 1024 * 1024;
    let written = 0;
    const up = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav' });
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const fd = await proxyTo({ host: '127.0.0.1', port: up.port });
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: fd.port, path: '/big' }, (res) => {
        res.pause();
        setTimeout(() => {
          // Not read for 500 ms: the upstream must have stopped far short of the whole body.
          expect(written).toBeLessThan(16 * 1024 * 1024);
          res.on('data', (c: Buffer) => (received += c.length));
          res.on('end', resolve);
          res.resume();
        }, 500);
      });
      req.on('error', reject);
      req.end();
    });
    await done;
    expect(received).toBe(total);
  });

  it('holds back a fast client while the upstream does not read (request backpressure)', async () => {
    let upstreamReq!: IncomingMessage;
    const up = await serve((req, res) => {
      upstreamReq = req;
      req.pause();
      let n = 0;
      setTimeout(() => {
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => res.end(String(n)));
        req.resume();
      }, 500);
    });
    const fd = await proxyTo({ host: '127.0.0.1', port: up.port });
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 1);
    let sent = 0;
    const answer = new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: fd.port, method: 'POST', path: '/upload' },
        (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c));
          res.on('end', () => resolve(b));
        },
      );
      req.on('error', reject);
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    await until('the upstream request', () => upstreamReq !== undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    expect(await answer).toBe(String(total));
  });

  it('aborts the upstream request when the client goes away mid-stream', async () => {
    let upstreamClosed = false;
    const up = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const t = setInterval(() => res.write('{"response":"x","done":false}\n'), 20);
      res.on('close', () => {
        clearInterval(t);
        upstreamClosed = !res.writableFinished;
      });
      req.resume();
    });
    let doneOk: boolean | null = null;
    const fd = await proxyTo(
      { host: '127.0.0.1', port: up.port },
      { onDone: (ok) => (doneOk = ok) },
    );
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: fd.port, method: 'POST', path: '/api/generate' },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', () => {});
      req.end('{"model":"m","prompt":"p"}');
      setTimeout(() => reject(new Error('no data')), 5000);
    });
    await until('the upstream connection to close', () => upstreamClosed);
    expect(doneOk).toBe(false);
  });

  it('cuts the client’s answer when the upstream dies midway, never ending it as if whole', async () => {
    const up = await serve((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': 100_000 });
      res.write(Buffer.alloc(10_000, 1));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    let doneOk: boolean | null = null;
    const fd = await proxyTo(
      { host: '127.0.0.1', port: up.port },
      { onDone: (ok) => (doneOk = ok) },
    );
    const outcome = await new Promise<string>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: fd.port, path: '/wav' }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve(`ended after ${n}`));
        res.on('error', () => resolve(`cut after ${n}`));
        res.on('aborted', () => resolve(`cut after ${n}`));
      });
      req.on('error', () => resolve('cut'));
      req.end();
    });
    expect(outcome).toMatch(/^cut/);
    expect(doneOk).toBe(false);
  });

  it('aborts the upstream request when the client goes away mid-upload', async () => {
    let upstreamBody: 'complete' | 'cut' | null = null;
    const up = await serve((req, res) => {
      req.on('data', () => {});
      req.on('end', () => {
        upstreamBody = 'complete';
        res.end('ok');
      });
      req.on('close', () => (upstreamBody ??= 'cut'));
    });
    const fd = await proxyTo({ host: '127.0.0.1', port: up.port });
    const req = http.request({
      host: '127.0.0.1',
      port: fd.port,
      method: 'POST',
      path: '/v1/audio/transcriptions',
      headers: { 'content-length': 1_000_000 },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(10_000, 2));
    await new Promise((r) => setTimeout(r, 200));
    req.destroy();
    await until('the upstream request to close', () => upstreamBody !== null);
    expect(upstreamBody).toBe('cut');
  });

  it('reuses one kept-alive connection to the upstream', async () => {
    const up = await serve((req, res) => {
      req.resume();
      res.end('x');
    });
    let connections = 0;
    up.server.on('connection', () => connections++);
    const fd = await proxyTo({ host: '127.0.0.1', port: up.port });
    for (let i = 0; i < 5; i++) await request(fd.port, { path: `/api/version?i=${i}` });
    expect(connections).toBe(1);
  });

  it('hands back a request whose connection was refused, body unread', async () => {
    const closed = await serve(() => {});
    const port = closed.port;
    await new Promise<void>((r) => closed.server.close(() => r()));
    let refused: string | null = null;
    let bodyAfter = '';
    const fd = await serve((req, res) => {
      const agent = upstreamAgent();
      agents.push(agent);
      forward(req, res, { host: '127.0.0.1', port }, agent, {
        onRefused: (err) => {
          refused = err.code ?? 'x';
          req.on('data', (c: Buffer) => (bodyAfter += c));
          req.on('end', () => res.end('held again'));
        },
      });
    });
    const { body } = await request(
      fd.port,
      { method: 'POST', path: '/v1/audio/speech' },
      '{"input":"hello"}',
    );
    expect(refused).toBe('ECONNREFUSED');
    expect(bodyAfter).toBe('{"input":"hello"}');
    expect(body.toString()).toBe('held again');
  });

  it('answers 502 in the contract shape when the upstream is down and nobody takes the request back', async () => {
    const closed = await serve(() => {});
    const port = closed.port;
    await new Promise<void>((r) => closed.server.close(() => r()));
    const fd = await proxyTo({ host: '127.0.0.1', port });
    const { res, body } = await request(fd.port, { path: '/' });
    expect(res.statusCode).toBe(502);
    expect(JSON.parse(body.toString()).error.code).toBe('bad_gateway');
  });

  it('reads the upstream into one reused buffer (no allocation per read)', async () => {
    const answer = Buffer.alloc(1 << 20, 7);
    const up = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': answer.length });
      res.end(answer);
    });
    const agent = upstreamAgent();
    agents.push(agent);
    // What each read of each socket the agent opens hands to node:http.
    const stores = new Set<ArrayBufferLike>();
    let reads = 0;
    const create = agent.createConnection.bind(agent);
    agent.createConnection = ((...args: Parameters<typeof create>) => {
      const socket = create(...args) as Socket;
      socket.on('data', (c: Buffer) => {
        reads++;
        stores.add(c.buffer);
      });
      return socket;
    }) as typeof agent.createConnection;
    const fd = await serve((req, res) =>
      forward(req, res, { host: '127.0.0.1', port: up.port }, agent),
    );
    const { body } = await request(fd.port, { path: '/wav' });
    expect(body.equals(answer)).toBe(true);
    expect(reads).toBeGreaterThan(1);
    expect(stores.size).toBe(1);
  });

  it('keeps many large answers whole while they share the read buffer, slow readers among them', async () => {
    // Distinct bytes per answer, some chunked and some with a length, all at once through one agent:
    // a view of the shared read buffer kept past its read would show another answer's bytes.
    const answers = Array.from({ length: 12 }, (_, i) => {
      const b = Buffer.alloc(600_000 + i * 7919);
      for (let j = 0; j < b.length; j++) b[j] = (j * 31 + i * 17) & 0xff;
      return b;
    });
    const up = await serve((req, res) => {
      const i = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('i'));
      const b = answers[i]!;
      if (i % 2) {
        res.writeHead(200); // chunked
        for (let off = 0; off < b.length; off += 50_000) res.write(b.subarray(off, off + 50_000));
        res.end();
      } else {
        res.writeHead(200, { 'content-length': b.length });
        res.end(b);
      }
    });
    const fd = await proxyTo({ host: '127.0.0.1', port: up.port });
    const fetchOne = (i: number, slow: boolean) =>
      new Promise<Buffer>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: fd.port, path: `/a?i=${i}`, agent: false },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => {
              chunks.push(c);
              // A slow reader: the door must pause its upstream socket, then resume it.
              if (slow) {
                res.pause();
                setTimeout(() => res.resume(), 2);
              }
            });
            res.on('end', () => resolve(Buffer.concat(chunks)));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
    for (let round = 0; round < 2; round++) {
      const got = await Promise.all(answers.map((_, i) => fetchOne(i, i % 3 === 0)));
      got.forEach((b, i) => expect(b.equals(answers[i]!), `answer ${i}`).toBe(true));
    }
  });
});
