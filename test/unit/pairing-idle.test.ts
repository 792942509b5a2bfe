// An unpaired host with nobody around: the heartbeat tick has nothing to send or refresh, so it writes
// nothing. Once something is under way (a pairing request here), the tick works again: the countdown
// moves. The pairing capability on a real context and a manual clock (its timers and the monotonic
// clock both advance with it), so nothing sleeps; the request comes in through the handler the
// control port's route calls.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPairing, type Pairing } from '../../main/core/pairing/index.js';
import { testContext } from '../helpers/core-context.js';
import { tempDir } from '../helpers/headless.js';
import { ManualClock } from '../helpers/manual-clock.js';

const started: { pairing: Pairing; clock: ManualClock }[] = [];
afterEach(async () => {
  for (const { pairing, clock } of started.splice(0)) {
    const stopped = pairing.stop('quit');
    await clock.advance(100); // the handoff says so three times, 20 and 60 ms apart, on this clock
    await stopped;
  }
});

const writes = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls.filter(([name]) => name === 'pairing' || name === 'peers').length;

describe('pairing tick when idle (manual clock)', () => {
  it('writes nothing while nothing is paired, pending or discovered; ticks again once a request is pending', async () => {
    const clock = new ManualClock();
    const base = testContext({ dataDir: tempDir('unamentis-pairing-idle-') });
    const ctx = { ...base, clock };
    ctx.settings.replace({
      ...ctx.settings.get(),
      pairing: { ...ctx.settings.get().pairing, heartbeatIntervalMs: 100 },
    });
    const pairing = createPairing(ctx, {
      address: () => null, // no heartbeat socket: nothing is paired, and this test opens none
      discovery: { list: () => [], onChange: () => () => {} },
    });
    await pairing.start();
    started.push({ pairing, clock });
    await clock.advance(450);
    const spy = vi.spyOn(ctx.store, 'set');
    await clock.advance(600);
    expect(writes(spy)).toBe(0);

    // Another host asks to pair (POST /api/pairing/request): a code is pending here.
    await pairing.peerApi.request(
      {
        v: 1,
        card: {
          id: '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
          name: 'pc',
          role: 'fallback',
          prio: 100,
          port: 8766,
          pairId: null,
        },
      },
      '192.168.1.30',
    );
    const first = ctx.store.get('pairing')!.pending!.expiresInSeconds;
    spy.mockClear();
    await clock.advance(1300);
    expect(writes(spy)).toBeGreaterThan(5);
    expect(ctx.store.get('pairing')!.pending!.expiresInSeconds).toBeLessThan(first);
    spy.mockRestore();
  });
});
