// POST /api/latency-check (token-gated): the latency check (main/core/latency/) on request. One
// check at a time: it loads the GPU while it runs.

import type { CoreContext } from '../../context.js';
import type { LatencyReport, Snapshot } from '../../contract.js';
import { CoreError } from '../../errors.js';
import { runningTarget } from '../../latency/index.js';
import { runLatencyCheck, type Target } from '../../latency/measure.js';
import type { Route } from '../router.js';

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
        if (
          samples !== undefined &&
          (typeof samples !== 'number' || !Number.isInteger(samples) || samples < 1 || samples > 10)
        ) {
          throw new CoreError('bad_request', 'samples must be an integer from 1 to 10', 'samples');
        }
        if (running)
          throw new CoreError(
            'conflict',
            'A latency check is already running; wait for it to finish.',
          );
        const s = core.store.snapshot();
        const llm = runningTarget(s, 'ollama');
        const tts = ['vibevoice', 'piper']
          .map((id) => runningTarget(s, id))
          .filter((t): t is Target => t !== null);
        // A check is a use of the server: it must not find the host hibernating halfway.
        void core.commands.execute({ type: 'activity', source: 'latency-check' }).catch(() => {});
        running = runLatencyCheck(
          {
            llm,
            tts,
            preload: core.settings.get().models.preload,
            missing: {
              llm: whyNot(s, 'ollama', 'Ollama'),
              tts: `no TTS service is running (${whyNot(s, 'vibevoice', 'VibeVoice')}; ${whyNot(s, 'piper', 'Piper')})`,
            },
          },
          { samples: typeof samples === 'number' ? samples : 3 },
        ).then((results) => ({ at: new Date(core.clock.now()).toISOString(), results }));
        try {
          const report = await running;
          core.logger.info('latency check', {
            results: report.results.map((r) => ({
              service: r.service,
              medianMs: r.medianMs,
              pass: r.pass,
              error: r.error,
            })),
          });
          return { status: 200, body: report };
        } finally {
          running = null;
        }
      },
    },
  ];
}
