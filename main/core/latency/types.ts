// What the latency check reports (shared with the dashboard: types only).

export interface LatencyResult {
  /** The service measured: `ollama`, `vibevoice`, `piper`. */
  service: string;
  /** `ttft`: LLM time to first token; `ttfb`: TTS time to first audio byte. */
  metric: 'ttft' | 'ttfb';
  label: string;
  /** The reference target (server-infrastructure-guide §7.3): 200 ms for both. */
  targetMs: number;
  /** The first request (may include loading the model); not judged. */
  coldMs: number | null;
  /** Warm samples, in order. */
  samplesMs: number[];
  medianMs: number | null;
  /** null: could not be measured (see `error`). */
  pass: boolean | null;
  /** What was measured against (model, voice). */
  detail: string | null;
  error: string | null;
}

export interface LatencyReport {
  at: string;
  results: LatencyResult[];
}
