// Model management for the dashboard: what Ollama has installed and loaded (`GET /api/models`),
// and pulling a model with live progress (`POST /api/models/pull`, an NDJSON stream of Ollama's
// own progress lines). Token-gated: a pull writes gigabytes to the user's disk.

import { CoreError } from '../../errors.js';
import { openProgressStream } from '../progress-stream.js';
import type { Route } from '../router.js';
import type { CoreContext } from '../../context.js';
import { ANSWERING_STATUSES } from '../../contract.js';
import { listInstalled, listLoaded, ollamaBaseUrl, pullModel } from '../../services/ollama.js';

/** Ollama model references: `name`, `name:tag`, `namespace/name:tag`, `host/ns/name:tag`. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,180}(:[A-Za-z0-9._-]{1,64})?$/;

function ollamaUrl(core: CoreContext): string {
  const e = core.store.get('services').find((s) => s.id === 'ollama');
  if (!e || !e.port || !ANSWERING_STATUSES.has(e.status)) {
    const why = !e ? 'not configured' : !e.enabled ? 'disabled' : e.status;
    throw new CoreError('conflict', `Ollama is ${why}: start it first (Services).`);
  }
  return ollamaBaseUrl({ port: e.port });
}

export function modelRoutes(core: CoreContext): Route[] {
  const pulling = new Set<string>();
  return [
    {
      method: 'GET',
      path: '/api/models',
      auth: true,
      handler: async () => {
        const base = ollamaUrl(core);
        try {
          const [installed, loaded] = await Promise.all([listInstalled(base), listLoaded(base)]);
          return { status: 200, body: { models: installed, loaded } };
        } catch (err) {
          throw new CoreError(
            'internal',
            `Could not ask Ollama for its models: ${(err as Error).message}`,
            undefined,
            502,
          );
        }
      },
    },
    {
      method: 'POST',
      path: '/api/models/pull',
      auth: true,
      handler: async ({ body, res, req }) => {
        const b = (await body()) as { model?: unknown } | undefined;
        const model = typeof b?.model === 'string' ? b.model.trim() : '';
        if (!MODEL_NAME.test(model)) {
          throw new CoreError(
            'bad_request',
            'model must be an Ollama model name such as "mistral:7b"',
            'model',
          );
        }
        const base = ollamaUrl(core);
        if (pulling.has(model))
          throw new CoreError('conflict', `${model} is already being pulled.`);
        pulling.add(model);
        // Closing the dashboard (or the request) cancels the pull, as `ollama pull` does on Ctrl-C.
        const progress = openProgressStream(req, res);
        core.logger.info('pulling model', { model });
        try {
          await pullModel(base, model, (p) => progress.line(p), { signal: progress.signal });
          core.store.notify({
            level: 'info',
            code: 'model_pulled',
            message: `Model ${model} was downloaded.`,
          });
          core.logger.info('model pulled', { model });
        } catch (err) {
          const message = progress.signal.aborted ? 'cancelled' : (err as Error).message;
          progress.line({ status: 'error', error: message });
          if (!progress.signal.aborted) {
            core.store.notify({
              level: 'error',
              code: 'model_pull_failed',
              message: `Could not pull ${model}: ${message}`,
            });
          }
          core.logger.warn('model pull failed', { model, error: message });
        } finally {
          pulling.delete(model);
          progress.end();
        }
        return undefined;
      },
    },
  ];
}
