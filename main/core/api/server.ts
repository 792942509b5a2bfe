// The control API on the control port: routing, auth, limits and errors. What each endpoint does
// lives in routes/*.ts; this file only makes every request safe and every answer well-formed.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import { isIP } from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { HttpError } from './errors.js';
import { CoreError } from '../errors.js';
import { RateLimiter } from './rate-limit.js';
import { Router, type Reply, type RequestContext, type Route } from './router.js';
import { serveStatic } from './static.js';
import type { Logger } from '../util/logger.js';

const MAX_BODY_BYTES = 64 * 1024;

/**
 * Open connections to the control port. Beyond these a new connection is closed at once, before a
 * byte is read: issue #20 opened 21,200 half-open connections from two clients in 4.7 s until the
 * process had no file descriptor left. A browser keeps ≤ 6 per host, the phone one or two; 50
 * parallel requests from one client (api-fuzz's burst) briefly hold more than 64, as sockets close
 * while new ones open.
 */
const CONNECTION_LIMITS = { perSource: 256, total: 1024 };

export interface ApiServerOptions {
  routes: Route[];
  /** Current bearer token (read per request, so a rotation takes effect at once). */
  token: () => string;
  /** Extra Host names accepted, besides IP literals, localhost, *.local and this host's name. */
  allowedHosts?: () => readonly string[];
  rendererDir?: string | null;
  logger: Logger;
  rateLimiter?: RateLimiter;
  now?: () => number;
  connectionLimits?: { perSource: number; total: number };
}

export class ApiServer {
  readonly #server: http.Server;
  readonly #router = new Router();
  readonly #limiter: RateLimiter;
  readonly #sockets = new Set<import('node:net').Socket>();
  readonly #perSource = new Map<string, number>();
  #lastAcceptWarn = 0;
  /** Requests refused before reaching a handler, by reason (for the soak and fuzz figures). */
  readonly rejected: Record<string, number> = {};

