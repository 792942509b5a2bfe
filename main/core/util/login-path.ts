// The user's PATH as their login shell sets it. An app started from Finder (or the Dock, or at
// login) gets launchd's minimal PATH (/usr/bin:/bin:/usr/sbin:/sbin): no /opt/homebrew/bin, no
// pyenv or conda, so `python3` and Homebrew's programs resolve wrong or not at all. We ask the
// login shell once, with a deadline, and put its PATH in front. This one probe runs a shell on
// purpose (its startup files are what set PATH); the children themselves still start without one.

import { runTool } from './child/index.js';

const MARK = '__UNAMENTIS_PATH__';

/** Where installers put programs on a Mac, in case the shell does not name them. */
const MAC_EXTRA_DIRS = ['/opt/homebrew/bin', '/opt/homebrew/sbin', '/usr/local/bin'];

/** The PATH between our markers (startup files may print banners around it), or null. */
export function parseMarkedPath(stdout: string): string | null {
  const m = new RegExp(`${MARK}(.*?)${MARK}`, 's').exec(stdout);
  const p = m?.[1]?.trim();
  return p ? p : null;
}

/** `first` then what `rest` and `extra` add, each directory once, in order. */
export function mergePaths(
  first: string | null,
  rest: string | undefined,
  extra: readonly string[] = [],
  delimiter = ':',
): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of [
    ...(first ?? '').split(delimiter),
    ...(rest ?? '').split(delimiter),
    ...extra,
  ]) {
    const d = part.trim();
    if (!d || seen.has(d)) continue;
    seen.add(d);
    out.push(d);
  }
  return out.join(delimiter);
}

export interface LoginPathOptions {
  /** The user's shell (default $SHELL, else /bin/zsh: macOS's default since 10.15). */
  shell?: string;
  env?: NodeJS.ProcessEnv;
  /** A shell whose startup files hang (a prompt, a network mount) must not hold the app (default 5 s). */
  timeoutMs?: number;
}

/** Runs `$SHELL -ilc` once and returns the PATH it prints, or null (no shell, too slow, nothing printed). */
export async function readLoginShellPath(opts: LoginPathOptions = {}): Promise<string | null> {
  const env = opts.env ?? process.env;
  const shell = opts.shell ?? (env.SHELL || '/bin/zsh');
  // -i: interactive (reads .zshrc / .bashrc, where most PATH lines are), -l: login (.zprofile,
  // path_helper). No stdin, so nothing waits for input; at the deadline its whole tree is killed
  // (util/child). The cap only bounds a runaway rc file: the PATH comes last, in a few KB.
  const r = await runTool(shell, ['-ilc', `printf '%s%s%s' '${MARK}' "$PATH" '${MARK}'`], {
    env: { ...env, DISABLE_AUTO_UPDATE: 'true' },
    timeoutMs: opts.timeoutMs ?? 5000,
    maxOutputBytes: 8 << 20,
  });
  if (r.error || r.timedOut) return null;
  return parseMarkedPath(r.stdout);
}

/**
 * On macOS, once at start: PATH = the login shell's PATH, then the installers' folders, then what
 * we had. Elsewhere nothing changes (Windows apps get the registry's PATH; Linux desktops run the
 * session through the login shell). Returns the PATH now in `env`.
 */
export async function adoptLoginShellPath(
  platform: NodeJS.Platform,
  env: NodeJS.ProcessEnv = process.env,
  opts: LoginPathOptions = {},
): Promise<string | undefined> {
  if (platform !== 'darwin') return env.PATH;
  const fromShell = await readLoginShellPath({ ...opts, env });
  // Homebrew's folders before launchd's /usr/bin, as a brew user's shell has them: otherwise, when
  // the shell gave nothing, `python3` would still be Apple's placeholder in /usr/bin (it only
  // offers to install the developer tools).
  env.PATH = mergePaths(mergePaths(fromShell, MAC_EXTRA_DIRS.join(':')), env.PATH);
  return env.PATH;
}
