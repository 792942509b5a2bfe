// The supervisor's decisions run on the injected clock (ctx.clock): the restart back-off, the pace
// of health checks and the rate of process-table scans move when a manual clock moves, not with
// the wall clock. Plain IO deadlines (one health check's timeout, a port wait) stay on wall time.
// Real fake services; a manual clock; listProcesses counted.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSupervisor, type SupervisorCapability } from '../../main/core/supervisor/index.js';
import { testContext } from '../helpers/core-context.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { FAST, fakePiper, freePort, tempDir, until } from './supervisor-helpers.js';

const scans = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../main/core/util/child/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../main/core/util/child/index.js')>();
  return {
    ...real,
    listProcesses: () => {
      scans.n++;
      return real.listProcesses();
    },
  };
});

let sup: SupervisorCapability | null = null;
let clock: ManualClock | null = null;
afterEach(async () => {
  if (!sup) return;
  const stopping = sup.stop('quit');
  // Stopping waits on wall time only (the stop grace), but a sleep may be pending on the clock.
  await clock?.advance(10_000);
  await stopping;
  sup = null;
});

function supervisorOn(c: ManualClock, piper: Record<string, unknown>): SupervisorCapability {
  const dataDir = tempDir();
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      serveOnLan: false,
      services: {
        ollama: { enabled: false },
        vibevoice: { enabled: false },
        whisper: { enabled: false },
        piper,
      },
    }),
  );
  const ctx = { ...testContext({ dataDir }), clock: c };
  return createSupervisor(ctx, { timings: FAST, reap: false });
}

/** The health loop waits on the clock again: its last check (and scan) is done. */
const armed = (c: ManualClock) => until(() => c.pending().some((ms) => ms > 0), 10_000, 5);

describe('supervisor on the injected clock', () => {
  it('scans the process table at most every 200 ms of the clock, however fast the wall clock runs', async () => {
    clock = new ManualClock();
    sup = supervisorOn(clock, fakePiper(await freePort()));
    await sup.start();
    await until(() => sup!.get('piper')?.pid);
    await armed(clock);
    // Each step is a health check 1 s of clock apart, done within a few wall milliseconds: every
    // one may scan. On the wall clock at most one in 200 ms would, so nearly none would.
    const before = scans.n;
    const STEPS = 8;
    for (let i = 0; i < STEPS; i++) {
      await clock.advance(1000);
      await armed(clock);
    }
    expect(scans.n - before).toBeGreaterThanOrEqual(STEPS);
    // Steps closer than 200 ms of clock: every other check scans.
    const mid = scans.n;
    for (let i = 0; i < STEPS; i++) {
      await clock.advance(FAST.healthIntervalMs!);
      await armed(clock);
    }
    expect(scans.n - mid).toBeLessThanOrEqual(STEPS / 2 + 1);
    expect(sup.get('piper')?.status).toBe('running');
  });

  it('waits out the restart back-off on the clock: no respawn until the clock moves', async () => {
    clock = new ManualClock();
    sup = supervisorOn(clock, fakePiper(await freePort(), { EXIT_AT_ONCE: 3 }));
    await sup.start();
    await until(() => sup!.get('piper')?.status === 'backoff');
    expect(sup.get('piper')?.restarts).toBe(1);
    // A second of wall time is many back-offs (50 ms each): none of them passes on a still clock.
    await new Promise((r) => setTimeout(r, 1000));
    expect(sup.get('piper')).toMatchObject({ status: 'backoff', restarts: 1 });
    await clock.advance(FAST.policy!.initialDelayMs!);
    await until(() => (sup!.get('piper')?.restarts ?? 0) >= 2);
  });
});
