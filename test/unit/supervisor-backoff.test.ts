import { describe, expect, it } from 'vitest';
import {
  afterExit,
  backoffDelay,
  DEFAULT_RESTART_POLICY,
  NO_CRASHES,
  type CrashHistory,
} from '../../main/core/supervisor/backoff.js';

const p = DEFAULT_RESTART_POLICY;

describe('backoffDelay', () => {
  it('starts under a second, doubles, and stops at the cap', () => {
    const seq = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => backoffDelay(n, p));
    expect(seq[0]).toBeLessThanOrEqual(1000);
    for (let i = 1; i < seq.length; i++)
      expect(seq[i]).toBe(Math.min(p.maxDelayMs, seq[i - 1]! * 2));
    expect(Math.max(...seq)).toBe(30_000);
    expect(backoffDelay(1000, p)).toBe(30_000);
  });
  it('treats 0 or negative as the first restart', () => {
    expect(backoffDelay(0, p)).toBe(p.initialDelayMs);
  });
});

describe('afterExit', () => {
  it('restarts with growing delays, then fails at the 5th crash within 60 s', () => {
    let h: CrashHistory = NO_CRASHES;
    const delays: number[] = [];
    let now = 1_000_000;
    for (let i = 1; i <= 4; i++) {
      const [next, d] = afterExit(h, { now, healthyForMs: 0 }, p);
      h = next;
      expect(d.type).toBe('restart');
      if (d.type === 'restart') delays.push(d.delayMs);
      now += 1000;
    }
    expect(delays).toEqual([250, 500, 1000, 2000]);
    const [, last] = afterExit(h, { now, healthyForMs: 0 }, p);
    expect(last).toEqual({ type: 'fail', crashes: 5, windowMs: 60_000 });
  });

  it('forgets crashes older than the window', () => {
    let h: CrashHistory = NO_CRASHES;
    let now = 0;
    // One crash every 20 s never puts 5 in a 60 s window.
    for (let i = 0; i < 20; i++) {
      const [next, d] = afterExit(h, { now, healthyForMs: 0 }, p);
      h = next;
      expect(d.type).toBe('restart');
      expect(h.crashes.length).toBeLessThanOrEqual(3);
      now += 20_000;
    }
  });

  it('resets the delay after a stable run', () => {
    let h: CrashHistory = { crashes: [], inARow: 6 };
    const [next, d] = afterExit(h, { now: 10, healthyForMs: p.stableAfterMs }, p);
    expect(next.inARow).toBe(1);
    expect(d).toEqual({ type: 'restart', delayMs: p.initialDelayMs });
    h = { crashes: [], inARow: 6 };
    const [, d2] = afterExit(h, { now: 10, healthyForMs: p.stableAfterMs - 1 }, p);
    expect(d2).toEqual({ type: 'restart', delayMs: backoffDelay(7, p) });
  });

  it('honours a configured crash-loop count', () => {
    const strict = { ...p, crashLoopCount: 2 };
    const [h1, d1] = afterExit(NO_CRASHES, { now: 0, healthyForMs: 0 }, strict);
    expect(d1.type).toBe('restart');
    const [, d2] = afterExit(h1, { now: 100, healthyForMs: 0 }, strict);
    expect(d2.type).toBe('fail');
  });
});
