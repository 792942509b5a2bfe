// Server-Sent Events hub: `snapshot`, `log` and `notice` events to every connected dashboard.
// A client that stops reading is dropped once its backlog passes a cap, so one stalled tab
// cannot grow the server's memory.

import type { ServerResponse } from 'node:http';
import { HttpError } from './errors.js';

const MAX_BACKLOG_BYTES = 1 << 20;
/** Event streams open at once (issue #20: 4,000 were accepted, 318 MB). A dashboard keeps one per tab. */
const STREAM_LIMITS = { perSource: 8, total: 64 };
const KEEPALIVE_MS = 15_000;

export class EventHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #perSource = new Map<string, number>();
  #keepalive: NodeJS.Timeout | null = null;

  constructor(private readonly limits = STREAM_LIMITS) {}

  get size(): number {
    return this.#clients.size;
  }

  /** Takes over the response as an event stream; `first` is sent before anything else. */
  attach(res: ServerResponse, first?: { event: string; data: unknown }): void {
    const source = res.req?.socket.remoteAddress ?? 'unknown';
    const mine = this.#perSource.get(source) ?? 0;
    if (mine >= this.limits.perSource || this.#clients.size >= this.limits.total) {
      throw new HttpError(
        'too_many_requests',
        mine >= this.limits.perSource
          ? `Too many event streams from this address (${this.limits.perSource}); close another dashboard tab.`
          : `Too many event streams (${this.limits.total}); try again later.`,
      );
    }
    this.#perSource.set(source, mine + 1);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.#clients.add(res);
    let counted = true;
    const drop = () => {
      this.#clients.delete(res);
      if (!counted) return;
      counted = false;
      const left = (this.#perSource.get(source) ?? 1) - 1;
      if (left > 0) this.#perSource.set(source, left);
      else this.#perSource.delete(source);
    };
    res.on('close', drop);
    res.on('error', drop);
    if (first) this.#send(res, first.event, JSON.stringify(first.data));
    if (!this.#keepalive) {
      this.#keepalive = setInterval(() => this.#comment('keepalive'), KEEPALIVE_MS);
      this.#keepalive.unref();
    }
  }

  broadcast(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const payload = JSON.stringify(data);
    for (const res of this.#clients) this.#send(res, event, payload);
  }

  closeAll(): void {
    if (this.#keepalive) clearInterval(this.#keepalive);
    this.#keepalive = null;
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #comment(text: string): void {
    for (const res of this.#clients) res.write(`: ${text}\n\n`);
  }

  #send(res: ServerResponse, event: string, payload: string): void {
    if (res.writableLength > MAX_BACKLOG_BYTES) {
      this.#clients.delete(res);
      res.destroy();
      return;
    }
    res.write(`event: ${event}\ndata: ${payload}\n\n`);
  }
}
