// Pairing end to end inside one process: real cores on loopback (HTTP + UDP on 127.0.0.1, free
// ports), short intervals. Pairing by code, a third host joining, heartbeats and election, forged
// datagrams, graceful handoff, unpairing. The namespace tests (test/e2e/failover.test.ts) do the
// same across hosts with a real crash and an independent mDNS browser.

import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { tempDir } from '../helpers/headless.js';

const cores: Core[] = [];

async function host(
  role: 'primary' | 'fallback',
  prio: number | null = null,
  heartbeatIntervalMs = 100,
): Promise<Core> {
  const dataDir = tempDir('unamentis-pairing-');
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      role,
      prio,
      displayName: `${role}-${prio ?? 'd'}`,
      models: { preload: [] },
      // No services: every host is ready (fit to serve) at once.
      services: {
        ollama: { enabled: false },
        vibevoice: { enabled: false },
        piper: { enabled: false },
        whisper: { enabled: false },
      },
      discovery: { advertise: false, interfaces: [] },
      pairing: { heartbeatIntervalMs, failbackHoldDownSeconds: 1, sessionIdleSeconds: 1 },
    }),
  );
  const core = createCore({
    dataDir,
    port: 0,
    bind: '127.0.0.1',
    logger: nullLogger,
    rendererDir: null,
    supervisor: { autoStart: false },
  });
  cores.push(core);
  await core.start();
  return core;
}

const port = (c: Core) => c.address()!.port;
const serving = (c: Core) => c.store.get('host').serving;

async function until<T>(
  fn: () => T | null | undefined | false,
  ms = 5000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function pair(a: Core, b: Core): Promise<void> {
  await a.pairing.pair({ address: '127.0.0.1', port: port(b) });
  const code = b.pairing.status().incoming!.code;
  await a.pairing.confirm(code);
}

afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.stop('quit').catch(() => {})));
});

