// Session activity as pairing counts it (issue #17): hibernation reports each reset of its idle
// clock with the source that did it, and pairing tells its own wake apart by that source, not by
// when it came. Before, pairing dropped every change of lastActivityAt from 50 ms before to 1.5 s
// after its own wake, so a phone's requests in that window did not count as a session, and
// hibernation's 1 s throttle swallowed a request that came within a second of any wake.
// The real hibernation runner and command bus, on a manual clock; the phone's requests come as the
// front door reports them (hibernation.activity with the service and client, frontdoor/index.ts), and
// pairing's wake as the election's `serve` effect sends it (serving.ts).

import { afterEach, describe, expect, it } from 'vitest';
import type { Activity } from '../../main/core/context.js';
import { Hibernation, type HibernationServices } from '../../main/core/hibernation/index.js';
import { ownWakeSource, applyServing } from '../../main/core/pairing/serving.js';
import { SelfView } from '../../main/core/pairing/self-status.js';
import { NullPowerBlocker } from '../../main/core/power/index.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { testContext } from '../helpers/core-context.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { tempDir } from '../helpers/headless.js';

/** No supervised services: only the idle clock matters here. */
const noServices: HibernationServices = {
  list: () => [],
  start: async () => {},
  stop: async () => {},
  waitReady: async () => true,
  hasModels: () => false,
  unloadModels: async () => ({ ok: true, remaining: [] }),
  listLoaded: async () => [],
  preloadModels: async () => [],
  onLog: () => () => {},
  onReady: () => () => {},
  note: () => {},
};

const running: Hibernation[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((h) => h.stop()));
});

function rig() {
  const clock = new ManualClock();
  const ctx = { ...testContext({ dataDir: tempDir('unamentis-pairing-activity-') }), clock };
  const hibernation = new Hibernation({
    store: ctx.store,
    settings: ctx.settings,
    commands: ctx.commands,
    logger: nullLogger,
    clock,
    isReady: () => true,
    services: noServices,
    power: new NullPowerBlocker(),
  });
  hibernation.start();
  running.push(hibernation);
  const seen: Activity[] = [];
  hibernation.onActivity((a) => seen.push(a));
  // Pairing's view, on the same clock (monotonic = the clock here).
  const self = new SelfView(ctx, () => clock.now());
  hibernation.onActivity((a) => self.noteActivity(a));
  /** Pairing takes over: the same call the election's `serve` effect makes (it sends the wake). */
  const promote = () =>
    applyServing(
      { ctx, log: nullLogger, describe: (r) => r },
      true,
      'promotion',
      'no other host serves',
    );
  const phone = (from = '192.168.1.20') => hibernation.activity(`ollama connection from ${from}`);
  return { clock, ctx, hibernation, self, seen, promote, phone, t0: clock.now() };
}

describe('activity carries its source', () => {
  it('hibernation reports each reset of its idle clock with the source that did it', async () => {
    const { clock, seen, promote, phone, t0 } = rig();
    await clock.advance(1_000);
    promote();
    await clock.advance(300);
    phone();
    await clock.advance(300);
    phone(); // within a second of the last request: the throttle holds it until that second is over
    expect(seen).toEqual([
      { at: t0 + 1_000, source: ownWakeSource('promotion') },
      { at: t0 + 1_300, source: 'ollama connection from 192.168.1.20' },
    ]);
    await clock.advance(700);
    // ... and then it lands with its own time, so nobody reads the last request a second early.
    expect(seen).toEqual([
      { at: t0 + 1_000, source: ownWakeSource('promotion') },
      { at: t0 + 1_300, source: 'ollama connection from 192.168.1.20' },
      { at: t0 + 1_600, source: 'ollama connection from 192.168.1.20' },
    ]);
  });

  it("the session's last request counts from its own time, however close to the one before", async () => {
    const { clock, self, phone, t0 } = rig();
    await clock.advance(1_000);
    phone();
    await clock.advance(200);
    phone();
    await clock.advance(500);
    phone(); // the last request of the session
    expect(self.status().activityAt).toBe(t0 + 1_000);
    await clock.advance(5_000);
    expect(self.status().activityAt).toBe(t0 + 1_700);
  });

  it("a phone request 0.3 s and 1.3 s after pairing's own wake counts as a session", async () => {
    const { clock, self, promote, phone, t0 } = rig();
    await clock.advance(1_000);
    promote();
    expect(self.status().activityAt).toBeNull();
    await clock.advance(300);
    phone();
    expect(self.status().activityAt).toBe(t0 + 1_300);
    await clock.advance(1_000);
    phone('192.168.1.21');
    expect(self.status().activityAt).toBe(t0 + 2_300);
  });

  it("pairing's own wake never counts, whenever it comes", async () => {
    const { clock, self, promote, phone, t0 } = rig();
    await clock.advance(5_000);
    phone();
    expect(self.status().activityAt).toBe(t0 + 5_000);
    // A promotion long after (a yield, then taking over again): not a session, 10 s or 10 min later.
    await clock.advance(10_000);
    promote();
    await clock.advance(600_000);
    promote();
    expect(self.status().activityAt).toBe(t0 + 5_000);
  });

  it('another wake (the phone asking, a user) is activity', async () => {
    const { clock, self, ctx, t0 } = rig();
    await clock.advance(2_000);
    await ctx.commands.execute({ type: 'wake', source: 'api 192.168.1.20' });
    expect(self.status().activityAt).toBe(t0 + 2_000);
  });
});
