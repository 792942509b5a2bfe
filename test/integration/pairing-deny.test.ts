// Issue #20, finding 4: anyone on the LAN could keep the user from pairing. Six unauthenticated
// requests (one `request`, five bad `finish`es) locked pairing for everyone for 10 minutes, and a
// `finish` carrying a sniffed `sid` from another machine voided the user's request. A real core on
// loopback; the attacker and the sniffer send from their own loopback addresses.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { seal } from '../../main/core/pairing/crypto.js';
import { initiatorFinish } from '../../main/core/pairing/handshake.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { tempDir } from '../helpers/headless.js';

const cores: Core[] = [];
afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.stop('quit').catch(() => {})));
});

async function host(role: 'primary' | 'fallback'): Promise<Core> {
  const dataDir = tempDir('unamentis-deny-');
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      role,
      displayName: role,
      models: { preload: [] },
      services: {
        ollama: { enabled: false },
        vibevoice: { enabled: false },
        piper: { enabled: false },
        whisper: { enabled: false },
      },
      discovery: { advertise: false, interfaces: [] },
      pairing: { heartbeatIntervalMs: 100 },
    }),
  );
  const core = createCore({
    dataDir,
    port: 0,
    bind: '0.0.0.0',
    logger: nullLogger,
    rendererDir: null,
    supervisor: { autoStart: false },
  });
  cores.push(core);
  await core.start();
  return core;
}

/** POST JSON from a chosen local address (each loopback address is another machine here). */
function post(
  port: number,
  p: string,
  body: unknown,
  from: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: p,
        method: 'POST',
        localAddress: from,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const card = (id: string, name: string) => ({
  id,
  name,
  role: 'primary',
  prio: 200,
  port: 11400,
  pairId: null,
});
const garbageFinish = (sid: unknown, id: string) => ({
  sid,
  id,
  share: Buffer.alloc(32).toString('base64'),
  mac: randomBytes(32).toString('base64'),
  box: {},
});

describe('pairing cannot be denied from afar', () => {
  it('an attacker who locks itself out (request + 5 bad finishes) does not lock the real peer out', async () => {
    const pc = await host('fallback');
    const mac = await host('primary');
    const port = pc.address()!.port;
    const evil = '127.0.0.66';
    const id = randomUUID();
    const r = await post(
      port,
      '/api/pairing/request',
      { v: 1, card: card(id, 'Studio Mac') },
      evil,
    );
    expect(r.status).toBe(202);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      if (i === 4) await new Promise((res) => setTimeout(res, 5_100)); // the pairing rate class: burst 5, then 1 per 5 s
      statuses.push(
        (await post(port, '/api/pairing/finish', garbageFinish(r.body.sid, id), evil)).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 403]);
    const seen = pc.store.get('pairing')!;
    expect(seen.lockedOut).toEqual([{ address: evil, forSeconds: 600 }]);
    // The user pairs the real Mac now (before: 403, pairing locked for 10 minutes).
    await mac.pairing.pair({ address: '127.0.0.1', port });
    expect(pc.store.get('pairing')!.requests?.map((q) => q.address)).toEqual(['127.0.0.1']);
    await mac.pairing.confirm(pc.pairing.status().incoming!.code);
    expect(pc.settings.get().pairing.peers.map((p) => p.id)).toEqual([mac.settings.get().hostId]);
  }, 20_000);

  it('a sniffed sid replayed in finish from another address neither voids nor locks the request; the user sees who asks', async () => {
    const pc = await host('fallback');
    const port = pc.address()!.port;
    const pcId = pc.settings.get().hostId;
    const me = randomUUID();
    // The real initiator (this test, at 127.0.0.1), then a squatter at another address.
    const r = await post(
      port,
      '/api/pairing/request',
      { v: 1, card: card(me, 'Studio Mac') },
      '127.0.0.1',
    );
    expect(r.status).toBe(202);
    expect(
      (
        await post(
          port,
          '/api/pairing/request',
          { v: 1, card: card(randomUUID(), 'Studio Mac') },
          '127.0.0.70',
        )
      ).status,
    ).toBe(202);
    const requests = pc.store.get('pairing')!.requests!;
    expect(requests.map((q) => [q.peerName, q.address])).toEqual([
      ['Studio Mac', '127.0.0.1'],
      ['Studio Mac', '127.0.0.70'],
    ]);
    const ours = pc.pairing.status().incomingAll.find((q) => q.address === '127.0.0.1')!;
    // A sniffer saw the sid: five bad finishes from its own address.
    for (let i = 0; i < 5; i++) {
      expect(
        (
          await post(
            port,
            '/api/pairing/finish',
            garbageFinish(r.body.sid, me),
            `127.0.0.${80 + i}`,
          )
        ).status,
      ).toBe(404);
    }
    // The user's own finish still goes through.
    const sid = Buffer.from(r.body.sid as string, 'base64');
    const f = initiatorFinish(
      ours.code,
      sid,
      me,
      pcId,
      Buffer.from(r.body.share as string, 'base64'),
    );
    const box = seal(
      f.keys.boxInitiator,
      { card: card(me, 'Studio Mac'), introductions: [] },
      `${r.body.sid as string}|${me}|${pcId}`,
    );
    const done = await post(
      port,
      '/api/pairing/finish',
      {
        sid: r.body.sid,
        id: me,
        share: f.share.toString('base64'),
        mac: f.mac.toString('base64'),
        box,
      },
      '127.0.0.1',
    );
    expect(done.status).toBe(200);
    expect(pc.settings.get().pairing.peers.map((p) => p.id)).toEqual([me]);
  });
});
