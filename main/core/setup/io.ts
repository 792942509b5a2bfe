// The one interface every setup download and install goes through: fetch a file (resumable,
// checksummed, disk checked), fetch a small manifest, run a program (no shell; its output is
// shown), pull an Ollama model, find a program on PATH. The steps use only this, so tests run
// them against a loopback server and fake programs, and nothing else can reach the network.

import { spawnOwned } from '../util/child/index.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { download, DownloadError, type DownloadRequest, type DownloadResult } from './download.js';
import { pullModel, type PullProgress } from '../services/ollama.js';
import { findExecutable } from '../services/command.js';

interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Each line the program prints (stdout and stderr). */
  onLine?: (line: string) => void;
}

export class RunError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly lastLines: string[],
  ) {
    super(message);
    this.name = 'RunError';
  }
}

export interface SetupIO {
  download(req: DownloadRequest): Promise<DownloadResult>;
  /** A small text (a checksum list, a manifest), at most 4 MB. */
  fetchText(url: string, signal?: AbortSignal): Promise<string>;
  /** Runs `program` with `args`, without a shell; rejects with RunError on a non-zero exit. */
  run(program: string, args: string[], opts?: RunOptions): Promise<void>;
  pull(
    baseUrl: string,
    model: string,
    onProgress: (p: PullProgress) => void,
    signal?: AbortSignal,
  ): Promise<void>;
  /** The first of `names` found (bare names on PATH, paths as they are), or null. */
  findProgram(names: readonly string[]): string | null;
}

export function createSetupIO(env: Record<string, string | undefined> = process.env): SetupIO {
  const host = { platform: process.platform, home: os.homedir(), env };
  const probe = {
    isExecutable: (p: string) => {
      try {
        fs.accessSync(p, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
        return fs.statSync(p).isFile();
      } catch {
        return false;
      }
    },
    exists: (p: string) => fs.existsSync(p),
    isDir: (p: string) => {
      try {
        return fs.statSync(p).isDirectory();
      } catch {
        return false;
      }
    },
    isFile: (p: string) => {
      try {
        return fs.statSync(p).isFile();
      } catch {
        return false;
      }
    },
  };
  return {
    download,
    async fetchText(url, signal) {
      const res = await fetch(url, { ...(signal ? { signal } : {}), redirect: 'follow' }).catch(
        (err: unknown) => {
          if (signal?.aborted) throw new DownloadError('cancelled', 'cancelled');
          throw new DownloadError(
            'network',
            `Could not reach ${url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`,
          );
        },
      );
      if (!res.ok) throw new DownloadError('http', `${url} answered HTTP ${res.status}`);
      const text = await res.text();
      if (text.length > 4 * 1024 * 1024)
        throw new DownloadError('http', `${url} is larger than a manifest should be`);
      return text;
    },
    run(program, args, opts = {}) {
      return new Promise((resolve, reject) => {
        if (opts.signal?.aborted) return reject(new DownloadError('cancelled', 'cancelled'));
        // No descriptor left (EMFILE) or a synchronous throw: a failed step, never a crash (issue #20).
        // Its own process group on POSIX (util/child): cancelling kills what it started too.
        const spawned = spawnOwned(program, args, {
          cwd: opts.cwd,
          env: { ...(env as Record<string, string>), ...opts.env },
        });
        if (!spawned.ok)
          return reject(
            new RunError(`Could not start ${program}: ${spawned.error.message}`, null, []),
          );
        const owned = spawned.child;
        const child = owned.process;
        const last: string[] = [];
        const onLine = (line: string) => {
          last.push(line);
          if (last.length > 20) last.shift();
          opts.onLine?.(line);
        };
        for (const stream of [child.stdout!, child.stderr!]) {
          let buf = '';
          stream.setEncoding('utf8');
          stream.on('data', (d: string) => {
            buf += d;
            // uv and installers redraw progress with \r: each redraw is a line here.
            const parts = buf.split(/\r?\n|\r/);
            buf = parts.pop() ?? '';
            for (const p of parts) if (p.trim()) onLine(p);
          });
          stream.on('end', () => buf.trim() && onLine(buf));
        }
        const onAbort = () => void owned.kill();
        opts.signal?.addEventListener('abort', onAbort);
        child.once('error', (err) => {
          opts.signal?.removeEventListener('abort', onAbort);
          reject(new RunError(`Could not start ${program}: ${err.message}`, null, last));
        });
        child.once('close', (code, sig) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (opts.signal?.aborted) return reject(new DownloadError('cancelled', 'cancelled'));
          if (code === 0) return resolve();
          reject(
            new RunError(
              // The program's own last words say why (uv: "Hash mismatch", "No solution found").
              `${path.basename(program)} ${args[0] ?? ''} exited with ${code ?? sig}${reasonOf(last)}`,
              code,
              last,
            ),
          );
        });
      });
    },
    pull: (baseUrl, model, onProgress, signal) =>
      pullModel(baseUrl, model, onProgress, signal ? { signal } : {}),
    findProgram(names) {
      for (const n of names) {
        const found = findExecutable(n, host, probe);
        if (found) return found;
      }
      return null;
    },
  };
}

/** The lines that say why a program failed ("error: …", "Caused by: …", uv's "×"), else its last ones. */
function reasonOf(lines: readonly string[]): string {
  const why = lines.filter((l) => /error|caused by|×|╰|failed|not found|denied/i.test(l));
  const pick = (why.length ? why.slice(-2) : lines.slice(-3)).map((l) => l.trim()).filter(Boolean);
  return pick.length ? `: ${pick.join(' ')}` : '';
}
