// A service's output: split into lines, kept in a bounded ring (the dashboard's live view) and
// appended to a size-capped file that rotates (<id>.log, <id>.log.1, … <id>.log.N).

import fs from 'node:fs';
import path from 'node:path';
import type { LogLine } from '../contract.js';
import { ensurePrivateDir } from '../util/private-fs.js';

export const MAX_LINE_CHARS = 4000;

/** Splits a byte stream into lines; a partial line waits for its end (or for `flush`). */
export class LineSplitter {
  #rest = '';
  constructor(private readonly onLine: (text: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.#rest + chunk.toString();
    const parts = text.split('\n');
    this.#rest = parts.pop() ?? '';
    // A process printing without newlines must not grow memory without bound.
    if (this.#rest.length > MAX_LINE_CHARS) {
      parts.push(this.#rest);
      this.#rest = '';
    }
    for (const p of parts) this.onLine(p.replace(/\r$/, ''));
  }

  flush(): void {
    if (this.#rest) this.onLine(this.#rest);
    this.#rest = '';
  }
}

export class LogRing {
  readonly #lines: LogLine[] = [];
  constructor(readonly capacity: number) {}

  push(line: LogLine): void {
    this.#lines.push(line);
    if (this.#lines.length > this.capacity)
      this.#lines.splice(0, this.#lines.length - this.capacity);
  }

  /** The last `n` lines, oldest first. */
  last(n: number): LogLine[] {
    const k = Math.max(0, Math.min(this.#lines.length, Math.floor(n)));
    return k === 0 ? [] : this.#lines.slice(-k);
  }

  get size(): number {
    return this.#lines.length;
  }
}

export interface RotatingFileOptions {
  /** Rotate once the file passes this many bytes. */
  maxBytes: number;
  /** Rotated files kept besides the current one. */
  keep: number;
  /** Buffered lines are written at most this long after they arrive. */
  flushMs?: number;
  /** After a failed write, lines are dropped (and counted) for this long, then writing is tried again. */
  retryMs?: number;
}

const RETRY_MS = 30_000;

/** Appends lines in small batches; never throws (a full disk must not take a service down). */
export class RotatingFile {
  #buffer: string[] = [];
  #size: number;
  #timer: NodeJS.Timeout | null = null;
  /** When a write last failed (full disk, …): lines are dropped, and writing is tried again later. */
  #failedAt: number | null = null;
  #lost = 0;

  constructor(
    readonly file: string,
    private readonly opts: RotatingFileOptions,
  ) {
    try {
      ensurePrivateDir(path.dirname(file));
      this.#size = fs.statSync(file).size;
    } catch {
      this.#size = 0;
    }
  }

  append(text: string): void {
    // Issue #20: one failed write (a full disk) used to turn the file log off for the rest of the run.
    if (this.#failedAt !== null && Date.now() - this.#failedAt < (this.opts.retryMs ?? RETRY_MS)) {
      this.#lost++;
      return;
    }
    this.#buffer.push(text);
    if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), this.opts.flushMs ?? 200);
      this.#timer.unref();
    }
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#buffer.length === 0) return;
    const lines = this.#buffer;
    if (this.#lost > 0)
      lines.unshift(
        `… ${this.#lost} lines not written to this file (the last write failed; they were in the live log)`,
      );
    const data = lines.join('\n') + '\n';
    this.#buffer = [];
    try {
      if (this.#size > 0 && this.#size + Buffer.byteLength(data) > this.opts.maxBytes)
        this.#rotate();
      fs.appendFileSync(this.file, data, { mode: 0o600 });
      this.#size += Buffer.byteLength(data);
      this.#failedAt = null;
      this.#lost = 0;
    } catch {
      // Logged nowhere else on purpose: the ring still has the lines. Tried again after RETRY_MS.
      // A write cut short by a full disk leaves half a line: cut the file back to what it was.
      try {
        fs.truncateSync(this.file, this.#size);
      } catch {
        /* nothing written, or not even that */
      }
      this.#failedAt = Date.now();
      this.#lost += lines.length - (this.#lost > 0 ? 1 : 0);
    }
  }

  #rotate(): void {
    for (let i = this.opts.keep; i >= 1; i--) {
      const from = i === 1 ? this.file : `${this.file}.${i - 1}`;
      const to = `${this.file}.${i}`;
      try {
        if (i === this.opts.keep) fs.rmSync(to, { force: true });
        fs.renameSync(from, to);
      } catch {
        /* a gap in the chain is fine */
      }
    }
    if (this.opts.keep === 0) fs.rmSync(this.file, { force: true });
    this.#size = 0;
  }
}

export function formatFileLine(line: LogLine): string {
  return `${line.t} ${line.stream.padEnd(6)} ${line.text}`;
}

/**
 * Caps the lines per second a service may push to live viewers (SSE). A child flooding its log
 * (1 MB/s is ~10k lines/s) would otherwise cost every dashboard, and the core, far more than the
 * lines are worth; the file and the ring still get every line. Pure: time comes in.
 */
export class LiveLogThrottle {
  readonly #buckets = new Map<string, { tokens: number; at: number; dropped: number }>();

  constructor(
    private readonly perSecond = 200,
    private readonly burst = 400,
  ) {}

  /**
   * `pass`: send the line. `dropped`: lines held back since the last pass (report them first).
   */
  take(service: string, now: number): { pass: boolean; dropped: number } {
    const b = this.#buckets.get(service) ?? { tokens: this.burst, at: now, dropped: 0 };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.#buckets.set(service, b);
    if (b.tokens < 1) {
      b.dropped++;
      return { pass: false, dropped: 0 };
    }
    b.tokens -= 1;
    const dropped = b.dropped;
    b.dropped = 0;
    return { pass: true, dropped };
  }
}
