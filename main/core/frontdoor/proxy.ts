// One request passed through to the program behind a public port, as it comes: node:http on both
// sides and `pipe`, so streams (OpenAI SSE, Ollama NDJSON, chunked audio) go chunk by
// chunk with backpressure both ways and no body is ever held whole. Status, headers and error
// bodies come back as the program sent them (hop-by-hop headers aside, RFC 9110 §7.6.1). A client
// that goes away destroys the upstream request, so Ollama sees its connection close and stops
// generating (ollama/ollama server/routes.go: generation runs on the request's context).

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { connectionTokens, HOP_BY_HOP, hostHeader } from './headers.js';

export interface Upstream {
  host: string;
  port: number;
}

/**
 * Every read from a program lands in this one buffer instead of a fresh 64 KB allocation per read
 * (net.Socket's `onread`). Passing a 5 MB WAV allocated each read twice, once for the read and
 * once for node:http's copy of the body chunk (Parser::on_body → Buffer::Copy); V8 counts that
 * memory as external and ran a full mark-compact every few MB for it, most of the core's CPU per
 * MB (bench/frontdoor.bench.ts; perf: ConcurrentMarking, Sweeper, page faults on fresh buffers).
 * Reading here halves that. It is safe because the parser is done with the bytes before the read
 * returns: the head is parsed into strings and each body chunk is copied, synchronously, in the
 * `data` handler node:http installs (socketOnData → parser.execute). The one view node:http keeps
 * is an upgrade's `bodyHead`, and no upgrade goes through this agent (index.ts joins WebSockets
 * with a plain connection).
 */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

class UpstreamAgent extends http.Agent {
  // http.Agent calls this for each new connection; the socket it returns is used as is.
  override createConnection(options: net.NetConnectOpts): net.Socket {
    const socket: net.Socket = net.createConnection({
      ...options,
      onread: {
        buffer: readBuffer,
        // As a plain socket would: `data`, to node:http's parser, which pauses the socket itself
        // when the answer's reader is behind (backpressure), and `end`/`close` come as usual.
        callback: (n: number, buf: Uint8Array) => {
          socket.emit('data', (buf as Buffer).subarray(0, n));
          return true;
        },
      },
    });
    return socket;
  }
}

/** One keep-alive agent per upstream program: connections are reused across requests. */
export function upstreamAgent(): http.Agent {
  return new UpstreamAgent({
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxSockets: 256,
    maxFreeSockets: 32,
    scheduling: 'lifo',
    noDelay: true,
  } as http.AgentOptions);
}

export interface ForwardHooks {
  /** The upstream refused the connection before anything was sent: the request is still whole (hold it again). */
  onRefused?(err: NodeJS.ErrnoException): void;
  /** Each chunk of the request body as it goes out (must not keep it). */
  onBody?(chunk: Buffer): void;
  /** The upstream answered (status known). */
  onResponse?(status: number): void;
  /** The exchange is over, however it ended (`ok` false: aborted or failed midway). */
  onDone?(ok: boolean): void;
}

function requestHeaders(req: IncomingMessage, upstream: Upstream): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const tokens = connectionTokens(req.headers.connection);
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || tokens?.has(lower) || lower === 'host') continue;
    const prev = out[name];
    const value = req.rawHeaders[i + 1]!;
    out[name] =
      prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  // Addressed as the loopback program it is; who asked goes in X-Forwarded-*.
  out.host = hostHeader(upstream.host, upstream.port);
  const client = req.socket.remoteAddress;
  if (client)
    out['x-forwarded-for'] = req.headers['x-forwarded-for']
      ? `${String(req.headers['x-forwarded-for'])}, ${client}`
      : client;
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  out['x-forwarded-proto'] = 'http';
  if (req.headers['transfer-encoding'] && !req.headers['content-length'])
    out['transfer-encoding'] = 'chunked';
  return out;
}

/** The program's headers as it sent them (names' case, order, repeats), flat: name, value, ... */
function responseHeaders(up: IncomingMessage): string[] {
  const tokens = connectionTokens(up.headers.connection);
  const out: string[] = [];
  for (let i = 0; i < up.rawHeaders.length; i += 2) {
    const name = up.rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || tokens?.has(lower)) continue;
    out.push(name, up.rawHeaders[i + 1]!);
  }
  return out;
}

/** No body follows the head (RFC 9112 §6.3: neither Content-Length above 0 nor Transfer-Encoding). */
function bodyless(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}

