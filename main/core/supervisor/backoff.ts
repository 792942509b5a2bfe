// What to do after a service's process ends on its own: restart after a back-off delay, or give
// up (`failed`) because it is crash-looping. Pure: time comes in with the event.

export interface RestartPolicy {
  /** Delay before the first restart after a crash (the issue: within 1 s). */
  initialDelayMs: number;
  /** Each further crash in a row multiplies the delay by this. */
  factor: number;
  /** The delay never grows past this. */
  maxDelayMs: number;
  /** A run that was healthy at least this long resets the delay to `initialDelayMs`. */
  stableAfterMs: number;
  /** This many crashes within `crashLoopWindowMs` make the service `failed`. */
  crashLoopCount: number;
  crashLoopWindowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 250,
  factor: 2,
  maxDelayMs: 30_000,
  stableAfterMs: 30_000,
  crashLoopCount: 5,
  crashLoopWindowMs: 60_000,
};

export interface CrashHistory {
  /** Times of recent crashes (ms), oldest first; only those inside the crash-loop window are kept. */
  crashes: number[];
  /** Crashes since the last stable run. */
  inARow: number;
}

export const NO_CRASHES: CrashHistory = { crashes: [], inARow: 0 };

export interface ExitEvent {
  now: number;
  /** How long the process was healthy before it ended (0 if it never got healthy). */
  healthyForMs: number;
}

export type ExitDecision =
  { type: 'restart'; delayMs: number } | { type: 'fail'; crashes: number; windowMs: number };

/** Delay before restart number `inARow` (1 = the first restart after a stable run). */
export function backoffDelay(inARow: number, p: RestartPolicy): number {
  const n = Math.max(1, inARow);
  const d = p.initialDelayMs * Math.pow(p.factor, n - 1);
  return Math.min(p.maxDelayMs, Math.round(d));
}

/** Records a crash and decides: restart after a delay, or fail (crash loop). */
export function afterExit(
  h: CrashHistory,
  e: ExitEvent,
  p: RestartPolicy,
): [CrashHistory, ExitDecision] {
  const inARow = e.healthyForMs >= p.stableAfterMs ? 1 : h.inARow + 1;
  const crashes = [...h.crashes, e.now].filter((t) => e.now - t < p.crashLoopWindowMs);
  const next: CrashHistory = { crashes, inARow };
  if (crashes.length >= p.crashLoopCount) {
    return [next, { type: 'fail', crashes: crashes.length, windowMs: p.crashLoopWindowMs }];
  }
  return [next, { type: 'restart', delayMs: backoffDelay(inARow, p) }];
}
