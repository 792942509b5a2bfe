// What hibernation needs from the services, as one small injected interface: unit tests pass a
// fake, the core passes `supervisedServices(supervisor)` (the supervisor plus Ollama's API).

import type { ServiceEntry } from '../contract.js';
import type { Supervisor } from '../context.js';
import type { Unsubscribe } from '../util/emitter.js';
import * as ollama from '../services/ollama.js';
import type { SeenModel } from './signals.js';

export interface PreloadOutcome {
  model: string;
  ok: boolean;
  error?: string;
  /** The model is not installed (it needs `ollama pull`). */
  missing?: boolean;
}

export interface HibernationServices {
  /** The supervisor's entries (as in the snapshot's `services`). */
  list(): ServiceEntry[];
  start(id: string): Promise<void>;
  stop(id: string): Promise<void>;
  /** True once running and healthy; false after `timeoutMs`. */
  waitReady(id: string, timeoutMs: number): Promise<boolean>;
  /** The service holds models that can be unloaded and preloaded without stopping it (Ollama). */
  hasModels(id: string): boolean;
  /** Unloads every model and waits until none is left (the unload answer comes before the unload). */
  unloadModels(
    id: string,
    opts: { timeoutMs: number; signal: AbortSignal },
  ): Promise<{ ok: boolean; remaining: string[] }>;
  listLoaded(id: string, signal?: AbortSignal): Promise<SeenModel[]>;
  /** Loads each model; `keepAlive` undefined sends none (the server's own applies). */
  preloadModels(
    id: string,
    models: string[],
    opts: { keepAlive: string | number | undefined; signal: AbortSignal },
  ): Promise<PreloadOutcome[]>;
  /** Each log line of each service (for the TTS request signal). */
  onLog(listener: (e: { service: string; text: string }) => void): Unsubscribe;
  /** Each time a service becomes ready, whoever started it (the supervisor only reports it). */
  onReady(listener: (id: string) => void): Unsubscribe;
  /** A line in the service's own log (what hibernation loaded into it), beside the supervisor's. */
  note(id: string, text: string): void;
}

/** Only Ollama has a model API; VibeVoice, Piper and Whisper unload by stopping. */
const MODEL_SERVICES: ReadonlySet<string> = new Set(['ollama']);

export function supervisedServices(
  sup: Supervisor,
  api: Pick<typeof ollama, 'listLoaded' | 'preloadModels' | 'unloadAllModels'> = ollama,
): HibernationServices {
  const url = (id: string) => {
    const u = sup.baseUrl(id);
    if (!u) throw new Error(`${id} has no address (not configured)`);
    return u;
  };
  return {
    list: () => sup.list(),
    start: async (id) => {
      await sup.startService(id);
    },
    stop: async (id) => {
      await sup.stopService(id);
    },
    waitReady: (id, timeoutMs) => sup.waitReady(id, timeoutMs),
    hasModels: (id) => MODEL_SERVICES.has(id),
    unloadModels: async (id, opts) => {
      const r = await api.unloadAllModels(url(id), {
        timeoutMs: opts.timeoutMs,
        signal: opts.signal,
      });
      return { ok: r.ok, remaining: r.remaining };
    },
    listLoaded: async (id, signal) =>
      (await api.listLoaded(url(id), signal ? { signal } : {})).map((m) => ({
        name: m.name,
        expiresAt: m.expiresAt,
      })),
    preloadModels: (id, models, opts) =>
      api.preloadModels(url(id), models, {
        ...(opts.keepAlive !== undefined ? { keepAlive: opts.keepAlive } : {}),
        signal: opts.signal,
      }),
    onLog: (listener) => sup.onLog(({ service, line }) => listener({ service, text: line.text })),
    onReady: (listener) => sup.onReady(listener),
    note: (id, text) => sup.note(id, text),
  };
}