/**
 * Passes `req` to `upstream` and its answer back to `res`. The request body starts flowing only
 * once the connection is open, so a refused connection leaves the request whole for `onRefused`.
 */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: Upstream,
  agent: http.Agent,
  hooks: ForwardHooks = {},
): void {
  let done = false;
  const finish = (ok: boolean) => {
    if (done) return;
    done = true;
    hooks.onDone?.(ok);
  };
  // Sent once on a connection that died before answering: the copy goes this time.
  const again = resend.get(req);
  const headers = requestHeaders(req, upstream);
  if (again && (again.length > 0 || headers['transfer-encoding'])) {
    delete headers['transfer-encoding'];
    headers['content-length'] = again.length;
  }
  const up = http.request({
    host: upstream.host,
    port: upstream.port,
    method: req.method,
    path: req.url,
    headers,
    agent,
  });
  let bodyStarted = false;
  let answered = false;
  // A request with no body (most GETs) has nothing to stream or copy: the head alone goes.
  const empty = !again && bodyless(req);
  const copy: Buffer[] = [];
  let copied = 0;
  // `pipe` and listeners rather than stream.pipeline: pipeline makes an AbortController (and, at
  // its end, a DOMException) per call, which was a tenth of the door's CPU per small request
  // (bench/frontdoor.bench.ts, --cpu-prof). Errors and early closes are handled here instead.
  const startBody = () => {
    if (bodyStarted) return;
    bodyStarted = true;
    if (again) return void up.end(again);
    if (empty) return void up.end();
    if (hooks.onBody) req.on('data', hooks.onBody);
    // A copy up to RESEND_COPY_BYTES, for a kept-alive connection that dies before the answer.
    req.on('data', (c: Buffer) => {
      copied += c.length;
      if (copied <= RESEND_COPY_BYTES) copy.push(c);
    });
    // An upload that breaks off (the client went away, a malformed chunk) closes `res` too:
    // `clientLeft` below destroys the upstream request, so it never looks complete.
    req.pipe(up);
  };
  up.on('socket', (s) => {
    if (s.connecting) s.once('connect', startBody);
    else startBody();
  });
  up.on('response', (upRes) => {
    answered = true;
    hooks.onResponse?.(upRes.statusCode ?? 502);
    if (res.destroyed) return void upRes.destroy();
    // SSE and NDJSON: each chunk goes out as it arrives (the servers are created with noDelay).
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, responseHeaders(upRes));
    // The program's answer broke off midway (it died, or reset the connection): the client's
    // answer must break off too, not end as if it were whole.
    const broke = () => {
      if (upRes.complete && !upRes.errored) return;
      res.destroy();
      finish(false);
    };
    upRes.once('error', broke);
    upRes.once('close', broke);
    res.once('finish', () => finish(true));
    upRes.pipe(res);
  });
  up.on('error', (err: NodeJS.ErrnoException) => {
    if (done) return;
    if (res.headersSent) {
      res.destroy();
      return finish(false);
    }
    // The connection died before answering after the whole body went out, and a copy of it is
    // kept (or it had none): nothing was taken that cannot be sent again.
    const resendable =
      !answered &&
      (err.code === 'ECONNRESET' || err.code === 'EPIPE') &&
      (again !== undefined || empty || (req.readableEnded && copied <= RESEND_COPY_BYTES));
    if (
      (resendable ||
        (!bodyStarted &&
          // Also a connect that timed out or found no route (the relay to a paired host that vanished).
          (err.code === 'ECONNREFUSED' ||
            err.code === 'ECONNRESET' ||
            err.code === 'ETIMEDOUT' ||
            err.code === 'EHOSTUNREACH' ||
            err.code === 'ENETUNREACH'))) &&
      hooks.onRefused &&
      !res.destroyed
    ) {
      if (bodyStarted && !again) resend.set(req, Buffer.concat(copy));
      done = true;
      res.off('close', clientLeft); // it is held again, and sent again with a listener of its own
      return hooks.onRefused(err);
    }
    if (!res.destroyed) {
      sendError(
        res,
        502,
        'bad_gateway',
        `The service behind this port did not answer: ${err.message}`,
      );
    }
    finish(false);
  });
  // The client went away before the answer was complete: abort the upstream request with it.
  const clientLeft = () => {
    if (!res.writableFinished) {
      up.destroy();
      finish(false);
    }
  };
  res.on('close', clientLeft);
}

/** A body streamed upstream is copied up to this size, to be sent again (see `forward`). */
const RESEND_COPY_BYTES = 1 << 20;
const resend = new WeakMap<IncomingMessage, Buffer>();

/** An answer of the front door itself, in the contract's error shape. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}
