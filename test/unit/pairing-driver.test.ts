// The election driver on a manual clock: its timers (heartbeat tick, the start-up window and other
// election deadlines, the check on a late serving peer, the handoff's repeats) run when the test
// advances time, so nothing here sleeps. The election itself is tested in election.test.ts.

import { describe, expect, it } from 'vitest';
import { ElectionDriver, type DriverDeps } from '../../main/core/pairing/driver.js';
import type {
  Advert,
  ElectionConfig,
  SelfStatus,
  ServeKind,
} from '../../main/core/pairing/election.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { ManualClock } from '../helpers/manual-clock.js';

const INTERVAL = 1000;

/** A fallback host (prio 100) paired with one primary, `b` (prio 200). */
function rig(over: Partial<DriverDeps> = {}) {
  const clock = new ManualClock();
  const cfg: ElectionConfig = {
    intervalMs: INTERVAL,
    deadAfterMs: 3 * INTERVAL,
    holdDownMs: 10_000,
    sessionIdleMs: 60_000,
  };
  const self: SelfStatus = {
    prio: 100,
    ready: true,
    failed: false,
    state: 'active',
    activityAt: null,
  };
  const r = {
    clock,
    cfg,
    self,
    sends: [] as number[],
    serves: [] as { serving: boolean; kind: ServeKind; at: number }[],
    hostServing: null as boolean | null,
    probes: [] as number[],
    refused: false,
    quiet: false,
  };
  const driver = new ElectionDriver({
    clock,
    log: nullLogger,
    config: () => r.cfg,
    selfId: () => 'a',
    peerIds: () => ['b'],
    self: () => r.self,
    send: () => r.sends.push(clock.now()),
    quiet: () => r.quiet,
    setServing: (serving) => (r.hostServing = serving),
    serve: (serving, kind) => {
      r.hostServing = serving;
      r.serves.push({ serving, kind, at: clock.now() });
    },
    publish: () => {},
    probe: async () => {
      r.probes.push(clock.now());
      return { refused: r.refused, where: '192.168.1.2:8766' };
    },
    ...over,
  });
  return { ...r, r, driver, t0: clock.now() };
}

const advert = (over: Partial<Advert> = {}): Advert => ({
  prio: 200,
  ready: true,
  failed: false,
  state: 'active',
  serving: true,
  claim: false,
  eligible: true,
  activityAgeMs: null,
  ...over,
});

describe('election driver (manual clock)', () => {
  it('a paired host listens for 3 intervals before it promotes, then takes over on its own deadline', async () => {
    const { driver, clock, r, t0 } = rig();
    r.quiet = true; // no heartbeat ticks: the election's own deadline timer must promote
    driver.start();
    expect(r.hostServing).toBe(false);
    await clock.advance(3 * INTERVAL - 1);
    expect(r.hostServing).toBe(false);
    await clock.advance(2);
    expect(r.serves).toEqual([{ serving: true, kind: 'promotion', at: t0 + 3 * INTERVAL + 1 }]);
    driver.stop();
  });

  it('sends a heartbeat every interval and follows a new interval at once; a quiet host skips the tick', async () => {
    const { driver, clock, r, t0 } = rig();
    driver.start();
    await clock.advance(2 * INTERVAL);
    // At start, then at each tick (the promotion's own announce comes on top, at its deadline).
    expect(r.sends.filter((t) => (t - t0) % INTERVAL === 0)).toEqual([
      t0,
      t0 + INTERVAL,
      t0 + 2 * INTERVAL,
    ]);

    r.cfg = { ...r.cfg, intervalMs: 250 };
    driver.restartHeartbeats();
    const before = r.sends.length;
    await clock.advance(1000);
    expect(r.sends.length - before).toBeGreaterThanOrEqual(4);

    r.quiet = true;
    await clock.advance(250); // let a tick already due run out
    const quietFrom = r.sends.length;
    await clock.advance(5000);
    expect(r.sends.length).toBe(quietFrom);
    driver.stop();
  });

  it('a serving peer that falls silent is gone after 3 intervals (a probe that is not refused proves nothing)', async () => {
    const { driver, clock, r } = rig();
    driver.start();
    driver.heard('b', advert());
    const heardAt = clock.now();
    r.quiet = true; // b sends nothing more and we tick nothing: only the driver's timers run
    await clock.advance(1.25 * INTERVAL);
    expect(r.probes).toEqual([heardAt + 1.25 * INTERVAL]); // a quarter interval late: its port is checked
    expect(r.hostServing).toBe(false);
    await clock.advance(3 * INTERVAL - 1.25 * INTERVAL - 1);
    expect(r.hostServing).toBe(false);
    await clock.advance(2);
    expect(r.hostServing).toBe(true);
    expect(r.serves.at(-1)!.kind).toBe('promotion');
    expect(r.probes.length).toBeGreaterThanOrEqual(2); // still late after the first check: looked again
    driver.stop();
  });

  it('a serving peer whose port refuses connections is gone at once, before its heartbeats run out', async () => {
    const { driver, clock, r } = rig();
    r.refused = true;
    driver.start();
    driver.heard('b', advert());
    const heardAt = clock.now();
    r.quiet = true;
    await clock.advance(1.25 * INTERVAL);
    expect(r.hostServing).toBe(true);
    expect(r.serves.at(-1)!.at).toBe(heardAt + 1.25 * INTERVAL);
    driver.stop();
  });

  it('a heartbeat in time cancels the check on a late peer', async () => {
    const { driver, clock, r } = rig();
    driver.start();
    r.quiet = true;
    for (let i = 0; i < 5; i++) {
      driver.heard('b', advert());
      await clock.advance(INTERVAL);
    }
    expect(r.probes).toEqual([]);
    expect(r.hostServing).toBe(false);
    driver.stop();
  });

  it('a handoff says so three times, 20 and 60 ms apart, on the clock', async () => {
    const { driver, clock, r } = rig({ peerIds: () => [] }); // unpaired: serves itself
    driver.start();
    expect(r.hostServing).toBe(true);
    r.quiet = true;
    const from = r.sends.length;
    let done = false;
    const p = driver.handoff('quit').then(() => (done = true));
    expect(r.hostServing).toBe(false);
    const at = clock.now();
    await clock.advance(100);
    await p;
    expect(done).toBe(true);
    // The leave step's own announce, the first word, then one after 20 ms and one 60 ms later.
    expect(r.sends.slice(from).map((t) => t - at)).toEqual([0, 0, 20, 80]);
    await driver.handoff('quit'); // leaving already: nothing more
    expect(r.sends.length - from).toBe(4);
    driver.stop();
  });

  it('stop leaves no timer behind', async () => {
    const { driver, clock } = rig();
    driver.start();
    driver.heard('b', advert());
    expect(clock.timers.length).toBeGreaterThan(0);
    driver.stop();
    expect(clock.timers).toEqual([]);
  });
});
