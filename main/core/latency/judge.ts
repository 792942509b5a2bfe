// The latency check's pure part: turn timings into a verdict against the reference targets.

import type { LatencyResult } from '../contract.js';

/** server-infrastructure-guide §7.3: LLM TTFT < 200 ms, TTS TTFB < 200 ms. */
const LATENCY_TARGETS_MS = { ttft: 200, ttfb: 200 } as const;

export function median(values: number[]): number | null {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export interface Timings {
  service: string;
  metric: 'ttft' | 'ttfb';
  label: string;
  detail: string | null;
  /** Every request's time, the first being the cold one. */
  timesMs: number[];
  error?: string | null;
  targetMs?: number;
}

/**
 * The first request is reported but not judged (it may load the model); the median of the
 * rest must be under the target. A single request is judged on its own.
 */
export function judge(t: Timings): LatencyResult {
  const targetMs = t.targetMs ?? LATENCY_TARGETS_MS[t.metric];
  const coldMs = t.timesMs.length ? round(t.timesMs[0]!) : null;
  const warm = (t.timesMs.length > 1 ? t.timesMs.slice(1) : t.timesMs).map(round);
  const med = median(warm);
  const m = med === null ? null : round(med);
  return {
    service: t.service,
    metric: t.metric,
    label: t.label,
    targetMs,
    coldMs,
    samplesMs: warm,
    medianMs: m,
    pass: t.error || m === null ? null : m < targetMs,
    detail: t.detail,
    error: t.error ?? (m === null ? 'no measurement' : null),
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
