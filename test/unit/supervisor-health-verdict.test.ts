// The supervisor's health-and-hang verdict, as a table: one health check's result, the state
// before it, and what the runner must do.

import { describe, expect, it } from 'vitest';
import {
  externalVerdict,
  healthVerdict,
  nextCheckInMs,
  portInUseVerdict,
  type HealthInput,
  type HealthVerdict,
} from '../../main/core/supervisor/health-verdict.js';
import type { HealthState } from '../../main/core/supervisor/health.js';
import { ManualClock } from '../helpers/manual-clock.js';

const base: HealthInput = {
  state: 'ok',
  starting: false,
  failures: 0,
  startedForMs: 5_000,
  startTimeoutMs: 60_000,
  hungAfterFailures: 3,
};

const TABLE: [string, Partial<HealthInput>, ReturnType<typeof healthVerdict>][] = [
  [
    'answers while starting: ready',
    { state: 'ok', starting: true },
    { type: 'healthy', failures: 0 },
  ],
  [
    'answers after failures: healthy again, count reset',
    { state: 'ok', failures: 2 },
    { type: 'healthy', failures: 0 },
  ],
  [
    'down while starting, within the timeout: wait',
    { state: 'down', starting: true },
    { type: 'wait', failures: 0 },
  ],
  [
    'loading while starting: wait',
    { state: 'loading', starting: true },
    { type: 'wait', failures: 0 },
  ],
  [
    'foreign while starting: wait (not counted)',
    { state: 'foreign', starting: true, failures: 1 },
    { type: 'wait', failures: 1 },
  ],
  [
    'down while starting, past the timeout',
    { state: 'down', starting: true, startedForMs: 60_001 },
    { type: 'start_timeout', failures: 0 },
  ],
  [
    'exactly at the timeout: still waiting',
    { state: 'down', starting: true, startedForMs: 60_000 },
    { type: 'wait', failures: 0 },
  ],
  [
    'an error while starting is a problem, not a wait',
    { state: 'error', starting: true, startedForMs: 90_000 },
    { type: 'problem', failures: 0 },
  ],
  [
    'error after start: problem, not hung',
    { state: 'error', failures: 2 },
    { type: 'problem', failures: 0 },
  ],
  [
    'loading after start (reloading a model): problem',
    { state: 'loading' },
    { type: 'problem', failures: 0 },
  ],
  ['first failed check: failing', { state: 'down' }, { type: 'failing', failures: 1 }],
  [
    'second failed check: failing',
    { state: 'foreign', failures: 1 },
    { type: 'failing', failures: 2 },
  ],
  [
    'third failed check in a row: hung',
    { state: 'down', failures: 2 },
    { type: 'hung', failures: 3 },
  ],
  [
    'hungAfterFailures 1: the first failure is a hang',
    { state: 'down', hungAfterFailures: 1 },
    { type: 'hung', failures: 1 },
  ],
];

describe('healthVerdict', () => {
  for (const [name, input, want] of TABLE) {
    it(name, () => expect(healthVerdict({ ...base, ...input })).toEqual(want));
  }
});

describe('nextCheckInMs', () => {
  const pace = { startPollMs: 100, healthIntervalMs: 5000, recheckMs: 1000 };
  it('polls fast while starting, failures or not', () => {
    expect(nextCheckInMs({ starting: true, failures: 0 }, pace)).toBe(100);
    expect(nextCheckInMs({ starting: true, failures: 2 }, pace)).toBe(100);
  });
  it('running: the interval; after a failure, the recheck pace (never slower than the interval)', () => {
    expect(nextCheckInMs({ starting: false, failures: 0 }, pace)).toBe(5000);
    expect(nextCheckInMs({ starting: false, failures: 1 }, pace)).toBe(1000);
    expect(
      nextCheckInMs({ starting: false, failures: 1 }, { ...pace, healthIntervalMs: 500 }),
    ).toBe(500);
  });
});

describe('portInUseVerdict and externalVerdict', () => {
  it('adopts what answers as the service (even loading or with a problem), else a clash', () => {
    expect((['ok', 'loading', 'error'] as const).map(portInUseVerdict)).toEqual([
      'adopt',
      'adopt',
      'adopt',
    ]);
    expect((['down', 'foreign'] as const).map(portInUseVerdict)).toEqual(['conflict', 'conflict']);
  });
  it('an adopted server is gone after hungAfterFailures downs in a row; an answer resets the count', () => {
    const cfg = { hungAfterFailures: 3 };
    expect(externalVerdict({ ...cfg, state: 'down', downs: 0 })).toEqual({
      type: 'down',
      downs: 1,
    });
    expect(externalVerdict({ ...cfg, state: 'foreign', downs: 1 })).toEqual({
      type: 'down',
      downs: 2,
    });
    expect(externalVerdict({ ...cfg, state: 'down', downs: 2 })).toEqual({
      type: 'gone',
      downs: 3,
    });
    expect(externalVerdict({ ...cfg, state: 'error', downs: 2 })).toEqual({ type: 'up', downs: 0 });
    expect(externalVerdict({ ...cfg, state: 'loading', downs: 2 })).toEqual({
      type: 'up',
      downs: 0,
    });
  });
});

/**
 * The runner's loop with only the pure parts, on an injected clock: wait nextCheckInMs, check
 * (the answer is a function of the time), ask healthVerdict; stop at the first verdict that ends
 * the process. Returns when that verdict came, and which.
 */
async function firstStop(
  answer: (t: number) => HealthState,
  cfg: { startTimeoutMs: number; hungAfterFailures: number },
): Promise<{ at: number; verdict: HealthVerdict }> {
  const clock = new ManualClock(0);
  const pace = { startPollMs: 100, healthIntervalMs: 5000, recheckMs: 1000 };
  let starting = true;
  let failures = 0;
  for (let i = 0; i < 1000; i++) {
    await clock.advance(nextCheckInMs({ starting, failures }, pace));
    const v = healthVerdict({
      ...cfg,
      state: answer(clock.now()),
      starting,
      failures,
      startedForMs: clock.now(),
    });
    failures = v.failures;
    if (v.type === 'healthy') starting = false;
    if (v.type === 'hung' || v.type === 'start_timeout') return { at: clock.now(), verdict: v };
  }
  throw new Error('no verdict stopped it');
}

describe('health over time (injected clock)', () => {
  it('answers, then hangs at 20 s: hung at 22.1 s, three checks at the recheck pace (not 30.1 s at the interval)', async () => {
    const r = await firstStop((t) => (t <= 20_000 ? 'ok' : 'down'), {
      startTimeoutMs: 60_000,
      hungAfterFailures: 3,
    });
    expect(r).toEqual({ at: 22_100, verdict: { type: 'hung', failures: 3 } });
  });
  it('one lost answer costs one recheck, not a restart', async () => {
    const r = await firstStop((t) => (t === 10_100 ? 'down' : t < 40_000 ? 'ok' : 'down'), {
      startTimeoutMs: 60_000,
      hungAfterFailures: 3,
    });
    // Healthy at 0.1 s, then every 5 s: 5.1, 10.1 (lost), 11.1 (back), 16.1 … 36.1, 41.1 down, 42.1, 43.1 hung.
    expect(r).toEqual({ at: 43_100, verdict: { type: 'hung', failures: 3 } });
  });
  it('never ready: stopped at the first poll past startTimeoutMs', async () => {
    const r = await firstStop(() => 'down', { startTimeoutMs: 1000, hungAfterFailures: 3 });
    expect(r).toEqual({ at: 1100, verdict: { type: 'start_timeout', failures: 0 } });
  });
});
