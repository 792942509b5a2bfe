// The app's audio API on the TTS/STT ports, for the front door: one handler per service that serves
// the routes it must change and answers false for every other (which the front door passes through).
// See README.md in this folder.

import type http from 'node:http';
import type { Upstream } from './http.js';
import { createPiperAdapter, type PiperAdapter } from './piper.js';
import { handleVibeVoice } from './vibevoice.js';
import { handleWhisper } from './whisper.js';

export type { Upstream } from './http.js';
export { AudioError, upstreamMessage } from './http.js';
export { WavNormalizer, WavFormatError, formatOf, canonicalHeader, type WavFormat } from './wav.js';
export { createPiperAdapter, type PiperAdapter, type PiperApi } from './piper.js';
export { handleVibeVoice, vibevoiceSpeech } from './vibevoice.js';
export {
  handleWhisper,
  whisperTranscription,
  inferencePathOf,
  whisperPath,
  TRANSCRIPTIONS_PATH,
} from './whisper.js';

/** Serves the request if the route is one the service's audio API changes; false → pass it through. */
export type AudioHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  upstream: Upstream,
) => Promise<boolean>;

export interface AudioRoutesOptions {
  /** settings.audio.piperVoices, read at each request. */
  piperVoices: () => Record<string, string>;
  /** whisper-server's inference path, read at each request: `inferencePathOf(its argv)`. */
  whisperInferencePath: () => string;
  /** Longest wait for a TTS answer (default 60 s, the app's own). */
  ttsTimeoutMs?: number;
}

/** The handlers by service id (the presets' ids: `piper`, `vibevoice`, `whisper`). */
export function createAudioRoutes(opts: AudioRoutesOptions): {
  piper: AudioHandler;
  vibevoice: AudioHandler;
  whisper: AudioHandler;
  piperAdapter: PiperAdapter;
} {
  const piperAdapter = createPiperAdapter({
    voiceTable: opts.piperVoices,
    timeoutMs: opts.ttsTimeoutMs,
  });
  return {
    piper: (req, res, up) => piperAdapter.handle(req, res, up),
    vibevoice: (req, res, up) => handleVibeVoice(req, res, up, { timeoutMs: opts.ttsTimeoutMs }),
    whisper: (req, res, up) =>
      handleWhisper(req, res, up, { inferencePath: opts.whisperInferencePath() }),
    piperAdapter,
  };
}
