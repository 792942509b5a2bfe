// Port 11402: the app's OpenAI-style TTS calls, translated for `python -m piper.http_server`.
//
// What the upstream speaks (OHF-Voice/piper1-gpl, src/piper/http_server.py):
//   1.5+ (v1.5.0 … v1.7.0): GET / is a web page, GET /info, GET /voices → {"<voice>": {config}},
//        POST /synthesize {"text","voice"?,"speaker"?,"speaker_id"?,"length_scale"?,…} → WAV
//        written by Python's `wave` (sent as text/html: Flask's default for bytes); POST / is 405.
//   1.3–1.4 (v1.3.0, v1.4.x): the same JSON body on POST /; GET /voices; no /info, no /synthesize (404).
//   1.2 (rhasspy/piper, src/python_run/piper/http_server.py): GET /?text= or POST / with the text
//        itself as the body; no /voices.
// None has /v1/audio/speech or /health. A bad request (no text, bad JSON) raises in the view, which
// Flask answers 500 with its HTML error page.

import type http from 'node:http';
import {
  AudioError,
  clientGone,
  readBody,
  readText,
  routeOf,
  sendError,
  sendFailure,
  failOrHold,
  UpstreamUnreachable,
  sendJson,
  sendWav,
  upstreamMessage,
  upstreamRequest,
  type Upstream,
} from './http.js';

/** Which request synthesises: POST /synthesize (1.5+), POST / with JSON (1.3–1.4), POST / with text (1.2). */
type PiperApi = 'synthesize' | 'root-json' | 'root-text';

export interface PiperAdapterOptions {
  /** settings.audio.piperVoices, read at each request so a settings change applies at once. */
  voiceTable: () => Record<string, string>;
  /** Longest wait for Piper's answer (default 60 s, the app's own timeout). */
  timeoutMs?: number;
  /** The rate the app plays this port at; installed voices of another rate are not used for a name (default 22050). */
  sampleRate?: number;
  /** How long the list of installed voices is reused (default 30 s). */
  voicesTtlMs?: number;
  now?: () => number;
}

export interface SpeechRequest {
  text: string;
  voice: string | null;
  lengthScale: number | null;
  pcm: boolean;
}

export interface InstalledVoice {
  id: string;
  sampleRate: number | null;
  language: string | null;
  quality: string | null;
  numSpeakers: number | null;
}

/** Pure: the app's (OpenAI) speech body → what to ask Piper; AudioError(400) when it cannot be served. */
export function parseSpeech(body: Buffer): Omit<SpeechRequest, 'voice'> & { voice: string | null } {
  let j: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    j = v as Record<string, unknown>;
  } catch {
    throw new AudioError(
      400,
      'invalid_request',
      'the body must be a JSON object like {"model":"tts-1","input":"Hello","voice":"nova","response_format":"wav"}',
    );
  }
  const text = typeof j.input === 'string' ? j.input.trim() : '';
  if (!text)
    throw new AudioError(400, 'invalid_request', '"input" (the text to speak) is required');
  const format = j.response_format === undefined ? 'wav' : String(j.response_format).toLowerCase();
  if (format !== 'wav' && format !== 'pcm')
    throw new AudioError(
      400,
      'unsupported_format',
      `Piper makes WAV: "response_format" must be "wav" or "pcm", not ${JSON.stringify(j.response_format)}`,
    );
  let lengthScale: number | null = null;
  if (j.speed !== undefined && j.speed !== null) {
    const speed = Number(j.speed);
    if (!Number.isFinite(speed) || speed < 0.25 || speed > 4)
      throw new AudioError(
        400,
        'invalid_request',
        `"speed" must be a number from 0.25 to 4.0, not ${JSON.stringify(j.speed)}`,
      );
    // Piper's length_scale is the phoneme duration factor: twice as fast = half as long.
    if (speed !== 1) lengthScale = Math.round((1 / speed) * 1000) / 1000;
  }
  const voice = typeof j.voice === 'string' && j.voice.trim() ? j.voice.trim() : null;
  return { text, voice, lengthScale, pcm: format === 'pcm' };
}

