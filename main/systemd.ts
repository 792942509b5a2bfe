// Talking to systemd when the headless server runs as a unit (packaging/linux/*.service):
// readiness and watchdog (sd_notify(3)) and whether stdout goes to the journal.
//
// sd_notify is one datagram to the AF_UNIX socket in $NOTIFY_SOCKET. Node has no Unix datagram
// sockets, and the packages that add them are native addons (a compiler at install, one build per
// arch and Node ABI). systemd ships `systemd-notify` wherever a unit can run, so we run it (no
// shell). Since systemd 246 it waits until the manager has read the message (BARRIER=1), and the
// unit sets NotifyAccess=all so a message from this child of the main process counts.

import fs from 'node:fs';
import { describeFailure, runTool, type ToolOptions } from './core/util/child/index.js';
import type { Logger } from './core/util/logger.js';

/** JOURNAL_STREAM is "dev:inode" of the stream systemd connected; it counts only if stdout is still it. */
export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env, fd = 1): boolean {
  const want = env.JOURNAL_STREAM;
  if (!want) return false;
  try {
    const st = fs.fstatSync(fd);
    return `${st.dev}:${st.ino}` === want;
  } catch {
    return false;
  }
}

/** Half of WATCHDOG_USEC (as sd_watchdog_enabled(3) advises), or null when no watchdog is asked for us. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

export type RunNotify = (args: string[], env: NodeJS.ProcessEnv) => Promise<void>;

const runSystemdNotify: RunNotify = async (args, env) => {
  const opts: ToolOptions = { env, timeoutMs: 5_000 };
  const r = await runTool('systemd-notify', args, opts);
  if (r.ok) return;
  // `cause` keeps the start error's code: ENOENT says "not installed".
  const why = r.stderr.trim() || describeFailure('systemd-notify', 'systemd-notify', r, opts);
  throw new Error(why, { cause: r.error ?? undefined });
};

export interface Notifier {
  /** READY=1 with a status line, then starts the watchdog pings if the unit has WatchdogSec=. */
  ready(status: string): Promise<void>;
  stopping(): Promise<void>;
  /** True when a service manager is listening ($NOTIFY_SOCKET was set). */
  readonly active: boolean;
}

/**
 * Reads and removes NOTIFY_SOCKET / WATCHDOG_* from `env` (the services we spawn must not inherit
 * them, as sd_notify's unset_environment does), and returns a notifier that is a no-op without them.
 */
export function createNotifier(opts: {
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  run?: RunNotify;
  pid?: number;
}): Notifier {
  const env = opts.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  const interval = watchdogIntervalMs(env, opts.pid ?? process.pid);
  for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete env[k];
  const run = opts.run ?? runSystemdNotify;
  const childEnv: NodeJS.ProcessEnv = {
    PATH: env.PATH ?? '/usr/bin:/bin',
    ...(socket ? { NOTIFY_SOCKET: socket } : {}),
  };
  let warned = false;
  let timer: NodeJS.Timeout | null = null;

  const send = async (args: string[]): Promise<void> => {
    if (!socket) return;
    try {
      await run(args, childEnv);
    } catch (err) {
      if (warned) return;
      warned = true;
      const missing = (err as { cause?: { code?: string } }).cause?.code === 'ENOENT';
      opts.logger.warn(
        missing
          ? 'systemd asked for readiness notification, but systemd-notify is not on PATH: install systemd, or use Type=simple'
          : `systemd-notify failed: ${(err as Error).message}`,
      );
    }
  };

  return {
    active: Boolean(socket),
    async ready(status) {
      await send(['--ready', `--status=${status}`]);
      if (socket && interval !== null && !timer) {
        // A stalled event loop misses these, and systemd restarts the unit (Restart=on-failure).
        timer = setInterval(() => void send(['WATCHDOG=1']), interval);
        timer.unref();
      }
    },
    async stopping() {
      if (timer) clearInterval(timer);
      timer = null;
      await send(['STOPPING=1']);
    },
  };
}
