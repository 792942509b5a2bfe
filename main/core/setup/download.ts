// Downloads for setup: one file from a URL to a path, with progress, resumed with an HTTP Range
// request after a dropped connection (and after a crash or a quit: the bytes so far stay in
// `<dest>.part`), checked against a published checksum, with the free disk space checked before
// a byte is written, and cancellable with an AbortSignal. Nothing here knows what it downloads.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

interface Checksum {
  algorithm: 'sha256' | 'md5';
  hex: string;
}

interface DownloadProgress {
  received: number;
  /** null when the server does not say (no Content-Length). */
  total: number | null;
}

export interface DownloadRequest {
  url: string;
  dest: string;
  checksum?: Checksum | null;
  /** Known size in bytes (from a manifest); else Content-Length is used for the disk check. */
  expectedBytes?: number | null;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Attempts after a dropped or stalled connection (each resumes where the last stopped). Default 5. */
  retries?: number;
  /** No byte for this long counts as a dropped connection. Default 30 s. */
  stallMs?: number;
  /** Wait before each retry. Default 1 s. */
  retryDelayMs?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** How many times it continued from a partial file (0 = one go). */
  resumes: number;
  /** The file was already there, complete and with the right checksum: nothing was fetched. */
  cached: boolean;
}

/** Free bytes for the user on the file system of `dir` (its nearest existing parent). */
export async function freeBytes(dir: string): Promise<number> {
  let d = path.resolve(dir);
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  const s = await fs.promises.statfs(d);
  return s.bavail * s.bsize;
}

/** Room kept free besides the file itself: a full disk breaks the OS and every other program. */
export const DISK_MARGIN_BYTES = 512 * 1024 * 1024;

export class DownloadError extends Error {
  constructor(
    readonly code: 'checksum' | 'disk_space' | 'http' | 'network' | 'cancelled',
    message: string,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

async function hashFile(file: string, algorithm: Checksum['algorithm']): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Sidecar kept next to `.part`: the validator that makes a Range request safe (If-Range). */
interface PartMeta {
  url: string;
  validator: string | null;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new DownloadError('cancelled', 'cancelled'));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new DownloadError('cancelled', 'cancelled'));
    });
  });

