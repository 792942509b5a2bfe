import { describe, expect, it } from 'vitest';
import { stateBands } from '../../renderer/src/charts.js';

const H = 3_600_000;

describe('hibernation timeline', () => {
  it('draws nothing before the server started (it used to show 2 h of "Active")', () => {
    const now = 10 * H;
    const since = now - 10 * 60_000; // started 10 minutes ago
    const bands = stateBands([], 'active', now, 2 * H, since);
    expect(bands).toHaveLength(1);
    expect(bands[0]!.from).toBe(since);
    expect(bands[0]!.x).toBeCloseTo(((2 * H - 10 * 60_000) / (2 * H)) * 100);
    expect(bands[0]!.width).toBeCloseTo(((10 * 60_000) / (2 * H)) * 100);
    // A transition after the start splits the drawn part only.
    const two = stateBands(
      [{ at: new Date(now - 5 * 60_000).toISOString(), from: 'active', to: 'warm' }],
      'warm',
      now,
      2 * H,
      since,
    );
    expect(two.map((b) => [b.state, b.from])).toEqual([
      ['active', since],
      ['warm', now - 5 * 60_000],
    ]);
  });

  it('a server up for longer than the window fills it, as before', () => {
    const now = 10 * H;
    expect(stateBands([], 'cold', now, 2 * H, now - 5 * H)).toEqual(
      stateBands([], 'cold', now, 2 * H),
    );
  });
});
