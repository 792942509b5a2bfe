// The latency check: times LLM time-to-first-token and TTS time-to-first-byte against the running
// services and judges them against the reference targets (200 ms each). Its route,
// `POST /api/latency-check`, lives in api/routes/latency.ts.

import { ANSWERING_STATUSES, type Snapshot } from '../contract.js';
import type { Target } from './measure.js';

/** Where the core reaches a running service (loopback works for LAN-bound services too). */
export function runningTarget(s: Snapshot, id: string): Target | null {
  const e = s.services.find((x) => x.id === id);
  if (!e || !e.port || !ANSWERING_STATUSES.has(e.status)) return null;
  return { id, baseUrl: `http://127.0.0.1:${e.port}` };
}
