// The one typed client the dashboard uses: HTTP + Server-Sent Events against the core's control
// API, in the Electron window (token from the preload) and in a browser (token from the URL
// fragment, kept in sessionStorage so a reload does not lose it and it never reaches the server log).

import type {
  GpuHistoryPoint,
  HibernationState,
  LogLine,
  Notice,
  PairingSection,
  ServiceEntry,
  Snapshot,
} from '../../main/core/contract.js';
import type { LatencyReport, RedactedSettings, SetupView } from '../../main/core/contract.js';
import { bridge } from './bridge.js';

export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'unamentis.token';

export async function resolveConnection(): Promise<{ baseUrl: string; token: string | null }> {
  if (bridge) return bridge.connection();
  const hash = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromHash = hash.get('token');
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    // Drop the token from the address bar (screenshots, shoulder surfing, history).
    history.replaceState(null, '', location.pathname + location.search);
  }
  return { baseUrl: location.origin, token: fromHash ?? sessionStorage.getItem(TOKEN_KEY) };
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export interface PairingStatusView extends PairingSection {
  incoming: {
    code: string;
    fromId: string;
    fromName: string;
    address: string;
    expiresAt: string;
    attemptsLeft: number;
  } | null;
  peers: {
    id: string;
    name: string;
    role: string;
    prio: number;
    addresses: string[];
    port: number;
    pairedAt: string;
    alive: boolean;
  }[];
}

export type ServiceAction = 'start' | 'stop' | 'restart' | 'take-over';
export type SettingsView = RedactedSettings;
export type { LatencyReport, GpuHistoryPoint, SetupView };

export interface InstalledModelView {
  name: string;
  sizeBytes: number;
  parameterSize?: string | null;
  quantization?: string | null;
}

export interface PiperVoiceView {
  id: string;
  sizeBytes: number;
  sampleRate: number | null;
  language: string | null;
  quality: string | null;
}

export interface PullProgressView {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
  error?: string;
}

