// Pure: how often to sample, from the hibernation state and settings (`gpu.*IntervalSeconds`).
// Active: every 2 s (someone is in a session); warm: 10 s; cool, cold and dormant: 60 s.

import type { HibernationState } from '../contract.js';
import type { Settings } from '../settings/index.js';

export function sampleIntervalMs(state: HibernationState, gpu: Settings['gpu']): number {
  const seconds =
    state === 'active'
      ? gpu.activeIntervalSeconds
      : state === 'warm'
        ? gpu.warmIntervalSeconds
        : gpu.coldIntervalSeconds;
  return Math.max(500, Math.round(seconds * 1000));
}

/** Points the history keeps: 10 minutes at the active cadence. */
export function historyCapacity(gpu: Settings['gpu'], minutes = 10): number {
  return Math.max(1, Math.ceil((minutes * 60) / Math.max(0.5, gpu.activeIntervalSeconds)));
}

/** When a slow-changing source (nvidia-smi's process list, Ollama's /api/ps) was last read. */
export interface RefreshMark {
  at: number;
  /** Total VRAM in use then (null: unknown, e.g. Apple silicon or nvidia-smi failing). */
  usedMB: number | null;
  /** What else would change the answer: running services and their pids, hibernation state. */
  key: string;
}

/**
 * Re-read only when it can have changed: VRAM in use moved by `deltaMB` (a model loaded, a process
 * started), the key changed, or the last read is older than `maxAgeMs`. Without a VRAM figure to
 * watch, read every time. Saves a process spawn and an HTTP request on most samples.
 */
export function shouldRefresh(
  prev: RefreshMark | null,
  now: RefreshMark,
  maxAgeMs = 30_000,
  deltaMB = 64,
): boolean {
  if (!prev || now.usedMB === null || prev.usedMB === null) return true;
  if (now.key !== prev.key) return true;
  if (Math.abs(now.usedMB - prev.usedMB) >= deltaMB) return true;
  return now.at - prev.at >= maxAgeMs;
}