export async function download(req: DownloadRequest): Promise<DownloadResult> {
  const part = `${req.dest}.part`;
  const metaFile = `${req.dest}.part.json`;
  const retries = req.retries ?? 5;
  const stallMs = req.stallMs ?? 30_000;
  fs.mkdirSync(path.dirname(req.dest), { recursive: true });

  if (
    fs.existsSync(req.dest) &&
    req.checksum &&
    (await hashFile(req.dest, req.checksum.algorithm)) === req.checksum.hex.toLowerCase()
  ) {
    const bytes = fs.statSync(req.dest).size;
    req.onProgress?.({ received: bytes, total: bytes });
    return { path: req.dest, bytes, resumes: 0, cached: true };
  }

  let meta = readMeta(metaFile);
  // A partial file of another URL (the table moved to a new version) is not continued.
  if (meta && meta.url !== req.url) {
    fs.rmSync(part, { force: true });
    meta = null;
  }
  let resumes = 0;
  let spaceChecked = false;
  let total: number | null = req.expectedBytes ?? null;
  // A size known from a manifest is checked before the first request; else Content-Length is.
  if (total !== null) {
    await checkSpace(req.dest, total - (fs.existsSync(part) ? fs.statSync(part).size : 0));
    spaceChecked = true;
  }

  for (let attempt = 0; ; attempt++) {
    if (req.signal?.aborted) throw new DownloadError('cancelled', 'cancelled');
    const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (have > 0) {
      headers.range = `bytes=${have}-`;
      if (meta?.validator) headers['if-range'] = meta.validator;
    }
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    req.signal?.addEventListener('abort', onAbort);
    let stall: NodeJS.Timeout | undefined;
    const armStall = () => {
      clearTimeout(stall);
      stall = setTimeout(
        () => ctl.abort(new Error(`no data for ${Math.round(stallMs / 1000)} s`)),
        stallMs,
      );
    };
    try {
      armStall();
      const res = await fetch(req.url, { headers, signal: ctl.signal, redirect: 'follow' });
      if (res.status === 416 && have > 0) {
        // The part is as long as (or longer than) the file: check it as it is, or start over.
        await res.body?.cancel();
        const m = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
        if (m && Number(m[1]) === have) break;
        fs.rmSync(part, { force: true });
        continue;
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new DownloadError(
          'http',
          `${req.url} answered HTTP ${res.status} ${res.statusText}`.trim(),
        );
      }
      let append = false;
      if (res.status === 206 && have > 0) {
        const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
        if (m && Number(m[1]) === have) {
          append = true;
          if (m[2] !== '*') total = Number(m[2]);
          resumes++;
        }
      }
      if (!append) {
        // 200: the server ignored the range (or the file changed under If-Range): start over.
        const len = Number(res.headers.get('content-length'));
        if (Number.isFinite(len) && len > 0) total = len;
      }
      const validator = res.headers.get('etag') ?? res.headers.get('last-modified');
      meta = {
        url: req.url,
        validator: validator && !validator.startsWith('W/') ? validator : null,
      };
      fs.writeFileSync(metaFile, JSON.stringify(meta));

      if (!spaceChecked && total !== null) {
        try {
          await checkSpace(req.dest, total - (append ? have : 0));
        } catch (err) {
          await res.body.cancel();
          throw err;
        }
        spaceChecked = true;
      }

      const out = fs.createWriteStream(part, { flags: append ? 'a' : 'w' });
      let received = append ? have : 0;
      req.onProgress?.({ received, total });
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          armStall();
          received += chunk.byteLength;
          if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', r));
          req.onProgress?.({ received, total });
        }
      } finally {
        await new Promise<void>((r) => out.end(r));
      }
      if (total !== null && received < total)
        throw new Error(`connection closed at ${received} of ${total} bytes`);
      break;
    } catch (err) {
      if (req.signal?.aborted) throw new DownloadError('cancelled', 'cancelled');
      if (err instanceof DownloadError) throw err;
      if (attempt >= retries) {
        const why =
          ctl.signal.aborted && ctl.signal.reason instanceof Error
            ? ctl.signal.reason.message
            : describe(err);
        throw new DownloadError(
          'network',
          `Downloading ${req.url} failed after ${attempt + 1} attempts: ${why}. It continues where it stopped when tried again.`,
        );
      }
      await sleep(req.retryDelayMs ?? 1000, req.signal);
    } finally {
      clearTimeout(stall);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  if (req.checksum) {
    const got = await hashFile(part, req.checksum.algorithm);
    if (got !== req.checksum.hex.toLowerCase()) {
      // A corrupt file is never kept (nor continued): the next try starts from zero.
      fs.rmSync(part, { force: true });
      fs.rmSync(metaFile, { force: true });
      throw new DownloadError(
        'checksum',
        `${path.basename(req.dest)} from ${req.url} has the wrong ${req.checksum.algorithm} checksum (expected ${req.checksum.hex}, got ${got}); it was deleted.`,
      );
    }
  }
  fs.renameSync(part, req.dest);
  fs.rmSync(metaFile, { force: true });
  return { path: req.dest, bytes: fs.statSync(req.dest).size, resumes, cached: false };
}

function readMeta(file: string): PartMeta | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as PartMeta;
  } catch {
    return null;
  }
}

async function checkSpace(dest: string, need: number): Promise<void> {
  const free = await freeBytes(path.dirname(dest));
  if (need + DISK_MARGIN_BYTES > free) {
    throw new DownloadError(
      'disk_space',
      `Not enough disk space in ${path.dirname(dest)}: ${fmtBytes(need)} to download (and ${fmtBytes(DISK_MARGIN_BYTES)} to spare), ${fmtBytes(free)} free.`,
    );
  }
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
