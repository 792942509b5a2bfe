// The latency check's IO: time real requests against the running services, the way the iPhone
// uses them (a streamed generate; a speech request), and hand the timings to judge().

import { judge, type Timings } from './judge.js';
import type { LatencyResult } from '../contract.js';

export interface Target {
  id: string;
  baseUrl: string;
}

export interface MeasureOptions {
  /** Warm samples after the cold one (default 3). */
  samples?: number;
  /** Per-request limit; the cold LLM request may load a model (default 60 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  now?: () => number;
}

const PROMPT = 'Reply with one short sentence: what is two plus two?';
const SPEECH = 'Hello! Let us start with a quick review.';

/** Ollama: ms from sending a streamed generate until the first chunk that carries text. */
async function ollamaTtft(
  baseUrl: string,
  model: string,
  opts: MeasureOptions = {},
): Promise<number> {
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  const res = await fetch(`${baseUrl}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt: PROMPT, stream: true, options: { num_predict: 16 } }),
    signal: signalFor(opts),
  });
  if (!res.ok || !res.body)
    throw new Error(
      `Ollama answered ${res.status}: ${(await res.text().catch(() => '')).slice(0, 200)}`,
    );
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffer += decoder.decode(value, { stream: true });
      let idx: number;
      while ((idx = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, idx).trim();
        buffer = buffer.slice(idx + 1);
        if (!line) continue;
        const chunk = JSON.parse(line) as { response?: string; error?: string; done?: boolean };
        if (chunk.error) throw new Error(chunk.error);
        if (chunk.response) return now() - t0;
        if (chunk.done) throw new Error('the model finished without producing a token');
      }
      if (done) throw new Error('the stream ended without a token');
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** A TTS service: ms from sending a speech request until the first byte of audio. */
async function ttsTtfb(id: string, baseUrl: string, opts: MeasureOptions = {}): Promise<number> {
  const now = opts.now ?? (() => performance.now());
  const attempt = async (
    path: string,
    body: unknown,
  ): Promise<{ ms: number } | { status: number; text: string }> => {
    const t0 = now();
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: signalFor(opts),
    });
    if (!res.ok || !res.body)
      return { status: res.status, text: (await res.text().catch(() => '')).slice(0, 200) };
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (value && value.length) return { ms: now() - t0 };
        if (done) return { status: res.status, text: 'empty audio' };
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  };
  let r;
  if (id === 'piper') {
    // Piper 1.5+ has /synthesize; older versions only POST /.
    r = await attempt('/synthesize', { text: SPEECH });
    if ('status' in r && r.status === 404) r = await attempt('/', { text: SPEECH });
  } else {
    // The script generates the whole clip before it answers, and never streams `wav`; a streaming
    // build streams raw PCM when asked with `stream: true`. So ask for that: the first bytes are
    // then the first audio, not the end of the clip.
    r = await attempt('/v1/audio/speech', {
      model: 'tts-1',
      input: SPEECH,
      response_format: 'pcm',
      stream: true,
    });
  }
  if ('ms' in r) return r.ms;
  throw new Error(`${id} answered ${r.status}${r.text ? `: ${r.text}` : ''}`);
}

/**
 * Does this VibeVoice stream? Its `/health` says so in `features.streaming` (false in the published
 * script: every answer is the whole clip). null when it does not say.
 */
async function vibeVoiceStreams(baseUrl: string): Promise<boolean | null> {
  try {
    const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(5000) });
    const j = (await res.json()) as { features?: { streaming?: unknown } };
    return typeof j?.features?.streaming === 'boolean' ? j.features.streaming : null;
  } catch {
    return null;
  }
}

/** Picks the model to time: one already loaded, else the first to preload, else the first installed. */
async function pickModel(baseUrl: string, preload: string[]): Promise<string | null> {
  const get = async (path: string) => {
    const res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return [];
    const body = (await res.json()) as { models?: { name?: string; model?: string }[] };
    return (body.models ?? [])
      .map((m) => m.name ?? m.model ?? '')
      .filter((n): n is string => n.length > 0);
  };
  // Unreachable Ollama throws (and says so); a non-OK answer just means "none".
  const loaded = await get('/api/ps');
  if (loaded[0]) return loaded[0];
  const installed = await get('/api/tags');
  const wanted = preload.find((p) => installed.includes(p) || installed.includes(`${p}:latest`));
  return wanted ?? installed[0] ?? null;
}

async function series(n: number, once: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await once());
  return out;
}

export interface CheckInput {
  llm: Target | null;
  /** Running TTS services (VibeVoice first, Piper as the backup). */
  tts: Target[];
  preload: string[];
  /** Why a kind could not be measured, when no target is given for it. */
  missing?: { llm?: string; tts?: string };
}

/** Runs the whole check; never throws: a failure becomes a result with `error`. */
export async function runLatencyCheck(
  input: CheckInput,
  opts: MeasureOptions = {},
): Promise<LatencyResult[]> {
  const n = 1 + Math.min(10, Math.max(1, opts.samples ?? 3));
  const results: LatencyResult[] = [];
  if (input.llm) {
    const { baseUrl } = input.llm;
    let t: Timings = {
      service: input.llm.id,
      metric: 'ttft',
      label: 'LLM time to first token',
      detail: null,
      timesMs: [],
    };
    try {
      const model = await pickModel(baseUrl, input.preload);
      if (!model) throw new Error('no model is installed in Ollama: pull one first');
      t = { ...t, detail: model, timesMs: await series(n, () => ollamaTtft(baseUrl, model, opts)) };
    } catch (err) {
      t = { ...t, error: message(err) };
    }
    results.push(judge(t));
  } else {
    results.push(
      judge({
        service: 'ollama',
        metric: 'ttft',
        label: 'LLM time to first token',
        detail: null,
        timesMs: [],
        error: input.missing?.llm ?? 'Ollama is not running',
      }),
    );
  }
  if (input.tts.length === 0) {
    results.push(
      judge({
        service: 'tts',
        metric: 'ttfb',
        label: 'TTS time to first byte',
        detail: null,
        timesMs: [],
        error: input.missing?.tts ?? 'no TTS service is running',
      }),
    );
  }
  for (const target of input.tts) {
    const label = `TTS time to first byte (${target.id === 'piper' ? 'Piper' : target.id === 'vibevoice' ? 'VibeVoice' : target.id})`;
    let t: Timings = { service: target.id, metric: 'ttfb', label, detail: null, timesMs: [] };
    if (target.id === 'vibevoice') {
      const streams = await vibeVoiceStreams(target.baseUrl);
      t.detail =
        streams === false
          ? 'pcm; this VibeVoice does not stream, so the time is the whole clip'
          : 'pcm, streamed';
    }
    try {
      t = { ...t, timesMs: await series(n, () => ttsTtfb(target.id, target.baseUrl, opts)) };
    } catch (err) {
      t = { ...t, error: message(err) };
    }
    results.push(judge(t));
  }
  return results;
}

function signalFor(opts: MeasureOptions): AbortSignal {
  const signals = [AbortSignal.timeout(opts.timeoutMs ?? 60_000)];
  if (opts.signal) signals.push(opts.signal);
  return AbortSignal.any(signals);
}

function message(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  if (e?.cause?.code === 'ECONNREFUSED') return 'connection refused (is the service running?)';
  return e?.message ?? String(err);
}