export type StreamEvent =
  | { type: 'snapshot'; data: Snapshot }
  | { type: 'log'; data: { service: string; line: LogLine } }
  | { type: 'notice'; data: Notice };

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private token: string | null,
  ) {}

  get hasToken(): boolean {
    return !!this.token;
  }

  setToken(token: string | null): void {
    this.token = token;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const e = (json as ApiErrorBody | undefined)?.error;
      throw new ApiError(res.status, e?.code ?? 'internal', e?.message ?? res.statusText, e?.field);
    }
    return json as T;
  }

  status(): Promise<Snapshot> {
    return this.request('GET', '/api/status');
  }

  // Services (issue 3's routes).
  serviceAction(id: string, action: ServiceAction): Promise<ServiceEntry> {
    return this.request('POST', `/api/services/${encodeURIComponent(id)}/${action}`);
  }

  allServices(action: 'start-all' | 'stop-all'): Promise<unknown> {
    return this.request('POST', `/api/services/${action}`);
  }

  async logs(id: string, lines = 200): Promise<LogLine[]> {
    const r = await this.request<{ lines: LogLine[] }>(
      'GET',
      `/api/services/${encodeURIComponent(id)}/logs?lines=${lines}`,
    );
    return Array.isArray(r?.lines) ? r.lines : [];
  }

  // Hibernation (issue 5's routes).
  wake(): Promise<unknown> {
    return this.request('POST', '/api/wake');
  }

  hibernate(state: HibernationState): Promise<unknown> {
    return this.request('POST', '/api/hibernation/hibernate', { state });
  }

  keepAwake(on: boolean, minutes: number | null = null): Promise<unknown> {
    return this.request('POST', '/api/hibernation/keep-awake', { on, minutes });
  }

  dismissNotice(id: string): Promise<unknown> {
    return this.request('POST', `/api/notices/${encodeURIComponent(id)}/dismiss`);
  }

  // Settings.
  settings(): Promise<SettingsView> {
    return this.request('GET', '/api/settings');
  }

  saveSettings(patch: unknown): Promise<SettingsView> {
    return this.request('PUT', '/api/settings', patch);
  }

  // GPU history (issue 4): the sampler's ring; a server without it answers 404 and the chart
  // starts from the snapshots alone.
  async gpuHistory(): Promise<GpuHistoryPoint[]> {
    try {
      const r = await this.request<{ points?: GpuHistoryPoint[] }>('GET', '/api/gpu/history');
      return Array.isArray(r?.points) ? r.points : [];
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return [];
      throw err;
    }
  }

  /** Reads the GPU once now (cold and dormant sample only on demand). */
  gpuSample(): Promise<void> {
    return this.request('POST', '/api/gpu/sample');
  }

  /** Would `model` fit next to what must stay loaded? */
  gpuFit(model: string): Promise<{ model: string; fits: boolean; level: string; message: string }> {
    return this.request('GET', `/api/gpu/fit?model=${encodeURIComponent(model)}`);
  }

  // Models.
  installedModels(): Promise<{ models: InstalledModelView[] }> {
    return this.request('GET', '/api/models');
  }

  /** Streams a pull's NDJSON progress lines to `onProgress`; resolves on success, rejects with the error. */
  pullModel(
    model: string,
    onProgress: (p: PullProgressView) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const ended = 'The pull ended without success.';
    return this.progress('/api/models/pull', { model }, onProgress, ended, signal);
  }

  /** Piper voices installed in its voice folder. */
  piperVoices(): Promise<{ dir: string; voices: PiperVoiceView[]; downloading: string[] }> {
    return this.request('GET', '/api/piper/voices');
  }

  /** Downloads a Piper voice, streaming the NDJSON progress lines to `onProgress`. */
  downloadPiperVoice(
    voice: string,
    onProgress: (p: PullProgressView) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const ended = 'The download ended without success.';
    return this.progress('/api/piper/voices/download', { voice }, onProgress, ended, signal);
  }

  /**
   * POSTs `body` and streams the NDJSON progress lines of the answer to `onProgress`; resolves when
   * the last line says success, rejects with its error (or `ended` when it just stops).
   */
  private async progress(
    path: string,
    body: unknown,
    onProgress: (p: PullProgressView) => void,
    ended: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
    if (!res.ok || !res.body) {
      const error = (await res.json().catch(() => undefined)) as ApiErrorBody | undefined;
      throw new ApiError(
        res.status,
        error?.error.code ?? 'internal',
        error?.error.message ?? res.statusText,
        error?.error.field,
      );
    }
    let last: PullProgressView | null = null;
    await readLines(res.body, (line) => {
      last = JSON.parse(line) as PullProgressView;
      onProgress(last);
    });
    const end = last as PullProgressView | null;
    if (end?.error) throw new ApiError(502, 'internal', end.error);
    if (end?.status !== 'success') throw new ApiError(502, 'internal', ended);
  }

  // Pairing (issue 7's routes). The status holds the code to show: local, token-gated views only.
  pairingStatus(): Promise<PairingStatusView> {
    return this.request('GET', '/api/pairing');
  }

  pairingStart(
    target: { id: string } | { address: string; port: number },
  ): Promise<{ peerId: string; peerName: string; expiresInSeconds: number }> {
    return this.request('POST', '/api/pairing/start', target);
  }

  pairingConfirm(code: string): Promise<{ peerId: string; peerName: string; pairId: string }> {
    return this.request('POST', '/api/pairing/confirm', { code });
  }

  pairingCancel(): Promise<unknown> {
    return this.request('POST', '/api/pairing/cancel');
  }

  /** Without id: leave the pair. With a peer's id: remove that host from the pair. */
  pairingUnpair(id?: string): Promise<{ removed: string[]; unreachable: string[] }> {
    return this.request('POST', '/api/pairing/unpair', id ? { id } : {});
  }

  serving(on: boolean): Promise<unknown> {
    return this.request('POST', on ? '/api/serving/resume' : '/api/serving/stop');
  }

  // First-run setup (issue 18): each step runs only on this explicit POST.
  setup(): Promise<SetupView> {
    return this.request('GET', '/api/setup');
  }

  setupStep(id: string, action: 'run' | 'cancel'): Promise<SetupView> {
    return this.request('POST', `/api/setup/${encodeURIComponent(id)}/${action}`);
  }

  setupDismiss(): Promise<SetupView> {
    return this.request('POST', '/api/setup/dismiss');
  }

  // Latency check.
  latencyCheck(): Promise<LatencyReport> {
    return this.request('POST', '/api/latency-check');
  }

  /**
   * Follows /api/events with fetch (EventSource cannot send the Authorization header) and
   * reconnects with a short back-off. Without a token it polls /api/status instead.
   * Returns a function that stops it.
   */
  subscribe(
    onEvent: (e: StreamEvent) => void,
    onConnection: (connected: boolean) => void,
  ): () => void {
    const abort = new AbortController();
    const run = async () => {
      let delay = 500;
      while (!abort.signal.aborted) {
        try {
          if (!this.token) {
            onEvent({ type: 'snapshot', data: await this.status() });
            onConnection(true);
            await sleep(2000, abort.signal);
            continue;
          }
          const res = await fetch(new URL('/api/events', this.baseUrl), {
            headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
            signal: abort.signal,
          });
          if (res.status === 401) {
            this.token = null;
            continue;
          }
          if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
          onConnection(true);
          delay = 500;
          await readEvents(res.body, onEvent);
        } catch {
          if (abort.signal.aborted) return;
        }
        onConnection(false);
        await sleep(delay, abort.signal).catch(() => {});
        delay = Math.min(delay * 2, 10_000);
      }
    };
    void run();
    return () => abort.abort();
  }
}

async function readLines(
  body: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: !done });
    let idx: number;
    while ((idx = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, idx).trim();
      buffer = buffer.slice(idx + 1);
      if (line) onLine(line);
    }
    if (done) {
      if (buffer.trim()) onLine(buffer.trim());
      return;
    }
  }
}

async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (e: StreamEvent) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let idx: number;
    while ((idx = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, idx);
      buffer = buffer.slice(idx + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (!data.length) continue;
      try {
        onEvent({ type: event, data: JSON.parse(data.join('\n')) } as StreamEvent);
      } catch {
        /* a malformed event is skipped, the stream goes on */
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    });
  });
}
