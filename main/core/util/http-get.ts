// Small HTTP GETs on kept connections, for what is polled every second or two on the local machine or
// the LAN (health checks of the supervised services, Ollama's /api/ps, the /health of other UnaMentis
// hosts). `httpGet` never rejects: an answer, or an error message a person can read. `keptFetch` is
// the same request shaped as `fetch`, for clients that take a fetch (the ollama package).

import http from 'node:http';

/** The status and body (text, cut at 64 KB), or why there is none. */
export type Answer = { status: number; body: string } | { error: string };

const MAX_BODY = 64 * 1024;

/**
 * Kept connections: a check every couple of seconds would otherwise be a TCP connect and close each
 * time, and a check of several requests (Ollama's `/` then `/api/version`) shares one. An idle one is
 * closed after `timeout`, or sooner when the server's Keep-Alive hint says so.
 */
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 1, timeout: 15_000 });

/** A kept connection the server closed just as we reused it: nothing was answered, ask again on a new one. */
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

interface GetOptions {
  timeoutMs: number;
  signal?: AbortSignal | null;
  headers?: Record<string, string>;
  maxBody?: number;
}

type FullAnswer =
  | { status: number; headers: http.IncomingHttpHeaders; body: string; cut: boolean }
  | { error: string };

/** One GET with a hard deadline (connect, answer and body) and an optional abort signal; never rejects. */
function get(host: string, port: number, path: string, opts: GetOptions): Promise<FullAnswer> {
  const maxBody = opts.maxBody ?? MAX_BODY;
  const { signal } = opts;
  return new Promise((resolve) => {
    let settled = false;
    let req: http.ClientRequest | null = null;
    const done = (a: FullAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(a);
    };
    const stop = (error: string) => {
      done({ error });
      req?.destroy();
    };
    const onAbort = () => stop('aborted');
    const timer = setTimeout(() => stop(`no answer within ${opts.timeoutMs} ms`), opts.timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const attempt = (retried: boolean) => {
      const headers = opts.headers ?? { accept: 'application/json, text/plain' };
      const r = http.request({ host, port, path, method: 'GET', agent, headers }, (res) => {
        let body = '';
        let cut = false;
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < maxBody) body += c;
          else cut = true;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body, cut }));
        res.on('error', (err) => done({ error: err.message }));
      });
      req = r;
      r.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        if (r.reusedSocket && !retried && STALE_SOCKET.has(err.code ?? '')) return attempt(true);
        done({
          error: err.code === 'ECONNREFUSED' ? `connection refused on port ${port}` : err.message,
        });
      });
      r.end();
    };
    attempt(false);
  });
}

/** One GET with a hard deadline (connect, answer and body); never rejects. */
export async function httpGet(
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<Answer> {
  const a = await get(host, port, path, { timeoutMs });
  return 'error' in a ? a : { status: a.status, body: a.body };
}

/** Where an http: URL points, as http.request takes it (`[::1]` → `::1`). */
function target(url: URL): { host: string; port: number; path: string } {
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(url.port || 80),
    path: `${url.pathname}${url.search}`,
  };
}

/** `httpGet` of an http: URL. */
export function httpGetUrl(url: string | URL, timeoutMs: number): Promise<Answer> {
  const t = target(new URL(url));
  return httpGet(t.host, t.port, t.path, timeoutMs);
}

/** Bodies of the polled JSON reads (/api/tags of a large library is well under this). */
const FETCH_MAX_BODY = 16 * 1024 * 1024;
/** Only a caller without a signal relies on this; the ollama client's calls all carry a deadline. */
const FETCH_TIMEOUT_MS = 60_000;
const NULL_BODY = new Set([101, 204, 205, 304]);

function headerRecord(h: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(h).forEach((v, k) => (out[k] = v));
  return out;
}

/**
 * `fetch` for plain-HTTP GETs on the kept connections above; anything else (POST, a stream, https, a
 * Request object) goes to the global fetch. Undici's fetch costs several times more CPU per call, and
 * it keeps a connection only 4 s: with /api/ps read every few seconds, that was most of the core's
 * steady CPU. Errors follow fetch: the signal's reason when aborted, else `TypeError('fetch failed')`
 * with a cause.
 */
export const keptFetch: typeof fetch = async (input, init) => {
  const method = (init?.method ?? 'GET').toUpperCase();
  if (method !== 'GET' || input instanceof Request || init?.body != null) return fetch(input, init);
  const url = input instanceof URL ? input : new URL(input);
  if (url.protocol !== 'http:' || url.username || url.password) return fetch(input, init);
  const signal = init?.signal ?? null;
  signal?.throwIfAborted();
  const { host, port, path } = target(url);
  const a = await get(host, port, path, {
    timeoutMs: FETCH_TIMEOUT_MS,
    signal,
    headers: headerRecord(init?.headers),
    maxBody: FETCH_MAX_BODY,
  });
  if ('error' in a) {
    signal?.throwIfAborted();
    throw new TypeError('fetch failed', { cause: new Error(a.error) });
  }
  if (a.cut)
    throw new TypeError('fetch failed', {
      cause: new Error(`the answer is larger than ${FETCH_MAX_BODY} bytes`),
    });
  const headers = new Headers();
  for (const [k, v] of Object.entries(a.headers)) {
    if (typeof v === 'string') headers.set(k, v);
    else if (Array.isArray(v)) for (const x of v) headers.append(k, x);
  }
  if (a.status < 200 || a.status > 599)
    throw new TypeError('fetch failed', { cause: new Error(`status ${a.status}`) });
  return new Response(NULL_BODY.has(a.status) ? null : a.body, { status: a.status, headers });
};