  constructor(private readonly opts: ApiServerOptions) {
    this.#router.add(...opts.routes);
    this.#limiter = opts.rateLimiter ?? new RateLimiter(undefined, opts.now);
    // Slow clients (slowloris) are cut off: headers within 10 s, the whole request within 30 s.
    this.#server = http.createServer(
      { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 },
      (req, res) => {
        void this.#handle(req, res);
      },
    );
    this.#server.keepAliveTimeout = 5_000;
    const limits = opts.connectionLimits ?? CONNECTION_LIMITS;
    this.#server.on('connection', (s) => {
      const source = s.remoteAddress ?? 'unknown';
      const mine = this.#perSource.get(source) ?? 0;
      if (mine >= limits.perSource || this.#sockets.size >= limits.total) {
        this.#count(mine >= limits.perSource ? 'connections_per_source' : 'connections_total');
        s.destroy();
        return;
      }
      this.#sockets.add(s);
      this.#perSource.set(source, mine + 1);
      s.on('close', () => {
        this.#sockets.delete(s);
        const left = (this.#perSource.get(source) ?? 1) - 1;
        if (left > 0) this.#perSource.set(source, left);
        else this.#perSource.delete(source);
      });
    });
    // After listen() nothing else listens for `error`: an accept that fails for want of a file
    // descriptor (EMFILE; libuv has already shed the pending connection) must not end the process.
    this.#server.on('error', (err: NodeJS.ErrnoException) => {
      this.#count(`accept_${err.code ?? 'error'}`);
      const now = Date.now();
      if (!this.#server.listening || now - this.#lastAcceptWarn < 10_000) return; // a flood must not flood the log
      this.#lastAcceptWarn = now;
      opts.logger.warn('control API could not accept a connection (counted in rejected)', {
        code: err.code,
        rejected: this.rejected,
      });
    });
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      const status =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? '431 Request Header Fields Too Large'
            : '400 Bad Request';
      this.#count(status.slice(0, 3) === '408' ? 'slow_client' : 'client_error');
      if (!socket.writable) return void socket.destroy();
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      // end() only half-closes: a client that keeps sending would keep the socket forever.
      setTimeout(() => socket.destroy(), 500).unref();
    });
  }

  /** Listens; rejects with a clear message when the port is taken. */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        this.#server.off('listening', onListening);
        if (err.code === 'EADDRINUSE') {
          // The code travels with the message: the headless command turns it into its exit code.
          reject(
            Object.assign(
              new Error(
                `Control port ${port} on ${host} is already in use by another program. Choose another port in settings (api.port) or with --port.`,
              ),
              { code: err.code },
            ),
          );
        } else if (err.code === 'EADDRNOTAVAIL') {
          reject(
            Object.assign(
              new Error(
                `Cannot listen on ${host}:${port}: that address is not on this machine (api.bind).`,
              ),
              { code: err.code },
            ),
          );
        } else reject(err);
      };
      const onListening = () => {
        this.#server.off('error', onError);
        resolve(this.#server.address() as AddressInfo);
      };
      this.#server.once('error', onError);
      this.#server.once('listening', onListening);
      this.#server.listen(port, host);
    });
  }

  address(): AddressInfo | null {
    return (this.#server.address() as AddressInfo | null) ?? null;
  }

  /** Stops accepting, ends idle keep-alive sockets, and destroys what is left after `graceMs`. */
  async close(graceMs = 2_000): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    this.#server.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  }

  #count(reason: string): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const client = req.socket.remoteAddress ?? 'unknown';
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!this.#hostAllowed(req.headers.host)) {
        throw new HttpError(
          'forbidden',
          'Host header not allowed (DNS rebinding protection). Use the IP address or add the name to api.allowedHosts.',
        );
      }
      const method = req.method ?? 'GET';
      const match = this.#router.match(method, url.pathname);
      if (!match.route) {
        if (
          (method === 'GET' || method === 'HEAD') &&
          !url.pathname.startsWith('/api/') &&
          this.opts.rendererDir
        ) {
          if (await serveStatic(this.opts.rendererDir, url.pathname, res, method === 'HEAD'))
            return;
        }
        if (match.allowed.length) {
          res.setHeader('allow', match.allowed.join(', '));
          throw new HttpError('method_not_allowed', `${method} is not allowed on ${url.pathname}`);
        }
        throw new HttpError('not_found', `No such endpoint: ${method} ${url.pathname}`);
      }
      const { route, params } = match;
      if (!route.unlimited && !this.#limiter.take(client, route.rate ?? 'default')) {
        this.#count('rate_limited');
        res.setHeader('retry-after', '1');
        throw new HttpError('too_many_requests', 'Too many requests; slow down.');
      }
      if (route.auth) this.#checkAuth(req);
      // Any mutation, open ones too (wake, activity, pairing), and every token route: a browser page of
      // another origin must not drive them (issue #20: any web page could POST /api/wake as
      // text/plain, a "simple" request with no preflight). The phone and other hosts send no Origin.
      if (route.auth || method !== 'GET') this.#checkOrigin(req);
      const ctx: RequestContext = { req, res, url, params, client, body: () => readJson(req) };
      const reply = await route.handler(ctx);
      if (reply) send(res, reply);
    } catch (err) {
      const httpErr = err instanceof CoreError ? HttpError.of(err) : null;
      if (!httpErr) this.opts.logger.error('request failed', { url: req.url, err });
      else if (httpErr.status >= 400) this.#count(httpErr.code);
      const e = httpErr ?? new HttpError('internal', 'Internal error; see the server log.');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // An unread request body must not be parsed as the next request on this connection.
      const socket = req.socket as import('node:net').Socket | null;
      const unread = !req.complete;
      send(res, {
        status: e.status,
        body: e.toBody(),
        headers: unread ? { connection: 'close' } : {},
      });
      if (unread) res.once('finish', () => socket?.destroy());
    }
  }

  #checkAuth(req: IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m || !tokenEquals(m[1]!, this.opts.token())) {
      this.#count('unauthorized');
      throw new HttpError(
        'unauthorized',
        'This endpoint needs Authorization: Bearer <token>. The token is in the app (or DATA_DIR/token when headless).',
      );
    }
  }

  /** A browser `Origin` other than this server's own is refused; `null` (sandboxed frames, file: pages) too. */
  #checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    let host: string | null;
    try {
      host = origin === 'null' ? null : new URL(origin).host;
    } catch {
      throw new HttpError('forbidden', 'Malformed Origin header.');
    }
    if (host === null || host !== req.headers.host) {
      this.#count('cross_origin');
      throw new HttpError('forbidden', `Cross-origin request from ${origin} refused.`);
    }
  }

  #hostAllowed(hostHeader: string | undefined): boolean {
    if (!hostHeader) return true; // HTTP/1.0 clients and raw tools send none; rebinding needs a name.
    const name = hostHeader
      .replace(/:\d+$/, '')
      .replace(/^\[(.*)\]$/, '$1')
      .toLowerCase();
    if (isIP(name)) return true;
    if (name === 'localhost' || name.endsWith('.localhost') || name.endsWith('.local')) return true;
    const own = os.hostname().toLowerCase();
    if (name === own || name === own.split('.')[0]) return true;
    return (this.opts.allowedHosts?.() ?? []).some((h) => h.toLowerCase() === name);
  }
}

/** Constant-time comparison (hashing first makes the lengths equal). */
function tokenEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && expected.length > 0;
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { 'cache-control': 'no-store', ...reply.headers };
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  const data = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(data),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(data);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES)
    throw new HttpError('payload_too_large', `Body larger than ${MAX_BODY_BYTES} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError('payload_too_large', `Body larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type))
    throw new HttpError('bad_request', 'Content-Type must be application/json.');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new HttpError('bad_request', `Malformed JSON: ${(err as Error).message}`);
  }
}
