// The `unamentis-server` command line as pure decisions: argv + environment → what to run, and an
// error → the exit code that says what went wrong (sysexits.h numbers, which systemd and shell
// scripts can act on: RestartPreventExitStatus= in the unit refuses to restart on the permanent ones).

import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

export const EXIT = {
  ok: 0,
  /** Something unexpected (a bug): sysexits EX_SOFTWARE. */
  software: 70,
  /** Bad option or value: EX_USAGE. */
  usage: 64,
  /** --bind names an address this machine does not have: EX_UNAVAILABLE. */
  unavailable: 69,
  /** The data dir cannot be created or written: EX_CANTCREAT. */
  cantCreate: 73,
  /** Port in use, or another server holds the data dir: EX_TEMPFAIL (trying later may work). */
  tempFail: 75,
  /** A port below 1024 without the privilege to bind it: EX_NOPERM. */
  noPerm: 77,
} as const;

export const USAGE = `Usage: unamentis-server [--data-dir DIR] [--port N] [--bind ADDR]

Runs the UnaMentis Server core without Electron (a Linux GPU box, a systemd service, CI).
Prints the dashboard URL, with the access token in its #fragment.

  --data-dir DIR  settings, token, logs, PID files   (UNAMENTIS_DATA_DIR;
                  default $XDG_CONFIG_HOME/unamentis-server, or $STATE_DIRECTORY under systemd)
  --port N        control API port, 0 = any free one (UNAMENTIS_PORT; default api.port, 11400)
  --bind ADDR     control API address                (UNAMENTIS_BIND; default api.bind, 0.0.0.0).
                  A loopback address also keeps mDNS on loopback: nothing is announced on the LAN.
  -h, --help      this text
Environment: UNAMENTIS_LOG_LEVEL=debug for more detail.

Exit codes: 0 stopped cleanly · 64 bad option · 69 --bind address not on this machine ·
73 data dir cannot be created or written · 75 port in use or data dir locked by another server
(temporary: try again) · 77 no permission to bind that port · 70 anything else.`;

export type LogLevelName = 'debug' | 'info';

export type Cli =
  | { kind: 'help' }
  | { kind: 'usage'; message: string }
  | { kind: 'run'; dataDir: string; port?: number; bind?: string; logLevel: LogLevelName };

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  // systemd's StateDirectory= hands the service its folder in $STATE_DIRECTORY (first entry if several).
  const state = env.STATE_DIRECTORY?.split(':')[0];
  if (state) return state;
  const xdg = env.XDG_CONFIG_HOME || path.join(home, '.config');
  return path.join(xdg, 'unamentis-server');
}

function port(value: string | undefined, source: string): number | string | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) {
    return `${source}: "${value}" is not a port number; expected a whole number from 0 to 65535.`;
  }
  return n;
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Cli {
  let values: { 'data-dir'?: string; port?: string; bind?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        bind: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { kind: 'usage', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const p = port(values.port, '--port') ?? port(env.UNAMENTIS_PORT, 'UNAMENTIS_PORT');
  if (typeof p === 'string') return { kind: 'usage', message: p };
  const dataDir = values['data-dir'] ?? env.UNAMENTIS_DATA_DIR;
  if (dataDir === '')
    return { kind: 'usage', message: '--data-dir: expected a folder path, got an empty string.' };
  const bind = values.bind ?? env.UNAMENTIS_BIND;
  return {
    kind: 'run',
    dataDir: path.resolve(dataDir ?? defaultDataDir(env)),
    ...(p !== undefined ? { port: p } : {}),
    ...(bind ? { bind } : {}),
    logLevel: env.UNAMENTIS_LOG_LEVEL === 'debug' ? 'debug' : 'info',
  };
}

/** The exit code for an error that stopped the start. */
export function exitCodeFor(err: unknown): number {
  const e = err as { code?: string; syscall?: string; constructor?: { name?: string } };
  if (e?.constructor?.name === 'DataDirLockedError') return EXIT.tempFail;
  if (
    (e?.syscall === 'listen' || e?.syscall === 'bind') &&
    (e.code === 'EACCES' || e.code === 'EPERM')
  )
    return EXIT.noPerm;
  switch (e?.code) {
    case 'EADDRINUSE':
      return EXIT.tempFail;
    case 'EADDRNOTAVAIL':
      return EXIT.unavailable;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'ENOTDIR':
    case 'EEXIST':
    case 'ENOSPC':
      return EXIT.cantCreate;
    default:
      return EXIT.software;
  }
}