/** Pure: Piper's `GET /voices` dict → installed voices. */
export function parseVoices(body: string): InstalledVoice[] | null {
  let j: unknown;
  try {
    j = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return null;
  return Object.entries(j as Record<string, unknown>).map(([id, config]) => {
    const c = (config ?? {}) as {
      audio?: { sample_rate?: unknown; quality?: unknown };
      language?: { code?: unknown };
      num_speakers?: unknown;
      espeak?: { voice?: unknown };
    };
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
    return {
      id,
      sampleRate: num(c.audio?.sample_rate),
      language: str(c.language?.code) ?? str(c.espeak?.voice),
      quality: str(c.audio?.quality),
      numSpeakers: num(c.num_speakers),
    };
  });
}

/**
 * Pure: which Piper voice to ask for. The table maps the app's OpenAI names (case-insensitive); a
 * name that is itself an installed voice (picked from `GET /voices`) is used as is. Anything else,
 * a voice that is not installed, or one of another sample rate than the app plays, is null: Piper's
 * own voice (the one it was started with).
 */
export function pickVoice(
  requested: string | null,
  table: Record<string, string>,
  installed: InstalledVoice[] | null,
  sampleRate: number,
): string | null {
  if (!requested) return null;
  const key = Object.keys(table).find((k) => k.toLowerCase() === requested.toLowerCase());
  const wanted = key !== undefined ? table[key] : requested;
  if (!wanted) return null;
  const v = installed?.find((i) => i.id === wanted);
  if (!v) return null;
  if (v.sampleRate !== null && v.sampleRate !== sampleRate) return null;
  return v.id;
}

/** Pure: `en_US-amy-medium` → "Amy (en_US, medium)". */
export function voiceLabel(v: InstalledVoice): string {
  const m = /^([a-z]{2,3}(?:_[A-Z]{2})?)-(.+)-(x_low|low|medium|high)$/.exec(v.id);
  if (!m) return v.id;
  const name = m[2]!.replace(/[_-]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase());
  return `${name} (${m[1]}, ${m[3]})`;
}

export interface PiperAdapter {
  /** Serves the route if it is one of the adapter's; false (nothing sent) for the pass-through. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, upstream: Upstream): Promise<boolean>;
  /** POST /v1/audio/speech */
  speech(req: http.IncomingMessage, res: http.ServerResponse, upstream: Upstream): Promise<void>;
  /** GET /voices and GET /v1/audio/voices */
  voices(req: http.IncomingMessage, res: http.ServerResponse, upstream: Upstream): Promise<void>;
  /** GET /health */
  health(req: http.IncomingMessage, res: http.ServerResponse, upstream: Upstream): Promise<void>;
  /** The synthesis API found for an upstream, once a request found it. */
  api(upstream: Upstream): PiperApi | null;
}

const key = (u: Upstream) => `${u.host}:${u.port}`;
/** A health answer is wanted fast (the app's own checks wait 3 s): a Piper this slow is not ready. */
const HEALTH_TIMEOUT_MS = 2500;

export function createPiperAdapter(opts: PiperAdapterOptions): PiperAdapter {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const sampleRate = opts.sampleRate ?? 22050;
  const ttl = opts.voicesTtlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const apis = new Map<string, PiperApi>();
  const voiceCache = new Map<string, { at: number; voices: InstalledVoice[] | null }>();

  /** GET /voices upstream: the installed voices, null when this Piper has no such list (1.2). */
  async function fetchVoices(
    up: Upstream,
    signal: AbortSignal,
    wait = timeoutMs,
  ): Promise<InstalledVoice[] | null> {
    const r = await upstreamRequest(up, {
      method: 'GET',
      path: '/voices',
      headers: { accept: 'application/json' },
      signal,
      timeoutMs: wait,
    });
    const body = await readText(r, 4 << 20);
    if (r.statusCode === 404) {
      voiceCache.set(key(up), { at: now(), voices: null }); // 1.2: no list, and none to come
      return null;
    }
    if (r.statusCode !== 200)
      throw new AudioError(
        502,
        'upstream_error',
        `Piper answered GET /voices with ${r.statusCode}: ${upstreamMessage(r.statusCode ?? 0, body)}`,
      );
    const voices = parseVoices(body);
    if (!voices)
      throw new AudioError(
        502,
        'upstream_error',
        'Piper answered GET /voices with something other than a JSON object of voices',
      );
    voiceCache.set(key(up), { at: now(), voices });
    return voices;
  }

  async function installed(up: Upstream, signal: AbortSignal): Promise<InstalledVoice[] | null> {
    const c = voiceCache.get(key(up));
    if (c && now() - c.at < ttl) return c.voices;
    try {
      return await fetchVoices(up, signal);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      return null; // the voice list is a nicety: synthesise with Piper's own voice
    }
  }

  function synthRequest(
    api: PiperApi,
    s: SpeechRequest,
  ): { path: string; headers: http.OutgoingHttpHeaders; body: Buffer } {
    if (api === 'root-text') {
      // 1.2 reads the body as the text and knows nothing of voices or speed.
      return {
        path: '/',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: Buffer.from(s.text, 'utf8'),
      };
    }
    const j: Record<string, unknown> = { text: s.text };
    if (s.voice) j.voice = s.voice;
    if (s.lengthScale !== null) j.length_scale = s.lengthScale;
    return {
      path: api === 'synthesize' ? '/synthesize' : '/',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(j), 'utf8'),
    };
  }

  /**
   * Asks Piper to synthesise, finding its API on the first call: 1.5+ answers /synthesize; 404 there
   * means POST / (1.3–1.4 take JSON; 1.2, which has no /voices, takes the text). A remembered API that
   * stops working (Piper was upgraded or downgraded: 404 on /synthesize, 405 on POST /) is found again.
   */
  async function synthesize(
    up: Upstream,
    s: SpeechRequest,
    signal: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const k = key(up);
    let api = apis.get(k) ?? 'synthesize';
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = synthRequest(api, s);
      const res = await upstreamRequest(up, {
        method: 'POST',
        path: r.path,
        headers: { ...r.headers, 'content-length': r.body.length },
        body: r.body,
        signal,
        timeoutMs,
      });
      const wrongApi =
        (api === 'synthesize' && res.statusCode === 404) ||
        (api !== 'synthesize' && res.statusCode === 405);
      if (!wrongApi) {
        apis.set(k, api); // the route exists, whatever this answer says
        return res;
      }
      res.resume();
      if (api === 'synthesize') {
        const voices = await fetchVoices(up, signal).catch((err: Error) =>
          err.name === 'AbortError' ? Promise.reject(err) : null,
        );
        api = voices === null ? 'root-text' : 'root-json';
      } else {
        api = 'synthesize';
      }
    }
    throw new AudioError(
      502,
      'upstream_error',
      'Piper answers neither POST /synthesize nor POST /: is this piper.http_server?',
    );
  }

  async function speech(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    up: Upstream,
  ): Promise<void> {
    let parsed: ReturnType<typeof parseSpeech>;
    try {
      parsed = parseSpeech(await readBody(req, 1 << 20));
    } catch (err) {
      return sendFailure(res, err);
    }
    await speak(res, up, parsed);
  }

  /** The app's request, read (at most 1 MiB) and parsed: kept, so a refused connect can be sent again. */
  async function speak(
    res: http.ServerResponse,
    up: Upstream,
    parsed: ReturnType<typeof parseSpeech>,
  ): Promise<void> {
    const signal = clientGone(res);
    try {
      const voice = parsed.voice
        ? pickVoice(parsed.voice, opts.voiceTable(), await installed(up, signal), sampleRate)
        : null;
      const answer = await synthesize(up, { ...parsed, voice }, signal);
      if (answer.statusCode !== 200) {
        const body = await readText(answer);
        const status = answer.statusCode ?? 502;
        // Piper's own 4xx stays a 4xx; its 500 (an exception in the view) is a bad gateway for the app.
        return sendError(
          res,
          status >= 400 && status < 500 ? status : 502,
          'upstream_error',
          `Piper answered ${status}: ${upstreamMessage(status, body)}`,
        );
      }
      await sendWav(res, answer, { pcm: parsed.pcm });
    } catch (err) {
      // Refused before anything was sent: the front door holds it and calls again once it is ready.
      failOrHold(res, err, up, (u) => void speak(res, u, parsed));
    }
  }

  async function voices(
    _req: http.IncomingMessage,
    res: http.ServerResponse,
    up: Upstream,
  ): Promise<void> {
    const signal = clientGone(res);
    try {
      const list = await fetchVoices(up, signal).catch((err: unknown) => {
        // Refused before anything was sent: the front door holds it and calls again once ready.
        if (err instanceof UpstreamUnreachable && up.unreachable) {
          up.unreachable(err, (u) => void voices(_req, res, u));
          return undefined;
        }
        throw err;
      });
      if (list === undefined) return;
      if (list === null)
        throw new AudioError(
          502,
          'upstream_error',
          'this Piper (before 1.3) has no list of voices',
        );
      const table = opts.voiceTable();
      sendJson(res, 200, {
        voices: list.map((v) => ({
          id: v.id,
          voice_id: v.id, // the field VibeVoice's list (8880) uses, for clients that read that shape
          name: voiceLabel(v),
          language: v.language,
          quality: v.quality,
          sample_rate: v.sampleRate,
          // The app's names that reach this voice through settings.audio.piperVoices.
          aliases: Object.keys(table).filter((k) => table[k] === v.id),
        })),
      });
    } catch (err) {
      sendFailure(res, err);
    }
  }

  async function health(
    _req: http.IncomingMessage,
    res: http.ServerResponse,
    up: Upstream,
  ): Promise<void> {
    const signal = clientGone(res);
    try {
      const list = await fetchVoices(up, signal, HEALTH_TIMEOUT_MS);
      sendJson(res, 200, {
        status: 'ok',
        service: 'piper',
        api: apis.get(key(up)) ?? null,
        voices: list?.length ?? null,
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') return void res.destroy();
      const why =
        err instanceof AudioError
          ? err.message
          : `Piper does not answer: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      sendJson(res, 503, { status: 'unavailable', error: { code: 'not_ready', message: why } });
    }
  }

  return {
    async handle(req, res, up) {
      const route = routeOf(req);
      if (route === 'POST /v1/audio/speech') await speech(req, res, up);
      else if (route === 'GET /voices' || route === 'GET /v1/audio/voices')
        await voices(req, res, up);
      else if (route === 'GET /health') await health(req, res, up);
      else return false;
      return true;
    },
    speech,
    voices,
    health,
    api: (up) => apis.get(key(up)) ?? null,
  };
}
