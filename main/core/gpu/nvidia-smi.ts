// Finding and running nvidia-smi: asynchronously, without a shell, with a timeout that kills it.
// (systeminformation runs it with execFileSync, which would freeze the whole app on a hung driver.)

import fsp from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import {
  describeFailure,
  firstLine,
  fmtSeconds,
  runTool,
  spawnOwned,
  startFailure,
  type OwnedChild,
  type ToolOptions,
  type ToolResult,
} from '../util/child/index.js';

export interface LocateOptions {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  fs?: Pick<typeof fsp, 'access' | 'readdir' | 'stat'>;
}

/**
 * Where systeminformation looks, so both agree: on Windows `%WINDIR%\System32\nvidia-smi.exe`, else
 * the newest `System32\DriverStore\FileRepository\*\nvidia-smi.exe` (DCH drivers put it there);
 * elsewhere the first `nvidia-smi` on PATH. Null when there is none.
 */
export async function locateNvidiaSmi(opts: LocateOptions): Promise<string | null> {
  const fs = opts.fs ?? fsp;
  if (opts.platform === 'win32') {
    const win = path.win32;
    const windir = opts.env.WINDIR || opts.env.windir || opts.env.SystemRoot || 'C:\\Windows';
    const system = win.join(windir, 'System32', 'nvidia-smi.exe');
    if (await exists(fs, system)) return system;
    const repo = win.join(windir, 'System32', 'DriverStore', 'FileRepository');
    let dirs: string[];
    try {
      dirs = (await fs.readdir(repo, { withFileTypes: true }))
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      return null;
    }
    let best: { file: string; ctime: number } | null = null;
    for (const d of dirs) {
      const file = win.join(repo, d, 'nvidia-smi.exe');
      try {
        const st = await fs.stat(file);
        if (!best || st.ctimeMs > best.ctime) best = { file, ctime: st.ctimeMs };
      } catch {
        // not in this driver package
      }
    }
    return best?.file ?? null;
  }
  const dirs = (opts.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const d of dirs) {
    const file = path.join(d, 'nvidia-smi');
    try {
      await fs.access(file, fsConstants.X_OK);
      return file;
    } catch {
      // keep looking
    }
  }
  return null;
}

