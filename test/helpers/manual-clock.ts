// A clock (main/core/util/clock.ts) whose timers run only when a test advances it: due timers fire
// in order, each followed by a few event-loop turns so the promises they start can settle.

import type { Clock } from '../../main/core/util/clock.js';

/** A few turns of the event loop: enough for a timer's async work against in-memory fakes to settle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

export class ManualClock implements Clock {
  t: number;
  timers: { at: number; fn: () => void; id: number }[] = [];
  #id = 0;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }
  now = () => this.t;
  /** Moves with now(): advance() and jump() move both (a test that needs them apart says so). */
  monotonic = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.#id;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  /** Delays of the pending timers, from now. */
  pending(): number[] {
    return this.timers.map((x) => x.at - this.t);
  }
  /** Moves time forward, firing timers as their time comes. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers
        .filter((x) => x.at <= end)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
  /** A jump with no timer firing on the way (a laptop asleep). */
  jump(ms: number): void {
    this.t += ms;
  }
}
