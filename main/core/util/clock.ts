// Time comes in through this interface so decisions can be tested without waiting.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that never go back (the wall clock can: NTP, the user):
   * for "how long since", such as a peer's liveness. Same scale as now() and the timers.
   */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * A clock that runs `factor` times faster than the wall clock, starting from `start`.
 * Used by integration tests and the soak run to compress hours of idling into seconds.
 */
export function acceleratedClock(factor: number, start = Date.now()): Clock {
  const wallStart = Date.now();
  const monoStart = performance.now();
  return {
    now: () => start + (Date.now() - wallStart) * factor,
    monotonic: () => (performance.now() - monoStart) * factor,
    setTimeout: (fn, ms) => {
      const t = setTimeout(fn, Math.max(0, ms / factor));
      t.unref?.();
      return t;
    },
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };
}
