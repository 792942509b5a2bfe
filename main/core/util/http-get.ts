// One small HTTP GET on a kept connection, for what is polled every second or two on the local machine
// or the LAN (health checks of the supervised services, the /health of other UnaMentis hosts). Never
// rejects: an answer, or an error message a person can read.

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

/** One GET with a hard deadline (connect, answer and body); never rejects. */
export function httpGet(host: string, port: number, path: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    let req: http.ClientRequest | null = null;
    const done = (a: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    const timer = setTimeout(() => {
      done({ error: `no answer within ${timeoutMs} ms` });
      req?.destroy();
    }, timeoutMs);
    const attempt = (retried: boolean) => {
      const r = http.request({ host, port, path, method: 'GET', agent, headers: { accept: 'application/json, text/plain' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < MAX_BODY) body += c;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
        res.on('error', (err) => done({ error: err.message }));
      });
      req = r;
      r.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        if (r.reusedSocket && !retried && STALE_SOCKET.has(err.code ?? '')) return attempt(true);
        done({ error: err.code === 'ECONNREFUSED' ? `connection refused on port ${port}` : err.message });
      });
      r.end();
    };
    attempt(false);
  });
}
