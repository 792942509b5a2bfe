// Issue #20, last item: the front door's ports (the service ports the phone calls) join the fuzz
// and flood tests. The headless server with the fake Ollama behind its front door; hostile input
// and a connection flood on the public LLM port; afterwards the control API answers and the
// front door still forwards to the same Ollama process.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startHeadless, type Headless } from '../helpers/headless.js';
import { fakeOllama, fakeState, freePort, until } from './supervisor-helpers.js';
import type { Snapshot } from '../../main/core/contract.js';

let h: Headless;
let port: number;
let ollamaPid: number;

/** Sends raw bytes to the front door; resolves with what came back before it closed or `waitMs` passed. */
function raw(payload: string | Buffer, waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    const done = () => {
      s.destroy();
      resolve(out);
    };
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => s.write(payload));
    setTimeout(done, waitMs);
  });
}

const tags = async () => (await fetch(`http://127.0.0.1:${port}/api/tags`)).status;

beforeAll(async () => {
  port = await freePort();
  h = await startHeadless({
    settings: {
      services: {
        ollama: fakeOllama(port),
        vibevoice: { enabled: false },
        piper: { enabled: false },
        whisper: { enabled: false },
      },
      models: { preload: [] },
    },
    timeoutMs: 40_000,
  });
  const o = await until(async () => {
    const s = (await getJson(`${h.url}api/status`)).body as Snapshot;
    const e = s.services.find((x) => x.id === 'ollama');
    return e?.status === 'running' && e.pid ? e : null;
  }, 30_000);
  ollamaPid = o.pid!;
  expect(await tags()).toBe(200);
  // The program is behind the door, not on the public port.
  expect((await fakeState(port)).pid).toBe(ollamaPid);
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

async function stillServing(): Promise<void> {
  expect(h.child.exitCode).toBeNull();
  expect((await getJson(`${h.url}health`)).status).toBe(200);
  expect(await tags()).toBe(200);
  expect((await fakeState(port)).pid).toBe(ollamaPid);
}

describe('the front door under hostile input', () => {
  it('answers malformed, smuggled and proxy-abusing requests with a 4xx or a close, and keeps forwarding', async () => {
    const cases: [string, string | Buffer][] = [
      ['garbage', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a])],
      ['huge header', `GET /api/tags HTTP/1.1\r\nHost: x\r\nX: ${'y'.repeat(100_000)}\r\n\r\n`],
      [
        'CL + TE smuggling',
        'POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/pull HTTP/1.1\r\nHost: x\r\n\r\n',
      ],
      [
        'absolute URI to another host',
        'GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n',
      ],
      ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
      ['bad method', 'BREW /api/tags HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['bad version', 'GET /api/tags HTTP/9.9\r\nHost: x\r\n\r\n'],
      ['NUL in path', 'GET /api/\0tags HTTP/1.1\r\nHost: x\r\n\r\n'],
    ];
    for (const [what, payload] of cases) {
      const out = await raw(payload);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(out)?.[1];
      // Answered with a 4xx, or closed without a word; never forwarded as if it were fine.
      if (status) expect({ what, status: Number(status) >= 400 }).toEqual({ what, status: true });
      if (what === 'absolute URI to another host') expect(out).not.toContain('ami-');
    }
    // 600 random requests: random methods, paths and bodies.
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
    const paths = [
      '/',
      '/api/tags',
      '/api/chat',
      '/api/generate',
      '/api/pull',
      '/api/delete',
      '/v1/chat/completions',
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/api/ps?x=' + 'a'.repeat(5000),
    ];
    const seen: Record<string, number> = {};
    for (let i = 0; i < 600; i++) {
      const method = methods[i % methods.length]!;
      const p = paths[(i * 7) % paths.length]!;
      const body =
        method === 'GET' || method === 'HEAD'
          ? undefined
          : i % 3 === 0
            ? '{'
            : i % 3 === 1
              ? JSON.stringify({ model: 'x'.repeat(i), stream: 'maybe' })
              : '\u0000\u00ff';
      const res = await fetch(`http://127.0.0.1:${port}${p}`, {
        method,
        body,
        signal: AbortSignal.timeout(10_000),
      }).catch(() => null);
      const k = res ? String(res.status) : 'closed';
      seen[k] = (seen[k] ?? 0) + 1;
      await res?.arrayBuffer().catch(() => {});
    }
    console.log('front door, 600 random requests:', seen);
    expect(seen.closed ?? 0).toBe(0);
    await stillServing();
  }, 120_000);

  it('takes a flood of 3,000 connections from 15 addresses and serves again once it ends', async () => {
    const sockets: net.Socket[] = [];
    let refused = 0;
    for (let src = 0; src < 15; src++) {
      await Promise.all(
        Array.from(
          { length: 200 },
          () =>
            new Promise<void>((resolve) => {
              const s = net.connect({
                port,
                host: '127.0.0.1',
                localAddress: `127.0.2.${src + 10}`,
              });
              sockets.push(s);
              s.on('error', () => {
                refused++;
                resolve();
              });
              s.on('connect', () => resolve());
            }),
        ),
      );
    }
    // While the flood holds its connections: the control API still answers.
    expect((await getJson(`${h.url}health`)).status).toBe(200);
    console.log(`front door flood: ${sockets.length} connections, ${refused} refused or reset`);
    for (const s of sockets) s.destroy();
    await until(async () => ((await tags().catch(() => 0)) === 200 ? true : null), 15_000);
    await stillServing();
  }, 120_000);
});
