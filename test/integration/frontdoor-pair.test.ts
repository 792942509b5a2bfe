// The front door of a host that does not serve passes requests to the paired host that does
// (issue 14), on the port that host advertises for the service: the two hosts' public ports may
// differ. Without an advertised port it uses its own public port for the service. The door runs
// alone here (no supervisor, no pairing): `forwardTo` stands in for pairing's answer, and a plain
// HTTP server stands in for the serving host's front door.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateStore } from '../../main/core/state/store.js';
import { SettingsStore } from '../../main/core/settings/store.js';
import { CommandBus } from '../../main/core/commands.js';
import { EventHub } from '../../main/core/api/sse.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { systemClock } from '../../main/core/util/clock.js';
import type { CoreContext } from '../../main/core/context.js';
import { createFrontDoor, type FrontDoor } from '../../main/core/frontdoor/index.js';
import { tempDir } from '../helpers/headless.js';
import { fakeVibevoice, freePort } from './hibernation-fakes.js';

let fd: FrontDoor;
let publicPort: number;
let peer: http.Server;
let peerPort: number;
const seen: { url: string; forwardedBy: string | undefined; host: string | undefined }[] = [];
/** What pairing would answer: the serving host, and the port it advertises (null: unknown). */
let advertised: number | null = null;

beforeAll(async () => {
  publicPort = await freePort();
  peer = http.createServer((req, res) => {
    seen.push({
      url: req.url ?? '',
      forwardedBy: req.headers['x-unamentis-forwarded'] as string | undefined,
      host: req.headers.host,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"voices":[{"voice_id":"peer"}]}');
  });
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  peerPort = (peer.address() as AddressInfo).port;

  const dataDir = tempDir('unamentis-fd-pair-');
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      serveOnLan: false,
      discovery: { advertise: false, interfaces: [] },
      services: {
        ollama: { enabled: false },
        whisper: { enabled: false },
        piper: { enabled: false },
        vibevoice: {
          command: process.execPath,
          args: [fakeVibevoice, '--host', '{host}', '--port', '{port}'],
          port: publicPort,
        },
      },
    }),
  );
  const { store: settings } = SettingsStore.open({
    dataDir,
    facts: { platform: process.platform, hostname: 'test' },
  });
  const store = new StateStore(
    {
      host: {
        id: 'x',
        name: 'test',
        platform: process.platform,
        role: 'primary',
        prio: 100,
        serving: false,
      },
      hibernation: { state: 'active', idleSeconds: 0, next: null },
      services: [],
      gpu: { sampledAt: null, gpus: [], models: [] },
      peers: [],
    },
    () => Date.now(),
  );
  const ctx: CoreContext = {
    store,
    settings,
    commands: new CommandBus(),
    events: new EventHub(),
    logger: nullLogger,
    clock: systemClock,
    dataDir,
    isReady: () => true,
  };
  fd = createFrontDoor(ctx, {
    hibernation: () => null,
    // As pairing does: a request a host of the pair already forwarded is served here.
    forwardTo: (_id, req) =>
      req.headers['x-unamentis-forwarded'] !== undefined
        ? null
        : { peerId: 'pc', host: '127.0.0.1', port: advertised },
    hostId: () => 'this-host',
  });
  await fd.start();
  expect(fd.placement('vibevoice')).not.toBeNull();
});

afterAll(async () => {
  await fd?.stop();
  peer?.closeAllConnections();
  await new Promise<void>((r) => (peer ? peer.close(() => r()) : r()));
});

describe('the pair: a request at a host that does not serve', () => {
  it('goes to the serving host on the port it advertises for the service', async () => {
    advertised = peerPort;
    seen.length = 0;
    const res = await fetch(`http://127.0.0.1:${publicPort}/v1/audio/voices`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ voices: [{ voice_id: 'peer' }] });
    expect(seen).toEqual([
      { url: '/v1/audio/voices', forwardedBy: 'this-host', host: `127.0.0.1:${peerPort}` },
    ]);
  });

  it('without an advertised port, goes to its own public port for the service', async () => {
    // Here that is this very door: the request comes back marked as forwarded and is served
    // here, where nothing runs (503), and the other port never sees it.
    advertised = null;
    seen.length = 0;
    const res = await fetch(`http://127.0.0.1:${publicPort}/v1/audio/voices`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'service_unavailable',
    );
    expect(seen).toEqual([]);
  });
});
