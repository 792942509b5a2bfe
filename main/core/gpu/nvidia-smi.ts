// Finding and running nvidia-smi: asynchronously, without a shell, with a timeout that kills it.
// (systeminformation runs it with execFileSync, which would freeze the whole app on a hung driver.)

import { spawn, type ChildProcess } from 'node:child_process';
import fsp from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';

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
      dirs = (await fs.readdir(repo, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
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
 * Runs one executable with explicit argv. At most one child at a time: while a child that timed
 * out has not exited yet (a driver hang can make even SIGKILL wait), new runs fail at once instead
 * of piling up stuck processes.
 */
export class ToolRunner {
  #stuck: ChildProcess | null = null;

  constructor(
    readonly file: string,
    private readonly opts: ToolRunnerOptions,
  ) {}

  run(args: readonly string[]): Promise<RunResult> {
    const { label, timeoutMs } = this.opts;
    if (this.#stuck && this.#stuck.exitCode === null && this.#stuck.signalCode === null) {
      return Promise.resolve({ ok: false, why: `${label} from an earlier sample is still hung (pid ${this.#stuck.pid})` });
    }
    this.#stuck = null;
    const max = this.opts.maxOutputBytes ?? 256 * 1024;
    return new Promise<RunResult>((resolve) => {
      let done = false;
      const finish = (r: RunResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(r);
      };
      let child: ChildProcess;
      try {
        child = spawn(this.file, args, {
          shell: false,
          windowsHide: true,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: this.opts.env ?? process.env,
        });
      } catch (err) {
        resolve({ ok: false, why: `${label} could not be started: ${(err as Error).message}` });
        return;
      }
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let size = 0;
      const collect = (into: Buffer[]) => (d: Buffer) => {
        size += d.length;
        if (size > max) {
          child.kill('SIGKILL');
          finish({ ok: false, why: `${label} printed more than ${Math.round(max / 1024)} KB` });
          return;
        }
        into.push(d);
      };
      child.stdout!.on('data', collect(out));
      child.stderr!.on('data', collect(errOut));
      const timer = setTimeout(() => {
        // Kill and answer now; if the kill does not take (a wedged driver), remember the child.
        this.#stuck = child;
        child.kill('SIGKILL');
        finish({ ok: false, why: `${label} did not answer within ${fmtSeconds(timeoutMs)} (stopped it)` });
      }, timeoutMs);
      timer.unref?.();
      child.on('error', (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'ENOENT'
            ? `${label} not found (${this.file})`
            : err.code === 'EACCES'
              ? `${label} is not executable (${this.file})`
              : `${label} could not be started: ${err.message}`;
        finish({ ok: false, why });
      });
      child.on('close', (code, signal) => {
        if (this.#stuck === child) this.#stuck = null;
        const stdout = Buffer.concat(out).toString('utf8');
        if (code === 0) return finish({ ok: true, stdout });
        const said = firstLine(stdout) || firstLine(Buffer.concat(errOut).toString('utf8'));
        const how = signal ? `was stopped by ${signal}` : `exited with code ${code}`;
        finish({ ok: false, why: `${label} ${how}${said ? `: ${said}` : ''}` });
      });
    });
  }
}

function firstLine(s: string): string {
  const l = s.split(/\r?\n/).find((x) => x.trim()) ?? '';
  const t = l.trim();
  return t.length > 160 ? t.slice(0, 157) + '...' : t;
}

function fmtSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
