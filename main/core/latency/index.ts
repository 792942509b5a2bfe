// The latency check: `POST /api/latency-check` (token-gated) times LLM time-to-first-token and
// TTS time-to-first-byte against the running services and judges them against the reference
// targets (200 ms each). One check at a time: it loads the GPU while it runs.

import { CoreError } from '../errors.js';
import type { Route } from '../api/router.js';
import type { CoreContext } from '../context.js';
import { ANSWERING_STATUSES, type Snapshot } from '../contract.js';
import { runLatencyCheck, type Target } from './measure.js';
import type { LatencyReport } from './types.js';

export type { LatencyReport, LatencyResult } from './types.js';

/** Where the core reaches a running service (loopback works for LAN-bound services too). */
export function runningTarget(s: Snapshot, id: string): Target | null {
  const e = s.services.find((x) => x.id === id);
  if (!e || !e.port || !ANSWERING_STATUSES.has(e.status)) return null;
  return { id, baseUrl: `http://127.0.0.1:${e.port}` };
}

function whyNot(s: Snapshot, id: string, name: string): string {
  const e = s.services.find((x) => x.id === id);
  if (!e) return `${name} is not configured`;
  if (!e.enabled) return `${name} is disabled`;
  return `${name} is ${e.status}${e.lastError ? `: ${e.lastError}` : ''}`;
}

export function latencyRoutes(core: CoreContext): Route[] {
  let running: Promise<LatencyReport> | null = null;
  return [
    {
      method: 'POST',
      path: '/api/latency-check',
      auth: true,
      handler: async (ctx) => {
        const body = (await ctx.body()) as { samples?: unknown } | undefined;
        const samples = body?.samples;
        if (samples !== undefined && (typeof samples !== 'number' || !Number.isInteger(samples) || samples < 1 || samples > 10)) {
          throw new CoreError('bad_request', 'samples must be an integer from 1 to 10', 'samples');
        }
        if (running) throw new CoreError('conflict', 'A latency check is already running; wait for it to finish.');
        const s = core.store.snapshot();
        const llm = runningTarget(s, 'ollama');
        const tts = ['vibevoice', 'piper'].map((id) => runningTarget(s, id)).filter((t): t is Target => t !== null);
        // A check is a use of the server: it must not find the host hibernating halfway.
        void core.commands.execute({ type: 'activity', source: 'latency-check' }).catch(() => {});
        running = runLatencyCheck(
          {
            llm,
            tts,
            preload: core.settings.get().models.preload,
            missing: { llm: whyNot(s, 'ollama', 'Ollama'), tts: `no TTS service is running (${whyNot(s, 'vibevoice', 'VibeVoice')}; ${whyNot(s, 'piper', 'Piper')})` },
          },
          { samples: typeof samples === 'number' ? samples : 3 },
        ).then((results) => ({ at: new Date(core.clock.now()).toISOString(), results }));
        try {
          const report = await running;
          core.logger.info('latency check', { results: report.results.map((r) => ({ service: r.service, medianMs: r.medianMs, pass: r.pass, error: r.error })) });
          return { status: 200, body: report };
        } finally {
          running = null;
        }
      },
    },
  ];
}
