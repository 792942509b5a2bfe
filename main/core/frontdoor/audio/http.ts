// What the audio handlers share: one upstream request that the client's departure aborts, JSON
// errors in the contract's form, the upstream's error text made readable, and a WAV answer sent
// through the normaliser.

import http from 'node:http';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { connectionTokens, HOP_BY_HOP, hostHeader } from '../headers.js';
import { WavFormatError, WavNormalizer, formatOf, WAV_HEADER_BYTES } from './wav.js';

/** Where the program behind a public port listens (loopback, internal port). */
export interface Upstream {
  host: string;
  port: number;
  /** The front door's keep-alive agent, if it has one; else Node's global agent. */
  agent?: http.Agent;
  /**
   * The front door's hook for a connection that failed before any byte of the answer was sent (the
   * program was stopped, or is restarting, after the door decided to forward): the door holds the
   * request again and calls `again` with the address once the service is ready, or answers it
   * itself. Without it the handler answers 502 `upstream_unreachable`.
   */
  unreachable?: (err: UpstreamUnreachable, again: (up: Upstream) => void) => void;
}

/**
 * The upstream refused or reset the connection before it took anything that cannot be sent again:
 * a streamed body had not started flowing (it is still whole in the client's request), or the
 * body was a buffer kept here. Asking again later is safe.
 */
export class UpstreamUnreachable extends Error {
  readonly code: string | undefined;
  constructor(
    override readonly cause: NodeJS.ErrnoException,
    /** The streamed body as it went out, whole, when the connection died after taking it. */
    readonly sent: Buffer | null = null,
  ) {
    super(cause.message);
    this.name = 'UpstreamUnreachable';
    this.code = cause.code;
  }
}

/** Connection failures that mean "nobody took the request" when they come before the body went. */
const NOT_TAKEN = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

/**
 * Answers an error, unless it is an upstream that refused the connection before anything was sent
 * and the front door can hold the request again (`up.unreachable`): then `again` runs when it is ready.
 */
export function failOrHold(
  res: http.ServerResponse,
  err: unknown,
  up: Upstream,
  again: (up: Upstream) => void,
): void {
  if (err instanceof UpstreamUnreachable && up.unreachable && !res.headersSent && !res.destroyed)
    return up.unreachable(err, again);
  sendFailure(res, err);
}

/** An error answered as JSON `{"error":{"code","message"}}` with `status`. */
export class AudioError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AudioError';
  }
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(
  res: http.ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  sendJson(res, status, { error: { code, message } });
}

