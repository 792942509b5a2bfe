// A sleep block held by a helper process (systemd-inhibit, caffeinate): spawned without a shell on
// acquire, ended on release. We own it: its stdin is our pipe, so it cannot outlive us, and
// util/child stops its whole tree (systemd-inhibit's `cat` too).

import { spawnOwned, type OwnedChild } from '../util/child/index.js';
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
  #child: OwnedChild | null = null;
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
    return this.#child && !this.#child.exited ? (this.#child.pid ?? null) : null;
  }

  acquire(reason: string): void {
    if (this.#held) return;
    this.#held = true;
    const { command, args, logger } = this.opts;
    const spawned = spawnOwned(command, args(reason), {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env },
    });
    if (!spawned.ok) {
      this.#fail(`could not start ${command}: ${spawned.error.message}`);
      return;
    }
    const owned = spawned.child;
    const child = owned.process;
    this.#child = owned;
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
        if (this.#child === owned) {
          this.#child = null;
          // Exiting while we still want the block means the OS refused it (e.g. no logind / D-Bus).
          if (this.#held)
            this.#fail(
              `${this.mechanism} exited (${signal ?? `code ${code}`}): ${stderr.trim() || 'no message'}`,
            );
        }
        resolve();
      });
    });
    this.#exits.add(exited);
    void exited.then(() => this.#exits.delete(exited));
    logger.info(`keeping the OS awake with ${this.mechanism} (pid ${child.pid ?? '?'})`, {
      reason,
    });
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    const owned = this.#child;
    this.#child = null;
    if (!owned || owned.exited) return;
    // Closing stdin ends `cat` under systemd-inhibit; SIGTERM ends the helper itself, and after
    // the grace its tree is killed.
    owned.process.stdin?.end();
    void owned.stopTree({ graceMs: this.opts.killAfterMs ?? 2000 });
    this.opts.logger.info(`OS sleep allowed again (${this.mechanism} released)`);
  }

  async dispose(): Promise<void> {
    const child = this.#child;
    this.release();
    const pending = [...this.#exits];
    if (pending.length === 0) return;
    const timer = setTimeout(() => {
      if (child && !child.exited) void child.kill();
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
