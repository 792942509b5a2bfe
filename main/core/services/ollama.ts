// Ollama's HTTP API, through the `ollama` npm client: what is installed, what is loaded (and where),
// loading and unloading models, pulling. Used by hibernation (every load and unload it decides), the GPU
// sampler (VRAM per model) and hibernation (unload when cold, preload on wake).

import type { Ollama } from 'ollama';
import { deadline } from '../util/deadline.js';
import { keptFetch } from '../util/http-get.js';
import { OLLAMA_DEFAULT_PORT } from './presets.js';

export interface InstalledModel {
  name: string;
  sizeBytes: number;
  digest: string;
  modifiedAt: string | null;
  parameterSize: string | null;
  quantization: string | null;
}

export interface LoadedModel {
  name: string;
  sizeBytes: number;
  /** Bytes in VRAM; `sizeBytes - vramBytes` runs on the CPU. */
  vramBytes: number;
  /** ISO time the model unloads by itself; null when unknown. */
  expiresAt: string | null;
  contextLength: number | null;
  digest: string;
}

/** A model in Ollama's `GET /api/ps` (`listLoaded`): `size`, `size_vram`, `expires_at`. */
export type PsModel = Pick<LoadedModel, 'name' | 'sizeBytes' | 'vramBytes'> &
  Partial<Pick<LoadedModel, 'expiresAt'>>;
/** A model in Ollama's `GET /api/tags` (`listInstalled`): `sizeBytes` is the download size. */
export type TagModel = Pick<InstalledModel, 'name' | 'sizeBytes'>;

export interface RequestOptions {
  /** Per-request timeout (default 5000 ms; loads default to 120 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export { OLLAMA_DEFAULT_PORT };

/**
 * Ollama's base URL as the core reaches it, worked out here only: the supervisor's address when it
 * has one (the program's own listen address, also when the front door stands before it), else
 * loopback on the port it is known by (loopback reaches a LAN-bound Ollama too), else Ollama's default.
 */
export function ollamaBaseUrl(
  known: { supervisor?: string | null; port?: number | null } = {},
): string {
  return known.supervisor || `http://127.0.0.1:${known.port ?? OLLAMA_DEFAULT_PORT}`;
}

const DEFAULT_TIMEOUT_MS = 5000;
const LOAD_TIMEOUT_MS = 120_000;

// The client package loads on first use, not at server start: it is start-up CPU (and memory) that a
// server whose Ollama is missing or not yet up does not need (bench/headless.bench.ts).
let ollamaClass: Promise<typeof Ollama> | null = null;
const loadOllama = (): Promise<typeof Ollama> =>
  (ollamaClass ??= import('ollama').then((m) => m.Ollama));

/** A client whose every request is bounded by a timeout and an optional caller signal. */
async function client(
  baseUrl: string,
  opts: RequestOptions = {},
  defaultTimeout = DEFAULT_TIMEOUT_MS,
): Promise<Ollama> {
  const timeoutMs = opts.timeoutMs ?? defaultTimeout;
  const OllamaClient = await loadOllama();
  return new OllamaClient({
    host: baseUrl,
    fetch: (input, init) => {
      const signals = [AbortSignal.timeout(timeoutMs)];
      if (opts.signal) signals.push(opts.signal);
      if (init?.signal) signals.push(init.signal);
      return fetch(input, { ...init, signal: AbortSignal.any(signals) });
    },
  });
}

/**
 * One call of the client (request and body), bounded by a deadline that is cleared when it ends: the
 * polled reads (/api/ps every few seconds, /api/tags) must not leave an AbortSignal.timeout behind
 * each time. Its GETs go over a kept connection (`keptFetch`); the rest through the global fetch.
 */
async function once<T>(
  baseUrl: string,
  opts: RequestOptions = {},
  call: (c: Ollama) => Promise<T>,
): Promise<T> {
  const OllamaClient = await loadOllama();
  const d = deadline(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, opts.signal);
  try {
    return await call(
      new OllamaClient({
        host: baseUrl,
        fetch: (input, init) => keptFetch(input, { ...init, signal: d.link(init?.signal) }),
      }),
    );
  } finally {
    d.clear();
  }
}

// The client's types say Date, but the JSON holds strings; read both.
function iso(v: unknown): string | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  return typeof v === 'string' && v ? v : null;
}

/** GET /api/tags: the models on disk. */
export async function listInstalled(
  baseUrl: string,
  opts?: RequestOptions,
): Promise<InstalledModel[]> {
  const res = await once(baseUrl, opts, (c) => c.list());
  return (res.models ?? []).map((m) => ({
    name: m.name ?? m.model,
    sizeBytes: Number(m.size) || 0,
    digest: m.digest ?? '',
    modifiedAt: iso(m.modified_at),
    parameterSize: m.details?.parameter_size || null,
    quantization: m.details?.quantization_level || null,
  }));
}

/**
 * A request that ran out of time. Ollama ≥ 0.32.10 holds `GET /api/ps` while a model loads, so a
 * timed-out /api/ps means "busy loading", not "down".
 */
export function isTimeout(err: unknown): boolean {
  for (
    let e = err as { name?: string; message?: string; cause?: unknown } | undefined, i = 0;
    e && i < 4;
    e = e.cause as typeof e, i++
  ) {
    if (e.name === 'TimeoutError' || /due to timeout/i.test(e.message ?? '')) return true;
  }
  return false;
}