/** Answers any error the way the contract does; a WAV problem is the upstream's fault (502). */
export function sendFailure(res: http.ServerResponse, err: unknown): void {
  if (err instanceof AudioError) return sendError(res, err.status, err.code, err.message);
  if (err instanceof WavFormatError)
    return sendError(
      res,
      502,
      `upstream_${err.code}`,
      `the TTS program's audio cannot be played: ${err.message}`,
    );
  const e = (err instanceof UpstreamUnreachable ? err.cause : err) as NodeJS.ErrnoException;
  if (e?.name === 'AbortError') return void res.destroy();
  sendError(
    res,
    502,
    'upstream_unreachable',
    `the program behind this port did not answer: ${e?.code ?? ''} ${e?.message ?? String(err)}`
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

/**
 * An AbortSignal that fires when the client goes away before its answer is complete, so the
 * upstream request (and the synthesis behind it) stops too.
 */
export function clientGone(res: http.ServerResponse): AbortSignal {
  // One per response: a request held again and sent again asks for it each time.
  const known = gone.get(res);
  if (known) return known;
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  gone.set(res, ac.signal);
  return ac.signal;
}
const gone = new WeakMap<http.ServerResponse, AbortSignal>();

/** Reads a small request body (the app's JSON), refusing more than `limit` bytes. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new AudioError(413, 'request_too_large', `the request body is over ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('aborted', () =>
      reject(Object.assign(new Error('the client went away'), { name: 'AbortError' })),
    );
  });
}

export interface UpstreamRequest {
  method: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | Readable;
  signal: AbortSignal;
  /** No answer (status line) within this long → 504. */
  timeoutMs: number;
  /**
   * A streamed body up to this many bytes is copied as it goes, so a connection that dies before
   * the answer (a kept-alive socket to a program that was just stopped) can be sent again.
   */
  copyUpTo?: number;
}

/** Sends one request upstream; resolves with the answer's head (its body still to be read). */
export function upstreamRequest(up: Upstream, r: UpstreamRequest): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (r.signal.aborted)
      return reject(Object.assign(new Error('the client went away'), { name: 'AbortError' }));
    const req = http.request({
      host: up.host,
      port: up.port,
      method: r.method,
      path: r.path,
      headers: r.headers,
      agent: up.agent,
      signal: r.signal,
    });
    const timer = setTimeout(() => {
      req.destroy(
        new AudioError(
          504,
          'upstream_timeout',
          `the program behind this port did not answer ${r.method} ${r.path} within ${+(r.timeoutMs / 1000).toFixed(1)} s`,
        ),
      );
    }, r.timeoutMs);
    req.once('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    // A streamed body (the client's request) starts flowing only once the connection is open, so
    // a refused connect leaves it whole for the front door to hold and send again.
    const body = r.body;
    let streamed = false;
    const copy: Buffer[] = [];
    let copied = 0;
    req.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const notTaken = err.code !== undefined && NOT_TAKEN.has(err.code);
      // Streamed already: only a whole copy can go again.
      const whole =
        streamed && body !== undefined && !Buffer.isBuffer(body) && body.readableEnded
          ? copied <= (r.copyUpTo ?? -1)
          : false;
      reject(
        notTaken && !streamed
          ? new UpstreamUnreachable(err)
          : notTaken && whole
            ? new UpstreamUnreachable(err, Buffer.concat(copy))
            : err,
      );
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      const start = () => {
        if (streamed || req.destroyed) return;
        streamed = true;
        if (r.copyUpTo !== undefined) {
          const limit = r.copyUpTo;
          body.on('data', (c: Buffer) => {
            copied += c.length;
            if (copied <= limit) copy.push(c);
          });
        }
        pipeline(body, req, () => {}); // errors surface on req
      };
      req.once('socket', (s) => {
        if (s.connecting) s.once('connect', start);
        else start();
      });
    }
  });
}

/** Reads an upstream answer's body as text, cut at `limit` bytes. */
export function readText(res: http.IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (size < limit) chunks.push(c.subarray(0, limit - size));
      size += c.length;
    });
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
  });
}

/**
 * Pure: the message in an upstream error body: FastAPI's `{"detail"}`, `{"error"}` (string or
 * `{message}`), Flask/werkzeug's HTML page (its title and first paragraph), or the text itself.
 */
export function upstreamMessage(status: number, body: string): string {
  const text = body.trim();
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const pick = (v: unknown): string | null => {
      if (typeof v === 'string' && v) return v;
      if (Array.isArray(v)) return v.map((x) => pick(x) ?? JSON.stringify(x)).join('; ');
      if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        return pick(o.message) ?? pick(o.msg) ?? JSON.stringify(v);
      }
      return null;
    };
    const m = pick(j.detail) ?? pick(j.error) ?? pick(j.message);
    if (m) return m;
  } catch {
    // not JSON
  }
  if (/<html|<!doctype|<title>/i.test(text)) {
    const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
    const p = /<p>([\s\S]*?)<\/p>/i
      .exec(text)?.[1]
      ?.replace(/<[^>]+>/g, '')
      .trim();
    return [title, p].filter(Boolean).join(': ') || `HTTP ${status}`;
  }
  const flat = text.replace(/\s+/g, ' ');
  return flat ? flat.slice(0, 300) : `HTTP ${status}`;
}

