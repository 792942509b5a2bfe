// The Ollama desktop app (macOS, Windows) and how to live next to it. Read from its source,
// ollama/ollama `app/server/server.go` and `server_{unix,windows}.go`:
// - it runs `ollama serve` (127.0.0.1:11434 unless "Expose Ollama to the network"), restarts it 1 s
//   (`restartDelay`) after it exits, and passes its settings as OLLAMA_MODELS (the model folder)
//   and OLLAMA_CONTEXT_LENGTH;
// - when its server exits with code 1 (a busy port) it calls `reapServers()` once: every process
//   named `ollama` but itself gets SIGTERM (macOS, `pgrep -x ollama`) or `taskkill /F` (Windows,
//   `wmic ... name='ollama.exe'`), so a second `ollama serve` of ours would be killed;
// - its server's output goes to ~/.ollama/logs/server.log (macOS) or %LOCALAPPDATA%\Ollama\server.log,
//   which starts with Ollama's `msg="server config" env="map[...]"` line.
// Pure functions here; the supervisor does the IO.

import { join, OLLAMA_DEFAULT_PORT } from './presets.js';

export interface ProcLike {
  pid: number;
  ppid?: number;
  name?: string;
  /** Its owner's uid (POSIX); null or absent when not known. */
  uid?: number | null;
}

/**
 * The desktop app's process, by name: `Ollama` (macOS: /Applications/Ollama.app/Contents/MacOS/Ollama;
 * Windows: Ollama.exe) or the older Windows tray `ollama app.exe`. The server is `ollama` in lower
 * case, so the case tells them apart.
 */
export function isDesktopAppName(name: string | undefined): boolean {
  if (!name) return false;
  const base = name
    .split(/[\\/]/)
    .pop()!
    .replace(/\.exe$/i, '');
  return base === 'Ollama' || /^ollama app$/i.test(base);
}

/**
 * This user's desktop app. On a Mac or Linux box shared by several users, another user's app is not
 * ours to adopt or to watch (its server is theirs, and its reaper cannot signal our processes):
 * with `me` (our uid) only an app owned by `me` counts, and one whose owner is unknown does not.
 * `me` null (Windows: the process table there carries no owner) keeps the name alone.
 */
export function findDesktopApp(
  procs: readonly ProcLike[],
  me: number | null = null,
): ProcLike | null {
  return procs.find((p) => isDesktopAppName(p.name) && (me === null || p.uid === me)) ?? null;
}

/**
 * The port the app's server uses: OLLAMA_HOST from the app's environment when it can be read (it
 * passes it on; "Expose Ollama to the network" changes only the host), else Ollama's 11434.
 */
export function desktopAppPort(environ: string | null): number {
  const host = environ
    ?.split('\0')
    .find((e) => e.startsWith('OLLAMA_HOST='))
    ?.slice('OLLAMA_HOST='.length);
  const m = host ? /:(\d+)\/?$/.exec(host.replace(/^https?:\/\//, '')) : null;
  return m ? Number(m[1]) : OLLAMA_DEFAULT_PORT;
}

/** Where the desktop app writes its server's output. */
export function desktopServerLog(
  platform: NodeJS.Platform,
  env: Record<string, string | undefined>,
  home: string,
): string | null {
  if (platform === 'darwin') return join('darwin', home, '.ollama', 'logs', 'server.log');
  if (platform === 'win32')
    return join(
      'win32',
      env.LOCALAPPDATA || join('win32', home, 'AppData', 'Local'),
      'Ollama',
      'server.log',
    );
  return null;
}

export interface DesktopSettings {
  /** OLLAMA_MODELS: the model folder, when set. */
  modelsDir: string | null;
  /** OLLAMA_CONTEXT_LENGTH, when set (> 0). */
  contextLength: number | null;
}

/**
 * The last `msg="server config" env="map[K:V K:V ...]"` line of an Ollama server log. Values may
 * hold spaces (Windows paths); a key is an upper-case NAME followed by ':' after a space.
 */
export function parseServerConfig(log: string): DesktopSettings | null {
  const lines = log.split(/\r?\n/).filter((l) => l.includes('msg="server config"'));
  const line = lines.at(-1);
  if (!line) return null;
  const m = /env="map\[(.*)\]"/.exec(line);
  if (!m) return null;
  // slog quotes the value: backslashes and quotes come escaped.
  const body = m[1]!.replace(/\\(["\\])/g, '$1');
  const env = new Map<string, string>();
  const key = /(?:^| )([A-Z][A-Z0-9_]*):/g;
  const marks: { name: string; at: number; end: number }[] = [];
  for (let k; (k = key.exec(body));)
    marks.push({ name: k[1]!, at: k.index, end: k.index + k[0].length });
  marks.forEach((k, i) =>
    env.set(
      k.name,
      body.slice(k.end, i + 1 < marks.length ? marks[i + 1]!.at : body.length).trim(),
    ),
  );
  const ctx = Number(env.get('OLLAMA_CONTEXT_LENGTH'));
  return {
    modelsDir: env.get('OLLAMA_MODELS') || null,
    contextLength: Number.isFinite(ctx) && ctx > 0 ? ctx : null,
  };
}

/**
 * How to ask the desktop app to quit (it then stops its server). macOS: SIGTERM, which the app
 * handles like Quit; Windows: `taskkill /PID` without /F (a close request to its window).
 */
export function quitDesktopAppStep(
  pid: number,
  platform: NodeJS.Platform,
): { signal: 'SIGTERM' } | { file: string; args: string[] } {
  return platform === 'win32'
    ? { file: 'taskkill', args: ['/PID', String(pid)] }
    : { signal: 'SIGTERM' };
}
