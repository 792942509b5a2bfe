// A sleep block held by a helper process (systemd-inhibit, caffeinate): spawned without a shell on
// acquire, ended on release. We own it: its stdin is our pipe, so it cannot outlive us.

import type { ChildProcess } from 'node:child_process';
import { spawnChecked } from '../util/child/index.js';
import type { Logger } from '../util/logger.js';
import type { PowerBlocker } from './index.js';

export interface ChildPowerBlockerOptions {
  command: string;
  args: (reason: string) => string[];
  mechanism: string;
  logger: Logger;
  /** Grace between SIGTERM and SIGKILL when disposing (ms). */
  killAfterMs?: number;
}

export class ChildPowerBlocker implements PowerBlocker {
  readonly mechanism: string;
  #held = false;
  #child: ChildProcess | null = null;
  readonly #exits = new Set<Promise<void>>();
  #warned = false;

  constructor(private readonly opts: ChildPowerBlockerOptions) {
    this.mechanism = opts.mechanism;
  }

  get held(): boolean {
    return this.#held;
  }

  /** The helper's pid while it runs (for tests and the log). */
  get pid(): number | null {
    return this.#child?.exitCode === null ? (this.#child.pid ?? null) : null;
  }

  acquire(reason: string): void {
    if (this.#held) return;
    this.#held = true;
    const { command, args, logger } = this.opts;
    const spawned = spawnChecked(command, args(reason), { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env }, windowsHide: true });
    if (!spawned.ok) {
      this.#fail(`could not start ${command}: ${spawned.error.message}`);
      return;
    }
    const child: ChildProcess = spawned.child;
    this.#child = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString('utf8');
    });
    child.stdin!.on('error', () => {}); // EPIPE when the helper already exited
    const exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        this.#fail(`could not start ${command}: ${err.message}`);
        resolve();
      });
      child.once('close', (code, signal) => {
        if (this.#child === child) {
          this.#child = null;
          // Exiting while we still want the block means the OS refused it (e.g. no logind / D-Bus).
          if (this.#held) this.#fail(`${this.mechanism} exited (${signal ?? `code ${code}`}): ${stderr.trim() || 'no message'}`);
        }
        resolve();
      });
    });
    this.#exits.add(exited);
    void exited.then(() => this.#exits.delete(exited));
    logger.info(`keeping the OS awake with ${this.mechanism} (pid ${child.pid ?? '?'})`, { reason });
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    const child = this.#child;
    this.#child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // Closing stdin ends `cat` under systemd-inhibit; SIGTERM ends the helper itself.
    child.stdin?.end();
    child.kill('SIGTERM');
    this.opts.logger.info(`OS sleep allowed again (${this.mechanism} released)`);
  }

  async dispose(): Promise<void> {
    const child = this.#child;
    this.release();
    const pending = [...this.#exits];
    if (pending.length === 0) return;
    const timer = setTimeout(() => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, this.opts.killAfterMs ?? 2000);
    await Promise.all(pending);
    clearTimeout(timer);
  }

  #fail(message: string): void {
    // Said once at warn level: a box without logind would otherwise repeat it on every wake.
    if (!this.#warned) {
      this.#warned = true;
      this.opts.logger.warn(`cannot keep the OS awake: ${message}`);
    } else this.opts.logger.debug(`cannot keep the OS awake: ${message}`);
  }
}
