// Issue #20, finding 8: any web page could POST /api/wake as text/plain (a "simple" request, no
// preflight); `Origin: null` was accepted with a token; home folder paths were in the open /api/status.

import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../main/core/api/server.js';
import { withoutHome } from '../../main/core/api/routes/status.js';
import { nullLogger } from '../../main/core/util/logger.js';

const TOKEN = 'secret-token';
let server: ApiServer | null = null;
afterEach(async () => {
  await server?.close(100);
  server = null;
});

async function start(): Promise<string> {
  let woken = 0;
  server = new ApiServer({
    routes: [
      {
        method: 'POST',
        path: '/api/wake',
        auth: false,
        rate: 'wake',
        handler: () => ({ status: 202, body: { woken: ++woken } }),
      },
      {
        method: 'GET',
        path: '/api/status',
        auth: false,
        handler: () => ({ status: 200, body: {} }),
      },
      {
        method: 'GET',
        path: '/api/settings',
        auth: true,
        handler: () => ({ status: 200, body: {} }),
      },
    ],
    token: () => TOKEN,
    logger: nullLogger,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${port}`;
}

describe('Origin', () => {
  it('refuses an open mutation from a foreign web page, text/plain included; the phone (no Origin) and our own page pass', async () => {
    const base = await start();
    const wake = (headers: Record<string, string>) =>
      fetch(`${base}/api/wake`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', ...headers },
        body: 'x',
      });
    expect((await wake({ origin: 'http://evil.example.com' })).status).toBe(403);
    expect((await wake({ origin: 'null' })).status).toBe(403);
    expect((await wake({})).status).toBe(202);
    expect((await wake({ origin: base })).status).toBe(202);
    // Open reads stay open to any page (they hold no secret).
    expect(
      (await fetch(`${base}/api/status`, { headers: { origin: 'http://evil.example.com' } }))
        .status,
    ).toBe(200);
    expect(server!.rejected.cross_origin).toBe(2);
  });

  it('refuses Origin: null with a token', async () => {
    const base = await start();
    const res = await fetch(`${base}/api/settings`, {
      headers: { authorization: `Bearer ${TOKEN}`, origin: 'null' },
    });
    expect(res.status).toBe(403);
    expect(
      (await fetch(`${base}/api/settings`, { headers: { authorization: `Bearer ${TOKEN}` } }))
        .status,
    ).toBe(200);
  });
});

describe('withoutHome', () => {
  it('writes the home folder as ~ everywhere in the open snapshot', () => {
    const snap = {
      services: [
        { lastError: 'Could not start /home/ana/vv/.venv/bin/python', hint: null, port: 8880 },
      ],
      host: { name: 'ana' },
    };
    expect(withoutHome(snap, '/home/ana')).toEqual({
      services: [{ lastError: 'Could not start ~/vv/.venv/bin/python', hint: null, port: 8880 }],
      host: { name: 'ana' },
    });
  });
});
