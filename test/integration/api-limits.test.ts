// Issue #20, finding 2: the control API took 21,200 half-open connections from two clients and 4,000
// event streams (318 MB). Connections and streams are now capped per source address and in total.

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../main/core/api/server.js';
import { EventHub } from '../../main/core/api/sse.js';
import { nullLogger } from '../../main/core/util/logger.js';

const TOKEN = 'secret-token';
let server: ApiServer | null = null;
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close(100);
  server = null;
});

async function start(
  hub = new EventHub(),
  connectionLimits = { perSource: 5, total: 8 },
): Promise<number> {
  server = new ApiServer({
    routes: [
      {
        method: 'GET',
        path: '/health',
        auth: false,
        handler: () => ({ status: 200, body: { ok: true } }),
      },
      {
        method: 'GET',
        path: '/api/events',
        auth: true,
        handler: ({ res }) => {
          hub.attach(res, { event: 'snapshot', data: {} });
          return undefined;
        },
      },
    ],
    token: () => TOKEN,
    logger: nullLogger,
    connectionLimits,
  });
  return (await server.listen(0, '127.0.0.1')).port;
}

/** Opens a connection from `from` and says whether the server kept it for 300 ms. */
function held(port: number, from: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: from });
    sockets.push(s);
    s.on('error', () => {});
    s.on('close', () => resolve(false));
    s.on('connect', () => setTimeout(() => resolve(!s.destroyed && s.readyState === 'open'), 300));
  });
}

describe('connection caps', () => {
  it('closes connections beyond the per-source cap, and beyond the total from any source', async () => {
    const port = await start();
    const a = await Promise.all(Array.from({ length: 7 }, () => held(port, '127.0.0.2')));
    expect(a.filter(Boolean)).toHaveLength(5);
    const b = await Promise.all(Array.from({ length: 5 }, () => held(port, '127.0.0.3')));
    expect(b.filter(Boolean)).toHaveLength(3); // 5 + 3 = the total of 8
    expect(server!.rejected.connections_per_source).toBe(2);
    expect(server!.rejected.connections_total).toBe(2);
    // Closing some makes room again.
    for (const s of sockets.splice(0, 5)) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(await held(port, '127.0.0.4')).toBe(true);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
  });
});

describe('event stream caps', () => {
  it('answers 429 beyond the per-source cap and the total, and frees a slot when a stream closes', async () => {
    const hub = new EventHub({ perSource: 2, total: 3 });
    const port = await start(hub, { perSource: 64, total: 512 });
    const open = (from: string) =>
      new Promise<{ status: number; close: () => void }>((resolve, reject) => {
        const s = net.connect({ port, host: '127.0.0.1', localAddress: from });
        sockets.push(s);
        s.on('error', reject);
        s.on('connect', () =>
          s.write(
            `GET /api/events HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TOKEN}\r\n\r\n`,
          ),
        );
        s.once('data', (d) =>
          resolve({
            status: Number(/^HTTP\/1\.1 (\d+)/.exec(d.toString())?.[1]),
            close: () => s.destroy(),
          }),
        );
      });
    const first = await open('127.0.0.2');
    expect(first.status).toBe(200);
    expect((await open('127.0.0.2')).status).toBe(200);
    expect((await open('127.0.0.2')).status).toBe(429);
    expect((await open('127.0.0.3')).status).toBe(200);
    expect((await open('127.0.0.4')).status).toBe(429); // total
    expect(hub.size).toBe(3);
    first.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(hub.size).toBe(2);
    expect((await open('127.0.0.2')).status).toBe(200);
  });
});
