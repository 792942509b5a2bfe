// Session activity end to end (issue #17): a real core's heartbeats carry its last real activity
// (`advert.activityAgeMs`, what the other host's election reads before a failback). Its own wake on
// taking over is not a session; a request after it is. The other host is a UDP socket on its port
// that reads the heartbeats with the pair's key (its core stopped after pairing).

import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { peerKeys } from '../../main/core/pairing/crypto.js';
import { decodeHeartbeat, type Heartbeat } from '../../main/core/pairing/heartbeat.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { tempDir } from '../helpers/headless.js';
import { freePort } from '../helpers/ports.js';

const cores: Core[] = [];
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await Promise.all(cores.splice(0).map((c) => c.stop('quit').catch(() => {})));
});

async function start(role: 'primary' | 'fallback', port: number): Promise<Core> {
  const dataDir = tempDir(`unamentis-pairing-activity-${role}-`);
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
      pairing: { heartbeatIntervalMs: 100, failbackHoldDownSeconds: 1, sessionIdleSeconds: 60 },
    }),
  );
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

describe('session activity in the heartbeats', () => {
  it("the host's own wake on taking over is not a session; an API activity right after it is", async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const a = await start('primary', portA);
    const b = await start('fallback', portB);
    await a.pairing.pair({ address: '127.0.0.1', port: portB });
    await a.pairing.confirm(b.pairing.status().incoming!.code);
    const idB = b.settings.get().hostId;
    const key = peerKeys(Buffer.from(b.settings.get().pairing.peers[0]!.key, 'base64')).heartbeat;
    await b.stop('quit');

    // B's port, now read by the test: A's heartbeats as B would get them.
    const heard: Heartbeat[] = [];
    const sock = dgram.createSocket('udp4');
    sockets.push(sock);
    sock.on('message', (buf) => {
      const d = decodeHeartbeat(buf, () => key, idB);
      if (d.ok) heard.push(d.hb);
    });
    await new Promise<void>((r) => sock.bind(portB, '127.0.0.1', () => r()));

    // Stop serving, then resume: nobody else serves, so A takes over and wakes itself.
    a.pairing.stopServing();
    await until(() => !a.store.get('host').serving, 2000, 'A standing by');
    const idleSince = a.store.get('hibernation').lastActivityAt;
    a.pairing.resumeServing();
    await until(() => a.store.get('host').serving, 2000, 'A serving again');
    // Its wake reached hibernation (the idle clock moved)...
    expect(a.store.get('hibernation').lastActivityAt).not.toBe(idleSince);
    // ...and is not a session: its heartbeats say no activity.
    const promotedAt = heard.length;
    await until(() => heard.length >= promotedAt + 4, 3000, 'heartbeats after the promotion');
    expect(heard.slice(promotedAt).filter((h) => h.advert.activityAgeMs !== null)).toEqual([]);
    expect(heard.at(-1)!.advert.serving).toBe(true);

    // Someone uses A (the phone's POST /api/activity) within the second after its wake.
    const res = await fetch(`http://127.0.0.1:${portA}/api/activity`, { method: 'POST' });
    expect(res.status).toBe(204);
    const after = heard.length;
    await until(
      () => heard.slice(after).some((h) => h.advert.activityAgeMs !== null),
      3000,
      'activity in the heartbeats',
    );
    const h = heard.slice(after).find((x) => x.advert.activityAgeMs !== null)!;
    expect(h.advert.activityAgeMs).toBeLessThan(5_000);
  });
});
