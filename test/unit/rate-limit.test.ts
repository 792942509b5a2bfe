import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../main/core/api/rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst, refuses the excess, refills over time, per client', () => {
    let now = 0;
    const rl = new RateLimiter(undefined, () => now);
    const results = Array.from({ length: 12 }, () => rl.take('10.0.0.2', 'wake'));
    expect(results.filter(Boolean)).toHaveLength(10);
    expect(rl.take('10.0.0.3', 'wake')).toBe(true);
    now += 1000;
    expect(rl.take('10.0.0.2', 'wake')).toBe(true);
    expect(rl.take('10.0.0.2', 'wake')).toBe(false);
  });

  it('keeps memory bounded under an address scan', () => {
    const rl = new RateLimiter(undefined, () => 0, 100);
    for (let i = 0; i < 1000; i++) rl.take(`10.0.${i >> 8}.${i & 255}`, 'default');
    // Private field size is not observable; a fresh address still works and nothing threw.
    expect(rl.take('192.168.1.1', 'default')).toBe(true);
  });
});
