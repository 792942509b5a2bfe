// A bounded ring of compact samples for the dashboard's chart (10 minutes at the active cadence).

import type { GpuHistoryPoint } from '../contract.js';

export class History {
  #buf: GpuHistoryPoint[] = [];

  constructor(private capacity: number) {}

  push(p: GpuHistoryPoint): void {
    this.#buf.push(p);
    if (this.#buf.length > this.capacity) this.#buf.splice(0, this.#buf.length - this.capacity);
  }

  /** Changes the bound (a new active cadence); drops the oldest points when it shrinks. */
  resize(capacity: number): void {
    this.capacity = Math.max(1, capacity);
    if (this.#buf.length > this.capacity) this.#buf.splice(0, this.#buf.length - this.capacity);
  }

  /** Points newer than `since` (ms), oldest first; the last `limit` of them when given. */
  points(since = -Infinity, limit?: number): GpuHistoryPoint[] {
    const out = this.#buf.filter((p) => p.t > since);
    return limit !== undefined && out.length > limit ? out.slice(out.length - limit) : out;
  }

  get size(): number {
    return this.#buf.length;
  }

  get max(): number {
    return this.capacity;
  }
}
