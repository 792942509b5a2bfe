// Server-Sent Events hub: `snapshot`, `log` and `notice` events to every connected dashboard.
// A client that stops reading is dropped once its backlog passes a cap, so one stalled tab
// cannot grow the server's memory.

import type { ServerResponse } from 'node:http';

const MAX_BACKLOG_BYTES = 1 << 20;
const KEEPALIVE_MS = 15_000;

export class EventHub {
  readonly #clients = new Set<ServerResponse>();
  #keepalive: NodeJS.Timeout | null = null;

  get size(): number {
    return this.#clients.size;
  }

  /** Takes over the response as an event stream; `first` is sent before anything else. */
  attach(res: ServerResponse, first?: { event: string; data: unknown }): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.#clients.add(res);
    const drop = () => this.#clients.delete(res);
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
