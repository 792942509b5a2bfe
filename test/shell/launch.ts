// Launches the real shell (main/shell/main.ts) against the Electron stand-in, in this test process:
// each launch reloads the modules (a fresh `electron`, a fresh main), like a new process would.
// The services are the fake Ollama and Piper from test/fixtures (real processes).

import fs from 'node:fs';
import path from 'node:path';
import { vi } from 'vitest';
import { repoRoot, tempDir } from '../helpers/headless.js';
import { freePort } from '../integration/supervisor-helpers.js';
import type * as Stand from './electron.js';

export type StandIn = typeof Stand;

export interface Launched {
  electron: StandIn;
  fake: StandIn['fake'];
  dataDir: string;
  port: number;
  /** Log lines the app printed (shell and core loggers write to stdout). */
  logs: string[];
  /** pids of the supervised services, read from /api/status once they run. */
  servicePids(): Promise<number[]>;
  /** Every service pid the supervisor's PID files (DATA_DIR/run) have named since the launch. */
  seenPids: Set<number>;
}

export interface LaunchOptions {
  platform: NodeJS.Platform;
  argv?: string[];
  dataDir?: string;
  /** Merged into the settings written before start. */
  settings?: Record<string, unknown>;
  /** Services on (the fakes) or none. */
  services?: boolean;
  /** Runs before the app loads: configure the stand-in, listen for what the app registers. */
  configure?: (electron: StandIn) => void;
  env?: Record<string, string>;
  /** The control port (default: a free one). */
  port?: number;
  /** Runs after the module reset, before the app loads (vi.doMock a failure into a core module). */
  inject?: () => void;
}

const fixtures = path.join(repoRoot, 'test', 'fixtures');
const logs: string[] = [];
let spied = false;
const restore: (() => void)[] = [];

const launched: Launched[] = [];

/**
 * After each test: quit every launch still running (its cleanup stops its services), kill whatever
 * a failed test left (each service's process group: the fake Ollama's runners too), and undo what
 * the launches changed in this process (env, argv, the PID-file pollers).
 */
export async function resetLaunches(): Promise<void> {
  for (const l of launched.splice(0)) {
    if (l.fake.exit === null) {
      try {
        l.electron.app.quit();
        await l.fake.exited(20_000);
      } catch {
        /* killed below */
      }
    }
    for (const pid of l.seenPids) {
      for (const target of process.platform === 'win32' ? [pid] : [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
  for (const r of restore.splice(0).reverse()) r();
  logs.length = 0;
  (globalThis as { __electronFakeLocks?: Map<string, unknown> }).__electronFakeLocks?.clear();
}

function setEnv(name: string, value: string | undefined): void {
  const old = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  restore.push(() => {
    if (old === undefined) delete process.env[name];
    else process.env[name] = old;
  });
}

export async function serviceSettings(): Promise<Record<string, unknown>> {
  const ports = { ollama: await freePort(), piper: await freePort() };
  return {
    ollama: {
      command: process.execPath,
      args: [path.join(fixtures, 'fake-ollama.mjs'), 'serve'],
      port: ports.ollama,
    },
    piper: {
      command: process.execPath,
      args: [
        path.join(fixtures, 'fake-piper.mjs'),
        '-m',
        'en_US-amy-medium',
        '--host',
        '127.0.0.1',
        '--port',
        String(ports.piper),
      ],
      port: ports.piper,
    },
    vibevoice: { enabled: false },
    whisper: { enabled: false },
  };
}

export async function launch(opts: LaunchOptions): Promise<Launched> {
  if (!spied) {
    spied = true;
    const write = process.stdout.write.bind(process.stdout);
    vi.spyOn(process.stdout, 'write').mockImplementation(
      (chunk: string | Uint8Array, ...rest: unknown[]) => {
        logs.push(...String(chunk).split('\n').filter(Boolean));
        // Keep the test output readable: app logs go to the array only.
        void write;
        void rest;
        return true;
      },
    );
  }
  const dataDir = opts.dataDir ?? tempDir('unamentis-shell-');
  const port = opts.port ?? (await freePort());
  if (!fs.existsSync(path.join(dataDir, 'settings.json'))) {
    fs.writeFileSync(
      path.join(dataDir, 'settings.json'),
      JSON.stringify({
        displayName: 'Shell Test Host',
        discovery: { advertise: true, interfaces: [] },
        hibernation: { preventSleep: true },
        services:
          opts.services === false
            ? {
                ollama: { enabled: false },
                piper: { enabled: false },
                vibevoice: { enabled: false },
                whisper: { enabled: false },
              }
            : await serviceSettings(),
        ...opts.settings,
      }),
    );
  }
  setEnv('UNAMENTIS_DATA_DIR', dataDir);
  setEnv('UNAMENTIS_PORT', String(port));
  setEnv('UNAMENTIS_MDNS_INTERFACES', 'lo');
  // Linux's start-at-login writes an XDG autostart entry: keep it in the temp folder.
  setEnv('XDG_CONFIG_HOME', path.join(dataDir, 'xdg'));
  for (const [k, v] of Object.entries(opts.env ?? {})) setEnv(k, v);
  const argv = process.argv;
  process.argv = [process.execPath, repoRoot, ...(opts.argv ?? [])];
  restore.push(() => (process.argv = argv));

  vi.resetModules();
  (globalThis as { __shellPlatform?: NodeJS.Platform }).__shellPlatform = opts.platform;
  const electron = (await import('./electron.js')) as StandIn;
  electron.fake.configure({ platform: opts.platform, userData: dataDir });
  opts.configure?.(electron);
  opts.inject?.();
  // The supervisor's PID files name every service it spawned, even one a quick quit stopped again.
  const seenPids = new Set<number>();
  const runDir = path.join(dataDir, 'run');
  const poll = setInterval(() => {
    let names: string[];
    try {
      names = fs.readdirSync(runDir).filter((n) => n.endsWith('.pid'));
    } catch {
      return;
    }
    for (const n of names) {
      try {
        const pid = (JSON.parse(fs.readFileSync(path.join(runDir, n), 'utf8')) as { pid?: number })
          .pid;
        if (pid) seenPids.add(pid);
      } catch {
        /* being rewritten */
      }
    }
  }, 20);
  restore.push(() => clearInterval(poll));
  await import('../../main/shell/main.js');
  const origin = `http://127.0.0.1:${port}`;
  const l: Launched = {
    electron,
    fake: electron.fake,
    dataDir,
    port,
    logs,
    seenPids,
    async servicePids() {
      const res = await fetch(`${origin}/api/status`);
      const s = (await res.json()) as {
        services: { id: string; pid: number | null; status: string }[];
      };
      return s.services.map((x) => x.pid).filter((p): p is number => !!p);
    },
  };
  launched.push(l);
  return l;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits until the app shows its tray, or ends. */
export async function started(l: Launched, ms = 40_000): Promise<void> {
  await l.electron.until(
    () => l.fake.liveTray() !== null || l.fake.exit !== null,
    ms,
    'the tray or an exit',
  );
}

/** Waits until every enabled service runs and is healthy. */
export async function servicesUp(l: Launched, count = 2, ms = 40_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${l.port}/api/status`);
      const s = (await res.json()) as {
        services: { pid: number | null; status: string; enabled: boolean }[];
      };
      const up = s.services.filter((x) => x.enabled && x.status === 'running' && x.pid);
      if (up.length >= count) return up.map((x) => x.pid!);
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`services did not come up:\n${l.logs.slice(-30).join('\n')}`);
}

/** Kills what a failing test may have left (the scenarios assert there is nothing). */
export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
