// Issue #20, finding 3: the heartbeat replay guard lived in memory. After both hosts restarted,
// seven heartbeats recorded from an earlier run of B, replayed at A, made A echo that dead boot to B;
// B then stopped hearing A and both served. Real cores on loopback, restarted on the same data dirs
// and ports; the "recording" is a heartbeat of B's earlier run (its boot, its epoch, its sequence,
// A's earlier boot as echo), sealed with the pair's real key as B sealed it then.

import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { peerKeys } from '../../main/core/pairing/crypto.js';
import { encodeHeartbeat, EPOCH_FILE, type Heartbeat } from '../../main/core/pairing/heartbeat.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { tempDir } from '../helpers/headless.js';
import { freePort } from '../helpers/ports.js';

const cores: Core[] = [];

afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.stop('quit').catch(() => {})));
});

function writeSettings(dataDir: string, role: 'primary' | 'fallback'): void {
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
      pairing: { heartbeatIntervalMs: 100, failbackHoldDownSeconds: 1, sessionIdleSeconds: 1 },
    }),
  );
}

async function start(dataDir: string, port: number): Promise<Core> {
  const core = createCore({
    dataDir,
    port,
    bind: '127.0.0.1',
    logger: nullLogger,
    rendererDir: null,
    supervisor: { autoStart: false },
  });
  cores.push(core);
  await core.start();
  return core;
}

async function until(fn: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const serving = (c: Core) => c.store.get('host').serving;

describe('heartbeat replay across restarts', () => {
  it('heartbeats recorded from an earlier run of B, replayed at A, do not make B lose A (no split brain)', async () => {
    const [dirA, dirB] = [tempDir('unamentis-replay-a-'), tempDir('unamentis-replay-b-')];
    const [portA, portB] = [await freePort(), await freePort()];
    writeSettings(dirA, 'primary');
    writeSettings(dirB, 'fallback');
    let a = await start(dirA, portA);
    let b = await start(dirB, portB);
    await a.pairing.pair({ address: '127.0.0.1', port: portB });
    await a.pairing.confirm(b.pairing.status().incoming!.code);
    await until(() => serving(a) && !serving(b), 3000, 'A serving, B standing by');
    const idA = a.settings.get().hostId;
    const idB = b.settings.get().hostId;
    const key = peerKeys(Buffer.from(b.settings.get().pairing.peers[0]!.key, 'base64')).heartbeat;
    // What B's first run was: its epoch (0 before epochs existed) and a boot A's next run never saw.
    const readEpoch = () => {
      try {
        return Number(fs.readFileSync(path.join(dirB, EPOCH_FILE), 'utf8'));
      } catch {
        return 0;
      }
    };
    const earlier = {
      boot: randomBytes(8).toString('hex'),
      epoch: readEpoch(),
      echo: randomBytes(8).toString('hex'),
    };

    // Both hosts restart.
    await Promise.all([a.stop('quit'), b.stop('quit')]);
    a = await start(dirA, portA);
    b = await start(dirB, portB);
    await until(() => serving(a) && !serving(b), 5000, 'A serving again after the restart');
    await until(
      () => b.store.get('peers').some((p) => p.id === idA && p.alive),
      3000,
      'B hearing A',
    );

    // Seven recorded heartbeats of B's earlier run, replayed at A over and over (from the attacker's socket).
    const sock = dgram.createSocket('udp4');
    const advert = {
      prio: 100,
      ready: true,
      failed: false,
      state: 'active' as const,
      serving: false,
      claim: false,
      eligible: true,
      activityAgeMs: null,
    };
    const recorded = Array.from({ length: 7 }, (_, i) => {
      const hb: Heartbeat = {
        v: 1, from: idB, to: idA, boot: earlier.boot, epoch: earlier.epoch, seq: 100 + i, ts: Date.now() - 60_000,
        echo: earlier.echo, name: 'fallback', role: 'fallback', port: portB, pairId: a.settings.get().pairing.pairId, advert,
      }; // prettier-ignore
      return encodeHeartbeat(hb, key);
    });
    // Watch for 3 s (30 heartbeat intervals, well past the 3-interval death of a silent peer).
    let both = 0;
    let samples = 0;
    let sent = 0;
    const end = Date.now() + 3_000;
    while (Date.now() < end) {
      for (const d of recorded)
        await new Promise<void>((r) => sock.send(d, portA, '127.0.0.1', () => r()));
      sent += recorded.length;
      if (samples++ % 5 === 0 && serving(a) && serving(b)) both++;
      await new Promise((r) => setTimeout(r, 10));
    }
    sock.close();
    expect(both).toBe(0);
    expect(serving(a)).toBe(true);
    expect(a.store.get('pairing')!.heartbeats.replayed).toBeGreaterThanOrEqual(sent * 0.9);
  });
});
