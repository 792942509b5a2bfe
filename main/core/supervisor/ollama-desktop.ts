// Living next to the Ollama desktop app (services/ollama-desktop.ts has the facts from its source):
// never start a second `ollama serve` while the app runs (its reaper would kill ours, and it
// restarts its own 1 s after it dies: we would race it forever); use its server instead; and on
// "Take over", quit the app first and carry its model folder and context length over.

import fs from 'node:fs';
import type { Options } from '../services/presets.js';
import {
  desktopAppPort,
  findDesktopApp,
  isDesktopAppName,
  parseServerConfig,
  quitDesktopAppStep,
  type ProcLike,
} from '../services/ollama-desktop.js';
import { isAlive, runTool, signalPid } from '../util/child/index.js';

export interface DesktopDeps {
  platform: NodeJS.Platform;
  listProcesses(): Promise<ProcLike[]>;
  /** The desktop app's server log (services/ollama-desktop.ts desktopServerLog); null: none. */
  serverLog: string | null;
  log(text: string): void;
  /** Ollama's options as they are now, and a way to add to them. */
  options(): Options;
  setOptions(patch: Options): void;
  /** How long the app may take to quit (and stop its server). */
  quitTimeoutMs: number;
  /** Our Ollama's port: an app whose server uses another port is no rival. */
  port(): number | null;
  /** The app's environment (NUL-separated, as /proc/<pid>/environ), when the OS lets us read it. */
  environOf?(pid: number): string | null;
  /** This user's uid; null where processes carry no owner we can read (Windows). */
  uid: number | null;
  /** A process's owner (uid), null when it cannot be told (gone, or Windows). */
  ownerOf(pid: number): Promise<number | null>;
}

export interface DesktopHooks {
  /** Why our own `ollama serve` must not start now, or null. */
  ownStartBlocked(): Promise<string | null>;
  /** Before "Take over": quit the app (it stops its server) and carry its settings over. */
  beforeTakeOver(): Promise<void>;
}

export function desktopHooks(d: DesktopDeps): DesktopHooks {
  const environOf =
    d.environOf ??
    ((pid: number) => {
      try {
        return fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        return null; // macOS, Windows: the app's default port is assumed
      }
    });
  const find = async () => {
    const named = (await d.listProcesses().catch(() => [])).filter((p) => isDesktopAppName(p.name));
    // Owners only of the few named `Ollama`: a lookup each (Linux: a stat of /proc/<pid>).
    const owned =
      d.uid === null
        ? named
        : await Promise.all(
            named.map(async (p) => ({ ...p, uid: await d.ownerOf(p.pid).catch(() => null) })),
          );
    const app = findDesktopApp(owned, d.uid);
    return app && desktopAppPort(environOf(app.pid)) === d.port() ? app : null;
  };
  return {
    async ownStartBlocked() {
      const app = await find();
      if (!app) return null;
      return (
        `The Ollama desktop app is running (pid ${app.pid}): UnaMentis uses its server and does not start a second "ollama serve" ` +
        `(the app would kill it and restart its own). Waiting for the app's server; to let UnaMentis manage Ollama, choose Take over.`
      );
    },
    async beforeTakeOver() {
      const app = await find();
      if (!app) return;
      d.log(
        `take over: quitting the Ollama desktop app (pid ${app.pid}) so it does not restart its server`,
      );
      const step = quitDesktopAppStep(app.pid, d.platform);
      if ('signal' in step) signalPid(app.pid, step.signal);
      else await runTool(step.file, step.args, { timeoutMs: 5000 }); // the wait below says if it worked
      const until = Date.now() + d.quitTimeoutMs;
      while (isAlive(app.pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      if (isAlive(app.pid)) {
        throw new Error(
          `The Ollama desktop app (pid ${app.pid}) did not quit. Quit it yourself (its icon → Quit Ollama), then choose Take over again.`,
        );
      }
      carrySettings(d);
    },
  };
}

/** The app's model folder and context length, from its server's "server config" log line. */
function carrySettings(d: DesktopDeps): void {
  if (!d.serverLog) return;
  let text: string;
  try {
    const fd = fs.openSync(d.serverLog, 'r');
    try {
      // The line is at the top of the current log (the app rotates it on each server start); read
      // the last 1 MB in case it was appended to instead.
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, 1 << 20);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    d.log(
      `take over: no Ollama desktop server log at ${d.serverLog}; its settings are not carried over`,
    );
    return;
  }
  const cfg = parseServerConfig(text);
  if (!cfg) return;
  const now = d.options();
  const patch: Options = {};
  if (cfg.modelsDir && !now.modelsDir) patch.modelsDir = cfg.modelsDir;
  if (cfg.contextLength && !now.contextLength) patch.contextLength = cfg.contextLength;
  if (Object.keys(patch).length === 0) return;
  d.log(
    `take over: keeping the desktop app's settings: ${Object.entries(patch)
      .map(([k, v]) => `${k} = ${v}`)
      .join(', ')}`,
  );
  d.setOptions(patch);
}
