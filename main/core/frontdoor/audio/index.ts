// The app's audio API on the TTS/STT ports, for the front door: one handler per service that serves
// the routes it must change and answers false for every other (which the front door passes through).
// See README.md in this folder.

import type http from 'node:http';
import type { Upstream, UpstreamUnreachable } from './http.js';
import { createPiperAdapter, type PiperAdapter } from './piper.js';
import { handleVibeVoice } from './vibevoice.js';
import { handleWhisper } from './whisper.js';

export type { Upstream } from './http.js';
export { inferencePathOf } from './whisper.js';

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

/**
 * The front door's adapter shape (main/core/frontdoor/index.ts `Adapter`): the context carries the
 * upstream, the door's keep-alive agent and the plain pass-through of this request.
 */
type DoorAdapter = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: {
    upstream: { host: string; port: number };
    agent: http.Agent;
    pass(): void;
    /** The door holds the request again; `again` runs with the address once the service is ready. */
    unreachable?(err: Error, again: (up: { host: string; port: number }) => void): void;
  },
) => Promise<void>;

/**
 * An AudioHandler as a front-door adapter: the door's agent is reused, a declined route is passed,
 * and a connection refused before anything was sent goes back to the door to be held.
 */
function asDoorAdapter(handler: AudioHandler): DoorAdapter {
  return async (req, res, ctx) => {
    const hook = ctx.unreachable?.bind(ctx);
    const toAudio = (u: { host: string; port: number }): Upstream => ({
      host: u.host,
      port: u.port,
      agent: ctx.agent,
      unreachable: hook
        ? (err: UpstreamUnreachable, again: (up: Upstream) => void) =>
            hook(err, (next) => again(toAudio(next)))
        : undefined,
    });
    const handled = await handler(req, res, toAudio(ctx.upstream));
    if (!handled) ctx.pass();
  };
}

export interface AudioRoutes {
  piper: AudioHandler;
  vibevoice: AudioHandler;
  whisper: AudioHandler;
  /** The same three in the front door's adapter shape: `createFrontDoor({ adapters: routes.adapters })`. */
  adapters: Record<'piper' | 'vibevoice' | 'whisper', DoorAdapter>;
  piperAdapter: PiperAdapter;
}

/** The handlers by service id (the presets' ids: `piper`, `vibevoice`, `whisper`). */
export function createAudioRoutes(opts: AudioRoutesOptions): AudioRoutes {
  const piperAdapter = createPiperAdapter({
    voiceTable: opts.piperVoices,
    timeoutMs: opts.ttsTimeoutMs,
  });
  const piper: AudioHandler = (req, res, up) => piperAdapter.handle(req, res, up);
  const vibevoice: AudioHandler = (req, res, up) =>
    handleVibeVoice(req, res, up, { timeoutMs: opts.ttsTimeoutMs });
  const whisper: AudioHandler = (req, res, up) =>
    handleWhisper(req, res, up, { inferencePath: opts.whisperInferencePath() });
  return {
    piper,
    vibevoice,
    whisper,
    adapters: {
      piper: asDoorAdapter(piper),
      vibevoice: asDoorAdapter(vibevoice),
      whisper: asDoorAdapter(whisper),
    },
    piperAdapter,
  };
}
