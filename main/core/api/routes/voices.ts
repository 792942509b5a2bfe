// Piper's voices for the dashboard: `GET /api/piper/voices` (installed in the app's data folder,
// where the preset points `--data-dir`) and `POST /api/piper/voices/download` (an NDJSON stream of
// progress lines, like a model pull). Token-gated: a download writes tens of MB to the user's disk.

import type { CoreContext } from '../../context.js';
import { CoreError } from '../../errors.js';
import {
  downloadVoice,
  listInstalledVoices,
  parseVoiceId,
  PIPER_VOICES_URL,
} from '../../voices/voices.js';
import { openProgressStream } from '../progress-stream.js';
import type { Route } from '../router.js';

export interface VoiceRoutesOptions {
  /** The folder Piper reads voices from (the preset's `--data-dir`). */
  dir: () => string;
  /** Where voices are downloaded from (tests: a local fixture server). */
  baseUrl?: string;
}

export function voiceRoutes(core: CoreContext, opts: VoiceRoutesOptions): Route[] {
  const downloading = new Set<string>();
  return [
    {
      method: 'GET',
      path: '/api/piper/voices',
      auth: false,
      handler: () => ({
        status: 200,
        body: {
          dir: opts.dir(),
          voices: listInstalledVoices(opts.dir()),
          downloading: [...downloading],
        },
      }),
    },
    {
      method: 'POST',
      path: '/api/piper/voices/download',
      auth: true,
      handler: async ({ body, res, req }) => {
        const b = (await body()) as { voice?: unknown } | undefined;
        const v = typeof b?.voice === 'string' ? parseVoiceId(b.voice.trim()) : null;
        if (!v)
          throw new CoreError(
            'bad_request',
            'voice must be a Piper voice name such as "en_US-lessac-medium"',
            'voice',
          );
        if (downloading.has(v.id))
          throw new CoreError('conflict', `${v.id} is already being downloaded.`);
        downloading.add(v.id);
        const progress = openProgressStream(req, res);
        let last = 0;
        try {
          await downloadVoice(v, opts.dir(), {
            base: opts.baseUrl ?? PIPER_VOICES_URL,
            signal: progress.signal,
            onProgress: (p) => {
              // At most ~10 lines a second: the model is 20–120 MB in 64 KB chunks.
              const now = Date.now();
              if (p.status === 'downloading' && p.completed !== p.total && now - last < 100) return;
              last = now;
              progress.line(p);
            },
          });
          core.store.notify({
            level: 'info',
            code: 'voice_downloaded',
            message: `Piper voice ${v.id} was downloaded.`,
          });
        } catch (err) {
          const message = progress.signal.aborted ? 'cancelled' : (err as Error).message;
          progress.line({ status: 'error', error: message });
          if (!progress.signal.aborted)
            core.store.notify({
              level: 'error',
              code: 'voice_download_failed',
              message: `Could not download the Piper voice ${v.id}: ${message}`,
            });
        } finally {
          downloading.delete(v.id);
          progress.end();
        }
        return undefined;
      },
    },
  ];
}
