// Port 8880: VibeVoice (`vibevoice_realtime_openai_api.py`) already speaks the app's
// `POST /v1/audio/speech`. Its `wav` answer is scipy's `wavfile.write` of int16 audio (a 44-byte
// header today), never streamed; the normaliser makes sure of the 44 bytes whatever writes it.
// Other formats (mp3, pcm, … and every streamed answer) and error answers pass through untouched.

import type http from 'node:http';
import {
  clientGone,
  forward,
  passThrough,
  routeOf,
  sendWav,
  endToEnd,
  failOrHold,
  type Upstream,
} from './http.js';

export interface VibeVoiceOptions {
  /** Longest wait for VibeVoice's answer (default 60 s, the app's own timeout). */
  timeoutMs?: number;
}

/** Pure: a WAV answer, by its content type (VibeVoice's get_content_type says `audio/wav`). */
export function isWavAnswer(contentType: string | undefined): boolean {
  return /^audio\/(x-)?wav(e)?\b/i.test(contentType ?? '');
}

/** `POST /v1/audio/speech` on 8880: forwarded as is; a 200 WAV answer goes through the normaliser. */
async function vibevoiceSpeech(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  upstream: Upstream,
  opts: VibeVoiceOptions = {},
): Promise<void> {
  const signal = clientGone(res);
  try {
    const answer = await forward(
      req,
      upstream,
      req.url ?? '/v1/audio/speech',
      signal,
      opts.timeoutMs ?? 60_000,
    );
    if (answer.statusCode !== 200 || !isWavAnswer(answer.headers['content-type']))
      return await passThrough(res, answer);
    // Keep VibeVoice's own headers (content-disposition, …) but not the ones describing its body.
    await sendWav(res, answer, {
      headers: endToEnd(answer.headers, ['content-length', 'content-type', 'content-encoding']),
    });
  } catch (err) {
    // Refused before anything was sent: the front door holds it and calls again once it is ready.
    failOrHold(res, err, upstream, (up) => void vibevoiceSpeech(req, res, up, opts));
  }
}

/** Serves `POST /v1/audio/speech`; false (nothing sent) for every other route, which passes through. */
export async function handleVibeVoice(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  upstream: Upstream,
  opts: VibeVoiceOptions = {},
): Promise<boolean> {
  if (routeOf(req) !== 'POST /v1/audio/speech') return false;
  await vibevoiceSpeech(req, res, upstream, opts);
  return true;
}
