// Port 11401: the app's Whisper client calls `POST /v1/audio/transcriptions` (multipart `file`,
// `model`, `language`, `response_format`). whisper.cpp's `whisper-server` serves the same multipart
// form at `--request-path` + `--inference-path` (defaults "" and "/inference"; ggml-org/whisper.cpp
// examples/server/server.cpp: `svr.Post(sparams.request_path + sparams.inference_path, …)`).
// The front door rewrites the path and streams the body through untouched.

import type http from 'node:http';
import { clientGone, failOrHold, forward, passThrough, routeOf, type Upstream } from './http.js';

const TRANSCRIPTIONS_PATH = '/v1/audio/transcriptions';

/** Pure: the path whisper-server serves inference on, from its argv (`--request-path`, `--inference-path`). */
export function inferencePathOf(args: readonly string[]): string {
  const value = (name: string): string | undefined => {
    let found: string | undefined;
    args.forEach((a, i) => {
      if (a === name && i + 1 < args.length) found = args[i + 1];
      else if (a.startsWith(`${name}=`)) found = a.slice(name.length + 1);
    });
    return found;
  };
  const join = (p: string) => (p === '' || p.startsWith('/') ? p : `/${p}`);
  return join(value('--request-path') ?? '') + join(value('--inference-path') ?? '/inference');
}

/** Pure: the upstream URL for a transcription request (`/v1/audio/transcriptions?x` → `/inference?x`). */
export function whisperPath(url: string, inferencePath: string): string {
  const q = url.indexOf('?');
  return inferencePath + (q >= 0 ? url.slice(q) : '');
}

export interface WhisperOptions {
  /** Where whisper-server does inference (`inferencePathOf(argv)`; default "/inference"). */
  inferencePath?: string;
  /** Longest wait for the transcription's answer (default 120 s: a long recording on a slow machine). */
  timeoutMs?: number;
}

/** `POST /v1/audio/transcriptions` → whisper-server's inference path; answer passed back as it came. */
async function whisperTranscription(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  upstream: Upstream,
  opts: WhisperOptions = {},
): Promise<void> {
  const signal = clientGone(res);
  try {
    const answer = await forward(
      req,
      upstream,
      whisperPath(req.url ?? TRANSCRIPTIONS_PATH, opts.inferencePath ?? '/inference'),
      signal,
      opts.timeoutMs ?? 120_000,
    );
    await passThrough(res, answer);
  } catch (err) {
    // Refused before the recording was sent: the front door holds it and calls again once ready.
    failOrHold(res, err, upstream, (up) => void whisperTranscription(req, res, up, opts));
  }
}

/** Serves `POST /v1/audio/transcriptions`; false (nothing sent) for every other route. */
export async function handleWhisper(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  upstream: Upstream,
  opts: WhisperOptions = {},
): Promise<boolean> {
  if (routeOf(req) !== `POST ${TRANSCRIPTIONS_PATH}`) return false;
  await whisperTranscription(req, res, upstream, opts);
  return true;
}
