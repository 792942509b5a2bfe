// What one health check means for a running service of ours: ready, keep waiting, timed out while
// starting, a problem it reports itself, or hung (stop it and restart). Pure: the check's result, the
// failure count so far and the time since start come in; the runner (service.ts) acts on the answer.

import type { HealthState } from './health.js';

export interface HealthInput {
  /** What the check found. */
  state: HealthState;
  /** The service is still `starting` (never answered yet). */
  starting: boolean;
  /** Failed checks in a row before this one. */
  failures: number;
  /** Time since the process was started. */
  startedForMs: number;
  startTimeoutMs: number;
  /** This many failed checks in a row mean hung. */
  hungAfterFailures: number;
}

export type HealthVerdict =
  /** It answered as itself: running (or still running). */
  | { type: 'healthy'; failures: 0 }
  /** Still starting and not answering yet: ask again. */
  | { type: 'wait'; failures: number }
  /** Still not ready after `startTimeoutMs`: stop it; a crash for the back-off. */
  | { type: 'start_timeout'; failures: number }
  /** It answers, as itself, with a problem (a model failed to load): unhealthy, but not hung. */
  | { type: 'problem'; failures: 0 }
  /** The check failed: unhealthy; ask again sooner. */
  | { type: 'failing'; failures: number }
  /** Failed `hungAfterFailures` times in a row: stop it; a crash for the back-off. */
  | { type: 'hung'; failures: number };

export function healthVerdict(i: HealthInput): HealthVerdict {
  if (i.state === 'ok') return { type: 'healthy', failures: 0 };
  // While starting, only an answer that names a problem counts: down or loading is just not yet.
  if (i.starting && i.state !== 'error') {
    return i.startedForMs > i.startTimeoutMs
      ? { type: 'start_timeout', failures: i.failures }
      : { type: 'wait', failures: i.failures };
  }
  if (i.state === 'error' || i.state === 'loading') return { type: 'problem', failures: 0 };
  const failures = i.failures + 1;
  return failures >= i.hungAfterFailures
    ? { type: 'hung', failures }
    : { type: 'failing', failures };
}

export interface Pace {
  startPollMs: number;
  healthIntervalMs: number;
  recheckMs: number;
}

/**
 * How long until the next check: fast polls while starting (ready is seen soon after it happens);
 * after a failure, the recheck pace (a hang is confirmed in seconds even with a long interval, and
 * one lost answer costs no more than this); else the interval.
 */
export function nextCheckInMs(i: { starting: boolean; failures: number }, pace: Pace): number {
  if (i.starting) return pace.startPollMs;
  return i.failures > 0 ? Math.min(pace.recheckMs, pace.healthIntervalMs) : pace.healthIntervalMs;
}

/** Before our own start, the port already answers: adopt what answers as the service, else a clash. */
export function portInUseVerdict(state: HealthState): 'adopt' | 'conflict' {
  return state === 'ok' || state === 'loading' || state === 'error' ? 'adopt' : 'conflict';
}

export type ExternalVerdict =
  /** It answers (well or with a problem): keep watching. */
  | { type: 'up'; downs: 0 }
  /** Not answering as itself: count it. */
  | { type: 'down'; downs: number }
  /** Down `hungAfterFailures` times in a row: it is gone; start our own (after a grace). */
  | { type: 'gone'; downs: number };

/** What one check of an adopted (external) server means. */
export function externalVerdict(i: {
  state: HealthState;
  downs: number;
  hungAfterFailures: number;
}): ExternalVerdict {
  if (i.state !== 'down' && i.state !== 'foreign') return { type: 'up', downs: 0 };
  const downs = i.downs + 1;
  return downs >= i.hungAfterFailures ? { type: 'gone', downs } : { type: 'down', downs };
}