async function exists(fs: Pick<typeof fsp, 'access'>, file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

export type RunResult = { ok: true; stdout: string } | { ok: false; why: string };

export interface ToolRunnerOptions {
  /** Shown in messages, e.g. "nvidia-smi". */
  label: string;
  timeoutMs: number;
  maxOutputBytes?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs one executable with explicit argv (util/child `runTool`: a deadline that kills its tree, an
 * output cap). At most one child at a time: while a child that timed out has not exited yet (a
 * driver hang can make even SIGKILL wait), new runs fail at once instead of piling up stuck processes.
 */
export class ToolRunner {
  #stuck: ToolResult | null = null;

  constructor(
    readonly file: string,
    private readonly opts: ToolRunnerOptions,
  ) {}

  async run(args: readonly string[]): Promise<RunResult> {
    const { label, timeoutMs } = this.opts;
    if (this.#stuck?.running()) {
      return {
        ok: false,
        why: `${label} from an earlier sample is still hung (pid ${this.#stuck.pid})`,
      };
    }
    this.#stuck = null;
    const o: ToolOptions = {
      timeoutMs,
      maxOutputBytes: this.opts.maxOutputBytes ?? 256 * 1024,
      env: this.opts.env ?? process.env,
    };
    const r = await runTool(this.file, args, o);
    // Killed and answered at once; if the kill does not take (a wedged driver), remember the child.
    if (r.timedOut) this.#stuck = r;
    return r.ok
      ? { ok: true, stdout: r.stdout }
      : { ok: false, why: describeFailure(label, this.file, r, o) };
  }
}

/** Reads the `--query-gpu` answer for one sample. */
export interface GpuQuery {
  read(intervalMs: number): Promise<RunResult>;
  stop(): void;
}

/** One nvidia-smi per sample. */
export class OneShotQuery implements GpuQuery {
  constructor(
    private readonly runner: { run(args: readonly string[]): Promise<RunResult> },
    private readonly args: readonly string[],
  ) {}
  read(): Promise<RunResult> {
    return this.runner.run(this.args);
  }
  stop(): void {}
}

interface LoopState {
  /** Null when it could not be spawned at all (then `exited` and `spawnError` are set). */
  child: OwnedChild | null;
  intervalMs: number;
  startedAt: number;
  /** Latest line per GPU index, with when it came. */
  latest: Map<number, { line: string; at: number }>;
  lastValidAt: number | null;
  /** The first unreadable output, for the message when nothing valid ever came. */
  garbage: string | null;
  partial: string;
  exited: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Set when it could not even start (not found, not executable). */
  spawnError: string | null;
  output: string;
  firstData: Promise<void>;
}

/**
 * One long-lived `nvidia-smi --query-gpu=… -lms <interval>`: NVML starts once instead of every
 * sample (a one-shot nvidia-smi costs 20–600 ms of CPU, mostly driver initialisation). Each read
 * returns the latest line per GPU. No first answer within `timeoutMs`, or no update for
 * interval + `timeoutMs`, kills it and reads as unavailable; the next read starts a new one.
 * If this nvidia-smi ends by itself after answering (no loop support), reads fall back to one-shot.
 */
export class LoopQuery implements GpuQuery {
  #s: LoopState | null = null;
  #stuck: OwnedChild | null = null;
  #oneShot = false;
  readonly #runner: ToolRunner;

  constructor(
    readonly file: string,
    private readonly args: readonly string[],
    private readonly opts: ToolRunnerOptions & {
      /** Wall clock (real time: it measures a real process). */ now?: () => number;
    },
  ) {
    this.#runner = new ToolRunner(file, opts);
  }

  /** True once this nvidia-smi turned out not to loop. */
  get oneShot(): boolean {
    return this.#oneShot;
  }

  async read(intervalMs: number): Promise<RunResult> {
    if (this.#oneShot) return this.#runner.run(this.args);
    const { label, timeoutMs } = this.opts;
    const now = this.opts.now ?? Date.now;
    if (this.#stuck && !this.#stuck.exited) {
      return {
        ok: false,
        why: `${label} from an earlier sample is still hung (pid ${this.#stuck.pid})`,
      };
    }
    this.#stuck = null;
    let s = this.#s;
    // A stream that ended since the last read is reported first (the next read starts a new one).
    if (!s?.exited && (!s || s.intervalMs !== intervalMs)) {
      this.stop();
      s = this.#start(intervalMs);
    }
    if (s.lastValidAt === null && !s.exited) {
      const waited = Math.max(0, timeoutMs - (now() - s.startedAt));
      await Promise.race([s.firstData, new Promise<void>((r) => setTimeout(r, waited).unref?.())]);
    }
    if (s.exited) {
      this.#s = null;
      if (s.spawnError) return { ok: false, why: `${label} ${s.spawnError}` };
      if (s.exited.code === 0 && s.lastValidAt !== null) {
        // It answered and quit: this nvidia-smi does not loop. Use one run per read from now on.
        this.#oneShot = true;
        return { ok: true, stdout: this.#lines(s) };
      }
      const said = firstLine(s.output);
      const how = s.exited.signal
        ? `was stopped by ${s.exited.signal}`
        : `exited with code ${s.exited.code}`;
      return { ok: false, why: `${label} ${how}${said ? `: ${said}` : ''}` };
    }
    if (s.lastValidAt === null) {
      if (s.garbage !== null) {
        this.stop();
        return { ok: true, stdout: s.garbage };
      }
      this.#kill(s);
      return {
        ok: false,
        why: `${label} did not answer within ${fmtSeconds(timeoutMs)} (stopped it)`,
      };
    }
    if (now() - s.lastValidAt > s.intervalMs + timeoutMs) {
      this.#kill(s);
      return {
        ok: false,
        why: `${label} did not answer within ${fmtSeconds(timeoutMs)} (stopped it)`,
      };
    }
    return { ok: true, stdout: this.#lines(s) };
  }

  stop(): void {
    if (this.#s) this.#kill(this.#s);
  }

  #kill(s: LoopState): void {
    if (this.#s === s) this.#s = null;
    if (!s.exited && s.child) {
      this.#stuck = s.child;
      void s.child.kill();
    }
  }

  /** The latest line of each GPU that reported with the newest batch (lines of one batch come together). */
  #lines(s: LoopState): string {
    const newest = Math.max(...[...s.latest.values()].map((e) => e.at));
    return [...s.latest.entries()]
      .filter(([, e]) => newest - e.at <= Math.min(1000, s.intervalMs / 2))
      .sort(([a], [b]) => a - b)
      .map(([, e]) => e.line)
      .join('\n');
  }

  #start(intervalMs: number): LoopState {
    const now = this.opts.now ?? Date.now;
    const spawned = spawnOwned(
      this.file,
      [...this.args, '-lms', String(Math.max(100, Math.round(intervalMs)))],
      {
        env: this.opts.env ?? process.env,
      },
    );
    let gotData!: () => void;
    const s: LoopState = {
      child: spawned.ok ? spawned.child : null,
      intervalMs,
      startedAt: now(),
      latest: new Map(),
      lastValidAt: null,
      garbage: null,
      partial: '',
      exited: spawned.ok ? null : { code: null, signal: null },
      spawnError: spawned.ok ? null : `could not be started: ${spawned.error.message}`,
      output: '',
      firstData: new Promise<void>((r) => (gotData = r)),
    };
    if (!spawned.ok) return s;
    const owned = spawned.child;
    const child = owned.process;
    child.on('error', (err: NodeJS.ErrnoException) => {
      s.spawnError = startFailure(this.file, err);
      s.exited = { code: null, signal: null };
      gotData();
    });
    const max = this.opts.maxOutputBytes ?? 256 * 1024;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const text = s.partial + chunk;
      const parts = text.split(/\r?\n/);
      s.partial = parts.pop() ?? '';
      if (s.partial.length > max) s.partial = '';
      const at = now();
      for (const raw of parts) {
        const line = raw.trim();
        if (!line) continue;
        const idx = /^(\d+)\s*,/.exec(line);
        if (idx && line.split(',').length >= 7) {
          s.latest.set(Number(idx[1]), { line, at });
          s.lastValidAt = at;
        } else {
          if (s.output.length < 4096) s.output += line + '\n';
          if (s.garbage === null) s.garbage = line;
        }
      }
      if (s.lastValidAt !== null) gotData();
      // Unreadable first words are often an error message followed by a nonzero exit: give the
      // exit a moment to arrive so the message can name the code.
      else if (s.garbage !== null) setTimeout(gotData, 250).unref?.();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (s.output.length < 4096) s.output += d;
    });
    child.on('close', (code, signal) => {
      if (this.#stuck === owned) this.#stuck = null;
      if (!s.exited) s.exited = { code, signal };
      gotData();
    });
    this.#s = s;
    return s;
  }
}