/** GET /api/ps: the models in memory, with how much of each sits in VRAM. */
export async function listLoaded(baseUrl: string, opts?: RequestOptions): Promise<LoadedModel[]> {
  const res = await once(baseUrl, opts, (c) => c.ps());
  return (res.models ?? []).map((m) => {
    const raw = m as unknown as { context_length?: unknown };
    return {
      name: m.name ?? m.model,
      sizeBytes: Number(m.size) || 0,
      vramBytes: Number(m.size_vram) || 0,
      expiresAt: iso(m.expires_at),
      contextLength: typeof raw.context_length === 'number' ? raw.context_length : null,
      digest: m.digest ?? '',
    };
  });
}

/** GET /api/version. */
export async function serverVersion(baseUrl: string, opts?: RequestOptions): Promise<string> {
  return (await once(baseUrl, opts, (c) => c.version())).version;
}

export interface PreloadResult {
  model: string;
  ok: boolean;
  error?: string;
  /** The model is not installed: it needs `ollama pull`. */
  missing?: boolean;
}

/**
 * Loads each model with an empty `POST /api/generate` (Ollama answers `done_reason: "load"`).
 * One at a time, so two big models do not race for VRAM. Never throws: each model gets a result.
 */
export async function preloadModels(
  baseUrl: string,
  models: string[],
  opts: RequestOptions & { keepAlive?: string | number } = {},
): Promise<PreloadResult[]> {
  const results: PreloadResult[] = [];
  const c = await client(baseUrl, opts, LOAD_TIMEOUT_MS);
  for (const model of models) {
    try {
      await c.generate({
        model,
        prompt: '',
        stream: false,
        ...(opts.keepAlive !== undefined ? { keep_alive: opts.keepAlive } : {}),
      });
      results.push({ model, ok: true });
    } catch (err) {
      const e = err as Error & { status_code?: number };
      const missing = e.status_code === 404 || /not found/i.test(e.message);
      results.push({ model, ok: false, error: e.message, ...(missing ? { missing: true } : {}) });
    }
  }
  return results;
}

export interface UnloadResult {
  /** True when /api/ps was empty before the timeout. */
  ok: boolean;
  /** Models asked to unload. */
  unloaded: string[];
  /** Models still in /api/ps when giving up (empty when ok). */
  remaining: string[];
}

/**
 * Unloads every loaded model (`keep_alive: 0` for each model in /api/ps), then polls /api/ps
 * until it is empty: Ollama answers the unload at once but frees the memory a moment later.
 */
export async function unloadAllModels(
  baseUrl: string,
  opts: { timeoutMs: number; pollMs?: number; signal?: AbortSignal; requestTimeoutMs?: number },
): Promise<UnloadResult> {
  const deadline = Date.now() + opts.timeoutMs;
  const remainingMs = () => Math.max(1, deadline - Date.now());
  const reqOpts = (): RequestOptions => ({
    timeoutMs: Math.min(opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS, remainingMs()),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  // Ollama ≥ 0.32.10 answers /api/ps only once a load in progress has finished: a read that runs
  // out of time is asked again until our own deadline (the model being loaded must go too).
  const readPs = async (o: RequestOptions): Promise<LoadedModel[]> => {
    for (;;) {
      try {
        return await listLoaded(baseUrl, o);
      } catch (err) {
        if (!isTimeout(err) || Date.now() >= deadline || opts.signal?.aborted) throw err;
        o = reqOpts();
      }
    }
  };
  const loaded = await readPs(reqOpts());
  const unloaded = loaded.map((m) => m.name);
  for (const name of unloaded) {
    await (
      await client(baseUrl, reqOpts())
    ).generate({ model: name, prompt: '', keep_alive: 0, stream: false });
  }
  for (;;) {
    const remaining = (await readPs(reqOpts())).map((m) => m.name);
    if (remaining.length === 0) return { ok: true, unloaded, remaining };
    if (Date.now() >= deadline || opts.signal?.aborted) return { ok: false, unloaded, remaining };
    await new Promise((r) => setTimeout(r, Math.min(opts.pollMs ?? 100, remainingMs())));
  }
}

export interface PullProgress {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

/** POST /api/pull, streaming progress to `onProgress`. Rejects with Ollama's message on failure. */
export async function pullModel(
  baseUrl: string,
  model: string,
  onProgress: (p: PullProgress) => void,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<void> {
  // A pull can take an hour: no overall timeout unless the caller sets one.
  const c = await client(baseUrl, {
    timeoutMs: opts.timeoutMs ?? 24 * 3600_000,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const stream = await c.pull({ model, stream: true });
  let last = '';
  for await (const p of stream) {
    const err = (p as unknown as { error?: string }).error;
    if (err) throw new Error(err);
    last = p.status;
    onProgress({
      status: p.status,
      ...(p.digest ? { digest: p.digest } : {}),
      ...(typeof p.total === 'number' ? { total: p.total } : {}),
      ...(typeof p.completed === 'number' ? { completed: p.completed } : {}),
    });
  }
  if (last !== 'success')
    throw new Error(`pull of ${model} ended without success (last status: ${last || 'none'})`);
}
