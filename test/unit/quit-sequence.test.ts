// The app's way out (main/core/lifecycle/quit-sequence.ts): one cleanup however many quits come,
// every quit held while it runs, and an exit when it ends or its deadline passes.

import { describe, expect, it } from 'vitest';
import {
  onQuitRequest,
  QUIT_DEADLINE_MS,
  QuitSequence,
} from '../../main/core/lifecycle/quit-sequence.js';
import { ManualClock, settle } from '../helpers/manual-clock.js';

function setup(cleanup: () => Promise<void>) {
  const clock = new ManualClock();
  const exits: number[] = [];
  const logs: string[] = [];
  const reasons: string[] = [];
  const q = new QuitSequence({
    clock,
    exit: (code) => exits.push(code),
    log: (m) => logs.push(m),
    cleanup: (reason) => {
      reasons.push(reason);
      return cleanup();
    },
  });
  return { q, clock, exits, logs, reasons };
}

describe('quit sequence', () => {
  it('decides per phase: the first request starts the cleanup, later ones are held, after exit none', () => {
    expect(onQuitRequest('running')).toEqual({ prevent: true, startCleanup: true });
    expect(onQuitRequest('stopping')).toEqual({ prevent: true, startCleanup: false });
    expect(onQuitRequest('done')).toEqual({ prevent: false, startCleanup: false });
  });

  it('runs the cleanup once, holds every later quit, and exits once with the first code', async () => {
    let finish!: () => void;
    const { q, exits, reasons } = setup(() => new Promise<void>((r) => (finish = r)));
    expect(q.request('start-failed', 1)).toBe(true);
    expect(q.request('quit')).toBe(true);
    expect(q.request('shutdown')).toBe(true);
    expect(q.phase).toBe('stopping');
    expect(q.reason).toBe('start-failed');
    await settle();
    expect(exits).toEqual([]);
    finish();
    await q.finished();
    expect(reasons).toEqual(['start-failed']);
    expect(exits).toEqual([1]);
    expect(q.phase).toBe('done');
    expect(q.request('quit')).toBe(false);
    expect(exits).toEqual([1]);
  });

  it('exits when the deadline passes although the cleanup hangs (shutdown gets the short one)', async () => {
    const { q, clock, exits, logs } = setup(() => new Promise<void>(() => {}));
    q.request('shutdown');
    expect(clock.pending()).toEqual([QUIT_DEADLINE_MS.shutdown]);
    expect(QUIT_DEADLINE_MS.shutdown).toBeLessThan(5_000); // systemd's default delay for inhibitors
    await clock.advance(QUIT_DEADLINE_MS.shutdown - 1);
    expect(exits).toEqual([]);
    await clock.advance(1);
    expect(exits).toEqual([0]);
    expect(logs).toEqual(['cleanup did not finish within 4.5 s (shutdown); exiting anyway']);
  });

  it('a failing cleanup still exits, and says why', async () => {
    const { q, clock, exits, logs } = setup(() => Promise.reject(new Error('boom')));
    q.request();
    await q.finished();
    expect(exits).toEqual([0]);
    expect(logs).toEqual(['cleanup before exit failed']);
    expect(clock.pending()).toEqual([]); // the deadline timer is cleared
  });
});