describe('pairing flow (loopback)', () => {
  it('pairs by code; both hold the same key (never shown by the API); the primary serves, the fallback does not', async () => {
    const mac = await host('primary');
    const pc = await host('fallback');
    expect(serving(mac) && serving(pc)).toBe(true); // unpaired: each serves itself

    const started = await mac.pairing.pair({ address: '127.0.0.1', port: port(pc) });
    expect(started).toMatchObject({ peerId: pc.settings.get().hostId, expiresInSeconds: 120 });
    const incoming = pc.pairing.status().incoming!;
    expect(incoming.code).toMatch(/^\d{6}$/);
    expect(incoming.fromId).toBe(mac.settings.get().hostId);
    // The code is nowhere in the open snapshot (the notice says where to look instead).
    const open = JSON.stringify(pc.store.snapshot());
    expect(open).not.toContain(incoming.code);
    expect(pc.store.snapshot().pairing!.pending).toMatchObject({
      direction: 'incoming',
      peerName: mac.store.get('host').name,
    });
    expect(pc.store.snapshot().notices.some((n) => n.code === 'pairing_request')).toBe(true);

    const done = await mac.pairing.confirm(incoming.code);
    expect(done.peerId).toBe(pc.settings.get().hostId);
    const mk = mac.settings.get().pairing.peers[0]!;
    const pk = pc.settings.get().pairing.peers[0]!;
    expect(mk.key).toBe(pk.key);
    expect(Buffer.from(mk.key, 'base64')).toHaveLength(32);
    expect(mac.settings.get().pairing.pairId).toBe(pc.settings.get().pairing.pairId);
    expect(mac.store.get('host').pairId).toMatch(/^[0-9a-f]{8}$/);
    // Secrets: file 0600, and no API answer carries the key.
    // (Windows has no POSIX modes: the file sits in the user's own profile there.)
    if (process.platform !== 'win32')
      expect(fs.statSync(pc.settings.file).mode & 0o777).toBe(0o600);
    for (const c of [mac, pc]) {
      for (const p of ['/api/status', '/api/pairing', '/api/settings']) {
        const res = await fetch(`http://127.0.0.1:${port(c)}${p}`, {
          headers: { authorization: `Bearer ${c.token()}` },
        });
        expect(res.status).toBe(200);
        expect(await res.text()).not.toContain(mk.key);
      }
    }

    await until(() => serving(mac) && !serving(pc), 3000, 'the primary alone serving');
    await until(
      () => pc.store.get('peers').find((p) => p.paired && p.alive && p.serving),
      3000,
      'the peer shown alive and serving',
    );
    const peer = pc.store.get('peers')[0]!;
    expect(peer).toMatchObject({
      id: mac.settings.get().hostId,
      paired: true,
      role: 'primary',
      prio: 200,
      serving: true,
      alive: true,
    });
    expect(peer.lastSeenSeconds).toBeLessThanOrEqual(1);
    expect(pc.store.get('pairing')!.servingId).toBe(mac.settings.get().hostId);
    expect(pc.store.get('pairing')!.heartbeats.accepted).toBeGreaterThan(0);
  });

  it('wrong codes count down with a clear message; the right one still pairs', async () => {
    const mac = await host('primary');
    const pc = await host('fallback');
    await mac.pairing.pair({ address: '127.0.0.1', port: port(pc) });
    const code = pc.pairing.status().incoming!.code;
    const wrong = code === '000000' ? '000001' : '000000';
    await expect(mac.pairing.confirm(wrong)).rejects.toThrow(/Wrong code\. 4 attempt\(s\) left/);
    expect(pc.pairing.status().incoming!.attemptsLeft).toBe(4);
    await expect(mac.pairing.confirm('12345')).rejects.toThrow(/6 digits/);
    await mac.pairing.confirm(code);
    expect(pc.settings.get().pairing.peers).toHaveLength(1);
  });

  it('a second PC joins through the primary: all three share one pair id and know each other', async () => {
    // 1 s heartbeats here: a timeout would take 3 s, so a quick takeover below can only be the handoff.
    const mac = await host('primary', null, 1000);
    const pc = await host('fallback', null, 1000);
    const pc2 = await host('fallback', 150, 1000);
    await pair(mac, pc);
    await pair(pc2, mac);
    const ids = [mac, pc, pc2].map((c) => c.settings.get().hostId);
    await until(
      () => pc.settings.get().pairing.peers.length === 2,
      3000,
      'the first PC to learn of the second',
    );
    const pairId = mac.settings.get().pairing.pairId;
    for (const c of [pc, pc2]) expect(c.settings.get().pairing.pairId).toBe(pairId);
    const keyOf = (c: Core, id: string) =>
      c.settings.get().pairing.peers.find((p) => p.id === id)!.key;
    expect(keyOf(pc, ids[2]!)).toBe(keyOf(pc2, ids[1]!));
    expect(keyOf(pc, ids[2]!)).not.toBe(keyOf(pc, ids[0]!));
    await until(
      () => serving(mac) && !serving(pc) && !serving(pc2),
      3000,
      'only the primary serving',
    );
    await until(
      () => pc.store.get('peers').filter((p) => p.alive).length === 2,
      3000,
      'both peers alive on the first PC',
    );

    // Graceful quit of the primary: the better PC (prio 150) takes over at once, without waiting 3 intervals.
    const t0 = Date.now();
    await mac.stop('quit');
    await until(() => serving(pc2), 2000, 'the second PC to take over');
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(serving(pc)).toBe(false);
  });

  it('forged and malformed heartbeats are dropped and counted, and change nothing', async () => {
    const mac = await host('primary');
    const pc = await host('fallback');
    await pair(mac, pc);
    await until(() => serving(mac) && !serving(pc), 3000, 'the primary serving');
    const before = pc.store.get('pairing')!.heartbeats;
    const sock = dgram.createSocket('udp4');
    const macId = mac.settings.get().hostId;
    const pcId = pc.settings.get().hostId;
    const body = {
      v: 1,
      from: macId,
      to: pcId,
      boot: '0123456789abcdef',
      seq: 1e9,
      ts: Date.now(),
      echo: null,
      name: 'Mac',
      role: 'primary',
      port: port(mac),
      pairId: null,
      advert: {
        prio: 200,
        ready: true,
        failed: false,
        state: 'active',
        serving: false,
        claim: false,
        eligible: false,
        activityAgeMs: null,
      },
    };
    const forged = Buffer.concat([
      Buffer.from('UMHB1'),
      Buffer.alloc(32, 7),
      Buffer.from(JSON.stringify(body)),
    ]);
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((r) => sock.send(forged, port(pc), '127.0.0.1', () => r()));
      await new Promise<void>((r) =>
        sock.send(Buffer.from('garbage'), port(pc), '127.0.0.1', () => r()),
      );
    }
    sock.close();
    await until(
      () => pc.store.get('pairing')!.heartbeats.unauthenticated >= before.unauthenticated + 20,
      2000,
      'forged datagrams counted',
    );
    const after = pc.store.get('pairing')!.heartbeats;
    expect(after.malformed).toBeGreaterThanOrEqual(before.malformed + 20);
    // The forgery claimed the Mac was leaving: had it been believed, the PC would have taken over.
    await new Promise((r) => setTimeout(r, 500));
    expect(serving(mac)).toBe(true);
    expect(serving(pc)).toBe(false);
  });

  it('"stop serving" hands over at once; resume takes the pair back after the hold-down', async () => {
    const mac = await host('primary');
    const pc = await host('fallback');
    await pair(mac, pc);
    await until(() => serving(mac) && !serving(pc), 3000, 'the primary serving');
    await mac.commands.execute({ type: 'serving.stop' });
    expect(serving(mac)).toBe(false);
    await until(() => serving(pc), 500, 'the PC to take over');
    expect(mac.store.get('pairing')!.standby).toBe(true);
    const t0 = Date.now();
    await mac.commands.execute({ type: 'serving.resume' });
    await until(() => serving(mac) && !serving(pc), 4000, 'the failback').catch((e) => {
      throw new Error(
        `${(e as Error).message}: mac ${mac.store.get('pairing')!.reason} / pc ${pc.store.get('pairing')!.reason}`,
      );
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000); // hold-down 1 s in this test
  });

  it('unpair from one side removes trust on both; unpairing alone works when the other host is gone', async () => {
    const mac = await host('primary');
    const pc = await host('fallback');
    await pair(mac, pc);
    const r = await pc.pairing.unpair();
    expect(r.unreachable).toEqual([]);
    expect(pc.settings.get().pairing).toMatchObject({ peers: [], pairId: null });
    expect(mac.settings.get().pairing).toMatchObject({ peers: [], pairId: null });
    await until(() => serving(mac) && serving(pc), 2000, 'both serving themselves again');

    await pair(mac, pc);
    await pc.stop('quit');
    const alone = await mac.pairing.unpair(pc.settings.get().hostId);
    expect(alone.unreachable).toEqual([pc.settings.get().hostId]);
    expect(mac.settings.get().pairing.peers).toEqual([]);
    expect(
      mac.store
        .snapshot()
        .notices.some((n) => n.code === 'pairing_unpaired' && n.level === 'warning'),
    ).toBe(true);
  });
});
