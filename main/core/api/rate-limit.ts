// Token buckets per (client address, rate class): a burst beyond the bucket is answered 429.
// Pure apart from the injected clock; idle buckets are pruned so a scan of addresses cannot grow memory.

import type { RateClass } from './router.js';

export interface RateRule {
  /** Requests allowed in a burst. */
  burst: number;
  /** Sustained requests per second. */
  perSecond: number;
}

const DEFAULT_RATES: Record<RateClass, RateRule> = {
  default: { burst: 200, perSecond: 50 },
  activity: { burst: 20, perSecond: 2 },
  wake: { burst: 10, perSecond: 1 },
  pairing: { burst: 5, perSecond: 0.2 },
};

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  #lastPrune = 0;

  constructor(
    private readonly rules: Record<RateClass, RateRule> = DEFAULT_RATES,
    private readonly now: () => number = Date.now,
    private readonly maxBuckets = 10_000,
  ) {}

  /** True when the request may proceed. */
  take(client: string, cls: RateClass): boolean {
    const rule = this.rules[cls];
    const now = this.now();
    const key = `${cls}|${client}`;
    const b = this.#buckets.get(key) ?? { tokens: rule.burst, at: now };
    b.tokens = Math.min(rule.burst, b.tokens + ((now - b.at) / 1000) * rule.perSecond);
    b.at = now;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.#buckets.set(key, b);
    if (now - this.#lastPrune > 60_000 || this.#buckets.size > this.maxBuckets) this.#prune(now);
    return ok;
  }

  #prune(now: number): void {
    this.#lastPrune = now;
    for (const [key, b] of this.#buckets) {
      const cls = key.slice(0, key.indexOf('|')) as RateClass;
      const rule = this.rules[cls];
      if (b.tokens + ((now - b.at) / 1000) * rule.perSecond >= rule.burst)
        this.#buckets.delete(key);
    }
    // Still too many (an address scan): drop the oldest.
    if (this.#buckets.size > this.maxBuckets) {
      const excess = this.#buckets.size - this.maxBuckets;
      let i = 0;
      for (const key of this.#buckets.keys()) {
        if (i++ >= excess) break;
        this.#buckets.delete(key);
      }
    }
  }
}
