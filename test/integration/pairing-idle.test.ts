// An unpaired host with nobody around: the heartbeat tick has nothing to send or refresh, so it writes
// nothing. Once something is under way (a pairing request here), the tick works again: the countdown moves.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { tempDir } from '../helpers/headless.js';

const cores: Core[] = [];
afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.stop('quit').catch(() => {})));
});

async function host(name: string): Promise<Core> {
  const dataDir = tempDir('unamentis-pairing-idle-');
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      displayName: name,
      models: { preload: [] },
      services: { ollama: { enabled: false }, vibevoice: { enabled: false }, piper: { enabled: false }, whisper: { enabled: false } },
      discovery: { advertise: false, interfaces: [] },
      pairing: { heartbeatIntervalMs: 100 },
    }),
  );
  const core = createCore({ dataDir, port: 0, bind: '127.0.0.1', logger: nullLogger, rendererDir: null, supervisor: { autoStart: false } });
  cores.push(core);
  await core.start();
  return core;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pairingWrites = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.filter(([name]) => name === 'pairing' || name === 'peers').length;

describe('pairing tick when idle', () => {
  it('writes nothing while nothing is paired, pending or discovered; ticks again once a request is pending', async () => {
    const a = await host('a');
    const b = await host('b');
    // Other test files announce hosts on loopback at the same time; b must see nobody, whatever runs beside it.
    vi.spyOn(b.discovery, 'list').mockReturnValue([]);
    await sleep(450); // past the start-up listening window (3 intervals), whose deadline has its own timer
    const spy = vi.spyOn(b.store, 'set');
    await sleep(600);
    expect(pairingWrites(spy)).toBe(0);

    await a.pairing.pair({ address: '127.0.0.1', port: b.address()!.port });
    const first = b.store.get('pairing')!.pending!.expiresInSeconds;
    spy.mockClear();
    await sleep(1300);
    expect(pairingWrites(spy)).toBeGreaterThan(5);
    expect(b.store.get('pairing')!.pending!.expiresInSeconds).toBeLessThan(first);
    spy.mockRestore();
  });
});
