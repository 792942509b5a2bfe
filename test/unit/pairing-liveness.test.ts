// A peer's liveness runs on the injected clock, the same one as the heartbeat timers: on a manual
// (or sped-up) clock a paired peer that is not heard is gone after 3 of that clock's intervals, with
// no real waiting. Before, liveness read performance.now(): the timers ran on the test's clock but
// "3 intervals since last heard" never came, so a fallback never took over.

import { afterEach, describe, expect, it } from 'vitest';
import { createPairing, type Pairing } from '../../main/core/pairing/index.js';
import { ElectionDriver } from '../../main/core/pairing/driver.js';
import type { Advert, ElectionConfig } from '../../main/core/pairing/election.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { acceleratedClock, systemClock } from '../../main/core/util/clock.js';
import { testContext } from '../helpers/core-context.js';
import { tempDir } from '../helpers/headless.js';
import { ManualClock } from '../helpers/manual-clock.js';

const INTERVAL = 100;
const PEER = '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';

const started: { pairing: Pairing; clock: ManualClock }[] = [];
afterEach(async () => {
  for (const { pairing, clock } of started.splice(0)) {
    const stopped = pairing.stop('quit');
    await clock.advance(100); // the handoff's repeats run on this clock
    await stopped;
  }
});

describe('pairing liveness on the injected clock', () => {
  it('a paired primary never heard: the fallback serves after 3 intervals of the manual clock', async () => {
    const clock = new ManualClock();
    const ctx = { ...testContext({ dataDir: tempDir('unamentis-pairing-live-') }), clock };
    const s = ctx.settings.get();
    const r = ctx.settings.replace({
      ...s,
      role: 'fallback',
      prio: 100,
      pairing: {
        ...s.pairing,
        pairId: 'a1b2c3d4-0000-4000-8000-000000000001',
        heartbeatIntervalMs: INTERVAL,
        peers: [
          {
            id: PEER,
            name: 'mac',
            role: 'primary',
            prio: 200,
            key: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
            addresses: ['192.0.2.10'],
            port: 8766,
            pairedAt: new Date(clock.now()).toISOString(),
          },
        ],
      },
    });
    expect(r.ok).toBe(true);
    // No heartbeat socket (no address): the peer is never heard, as if it had stopped.
    const pairing = createPairing(ctx, { address: () => null, discovery: null });
    await pairing.start();
    started.push({ pairing, clock });
    const serving = () => ctx.store.get('host').serving;
    await clock.advance(2.5 * INTERVAL);
    expect(serving()).toBe(false); // still listening for who serves
    await clock.advance(INTERVAL);
    expect(serving()).toBe(true);
    expect(pairing.status().peers.find((p) => p.id === PEER)?.alive ?? false).toBe(false);
  });

  it('the driver: a peer that stops heartbeating is alive for 3 intervals, then gone and the fallback serves', async () => {
    const clock = new ManualClock();
    const cfg: ElectionConfig = {
      intervalMs: INTERVAL,
      deadAfterMs: 3 * INTERVAL,
      holdDownMs: 10_000,
      sessionIdleMs: 60_000,
    };
    const serves: { serving: boolean; at: number }[] = [];
    const driver = new ElectionDriver({
      clock,
      log: nullLogger,
      config: () => cfg,
      selfId: () => 'a',
      peerIds: () => ['b'],
      self: () => ({ prio: 100, ready: true, failed: false, state: 'active', activityAt: null }),
      send: () => {},
      quiet: () => false,
      setServing: () => {},
      serve: (serving) => serves.push({ serving, at: clock.now() }),
      publish: () => {},
      probe: async () => null,
    });
    driver.start();
    const advert: Advert = {
      prio: 200,
      ready: true,
      failed: false,
      state: 'active',
      serving: true,
      claim: false,
      eligible: true,
      activityAgeMs: null,
    };
    const t0 = clock.now();
    driver.heard('b', advert);
    await clock.advance(3 * INTERVAL - 10);
    expect(driver.alive('b')).toBe(true);
    expect(serves).toEqual([]);
    await clock.advance(20);
    expect(driver.alive('b')).toBe(false);
    expect(serves).toEqual([{ serving: true, at: expect.any(Number) }]);
    expect(serves[0]!.at - t0).toBeLessThanOrEqual(3 * INTERVAL + 10);
    driver.stop();
  });

  it('every clock has a monotonic reading on the scale of its now()', async () => {
    const fast = acceleratedClock(50);
    const m0 = fast.monotonic();
    const w0 = fast.now();
    await new Promise((r) => setTimeout(r, 40));
    const dm = fast.monotonic() - m0;
    const dw = fast.now() - w0;
    // Both ×50: about 2 s of clock time in 40 ms (a loaded machine only makes both larger).
    expect(dm).toBeGreaterThan(1500);
    expect(Math.abs(dm - dw)).toBeLessThan(0.25 * dw + 100);
    const a = systemClock.monotonic();
    expect(systemClock.monotonic()).toBeGreaterThanOrEqual(a);
    const manual = new ManualClock();
    const before = manual.monotonic();
    await manual.advance(1234);
    expect(manual.monotonic() - before).toBe(1234);
  });
});
