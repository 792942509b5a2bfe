// Keeping the OS awake while the host serves. One small interface: the Electron shell implements
// it with powerSaveBlocker('prevent-app-suspension'); headless uses an inhibitor child process
// (systemd-inhibit on Linux, caffeinate on macOS) or, where there is none, a logged no-op.

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger.js';
import { ChildPowerBlocker } from './child-blocker.js';

import type { PowerBlocker } from '../context.js';

export type { PowerBlocker };

/** Holds nothing: for platforms without a mechanism, and for tests. Records what was asked. */
export class NullPowerBlocker implements PowerBlocker {
  held = false;
  readonly calls: ('acquire' | 'release')[] = [];
  constructor(
    readonly mechanism = 'none',
    private readonly logger?: Logger,
  ) {}
  acquire(reason: string): void {
    if (this.held) return;
    this.held = true;
    this.calls.push('acquire');
    this.logger?.info(`would keep the OS awake (${reason}), but ${this.mechanism}`);
  }
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.calls.push('release');
  }
  async dispose(): Promise<void> {
    this.release();
  }
}

export interface HeadlessPowerOptions {
  logger: Logger;
  platform?: NodeJS.Platform;
  /** PATH to search (default process.env.PATH). */
  pathEnv?: string;
  /** Turned off in settings (hibernation.preventSleep = false). */
  disabled?: boolean;
}

/** The headless blocker for this platform: an inhibitor child where a tool exists, else a no-op. */
export function createHeadlessPowerBlocker(opts: HeadlessPowerOptions): PowerBlocker {
  const platform = opts.platform ?? process.platform;
  const log = opts.logger.child('power');
  if (opts.disabled) return new NullPowerBlocker('none: turned off in settings', log);
  const pathEnv = opts.pathEnv ?? process.env.PATH ?? '';
  if (platform === 'linux') {
    const bin = findExecutable('systemd-inhibit', pathEnv);
    if (bin)
      return new ChildPowerBlocker({
        command: bin,
        args: systemdInhibitArgs,
        mechanism: 'systemd-inhibit',
        logger: log,
      });
    return new NullPowerBlocker('none: systemd-inhibit is not installed', log);
  }
  if (platform === 'darwin') {
    const bin =
      findExecutable('caffeinate', pathEnv) ??
      (fs.existsSync('/usr/bin/caffeinate') ? '/usr/bin/caffeinate' : null);
    // -i: no idle sleep; -w: ends by itself if we die.
    if (bin)
      return new ChildPowerBlocker({
        command: bin,
        args: () => ['-i', '-w', String(process.pid)],
        mechanism: 'caffeinate',
        logger: log,
      });
  }
  return new NullPowerBlocker(
    `none: no headless sleep blocker on ${platform} (the desktop app uses powerSaveBlocker)`,
    log,
  );
}

/**
 * `systemd-inhibit … cat`: the lock lives as long as `cat` reads our stdin. Closing the pipe
 * releases it, and if this process dies the pipe closes too, so no inhibitor outlives us.
 */
export function systemdInhibitArgs(reason: string): string[] {
  return ['--what=sleep:idle', '--who=UnaMentis Server', `--why=${reason}`, '--mode=block', 'cat'];
}

export function findExecutable(name: string, pathEnv: string): string | null {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export { ChildPowerBlocker } from './child-blocker.js';
