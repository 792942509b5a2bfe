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
