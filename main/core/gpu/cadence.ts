// Pure: how often to sample, from the hibernation state and settings (`gpu.*IntervalSeconds`).
// Active: every 2 s (someone is in a session); warm: 10 s; cool, cold and dormant: 60 s.

import type { HibernationState } from '../contract.js';
import type { Settings } from '../settings/index.js';

export function sampleIntervalMs(state: HibernationState, gpu: Settings['gpu']): number {
  const seconds =
    state === 'active' ? gpu.activeIntervalSeconds : state === 'warm' ? gpu.warmIntervalSeconds : gpu.coldIntervalSeconds;
  return Math.max(500, Math.round(seconds * 1000));
}

/** Points the history keeps: 10 minutes at the active cadence. */
export function historyCapacity(gpu: Settings['gpu'], minutes = 10): number {
  return Math.max(1, Math.ceil((minutes * 60) / Math.max(0.5, gpu.activeIntervalSeconds)));
}