/** Drops the first 44 bytes: the canonical WAV's header, for `response_format: "pcm"`. */
class DropHeader extends Transform {
  #left = WAV_HEADER_BYTES;
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    if (this.#left > 0) {
      const n = Math.min(this.#left, chunk.length);
      this.#left -= n;
      chunk = chunk.subarray(n);
    }
    cb(null, chunk.length > 0 ? chunk : undefined);
  }
}

/**
 * Sends a 200 upstream WAV answer to the client through the normaliser: 502 (JSON) when it is not a
 * PCM16 WAV, the canonical WAV (or its bare PCM) otherwise. A failure after the header is sent cuts
 * the response, so the client never takes a short body for the whole audio.
 */
export async function sendWav(
  res: http.ServerResponse,
  upstreamRes: http.IncomingMessage,
  opts: { pcm?: boolean; headers?: http.OutgoingHttpHeaders; maxBufferBytes?: number } = {},
): Promise<void> {
  const cl = Number(upstreamRes.headers['content-length']);
  const norm = new WavNormalizer({
    contentLength: Number.isFinite(cl) && cl >= 0 ? cl : null,
    maxBufferBytes: opts.maxBufferBytes,
  });
  const done = new Promise<void>((resolve) => {
    pipeline(upstreamRes, norm, () => resolve());
  });
  let format;
  try {
    format = await formatOf(norm);
  } catch (err) {
    upstreamRes.destroy();
    sendFailure(res, err);
    await done;
    return;
  }
  const bytes = (format.dataBytes ?? 0) + (opts.pcm ? 0 : WAV_HEADER_BYTES);
  res.writeHead(200, {
    ...opts.headers,
    'content-type': opts.pcm ? 'audio/pcm' : 'audio/wav',
    'content-length': bytes,
    'x-audio-sample-rate': String(format.sampleRate),
  });
  await new Promise<void>((resolve) => {
    const end = (err: Error | null) => {
      if (err) res.destroy();
      resolve();
    };
    if (opts.pcm) pipeline(norm, new DropHeader(), res, end);
    else pipeline(norm, res, end);
  });
  await done;
}

/** `METHOD /path` of a request, its query aside: what the adapters route on. */
export function routeOf(req: http.IncomingMessage): string {
  return `${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`;
}

/** Pure: a request's or answer's headers without the hop-by-hop ones (and those `Connection` names). */
export function endToEnd(
  headers: http.IncomingHttpHeaders,
  drop: string[] = [],
): http.OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection);
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named?.has(k) || drop.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

/** Forwards the client's request to `path` upstream, its body streamed through untouched. */
export function forward(
  req: http.IncomingMessage,
  up: Upstream,
  path: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<http.IncomingMessage> {
  const headers = endToEnd(req.headers);
  headers.host = hostHeader(up.host, up.port);
  const hasBody =
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  // Sent once to a connection that died before answering: the copy goes this time.
  const again = resend.get(req);
  if (again) {
    delete headers['transfer-encoding'];
    headers['content-length'] = again.length;
  }
  return upstreamRequest(up, {
    method: req.method ?? 'GET',
    path,
    headers,
    body: again ?? (hasBody ? req : undefined),
    signal,
    timeoutMs,
    copyUpTo: RESEND_COPY_BYTES,
  }).catch((err: unknown) => {
    if (err instanceof UpstreamUnreachable && err.sent) resend.set(req, err.sent);
    throw err;
  });
}

/**
 * A client's body is copied up to this size while it streams upstream (the app's TTS JSON is a
 * few hundred bytes; a longer recording for Whisper is not copied and a dead connection is a 502).
 */
const RESEND_COPY_BYTES = 1 << 20;
/** Bodies to send again in place of the consumed request (see `forward`). */
const resend = new WeakMap<http.IncomingMessage, Buffer>();

/** Sends an upstream answer to the client as it came: status, end-to-end headers, body streamed. */
export function passThrough(res: http.ServerResponse, answer: http.IncomingMessage): Promise<void> {
  res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
  return new Promise((resolve) => {
    pipeline(answer, res, (err) => {
      if (err) res.destroy();
      resolve();
    });
  });
}
