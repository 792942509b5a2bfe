// Start at login. macOS and Windows: Electron's setLoginItemSettings (login-item-electron.ts).
// Linux: an XDG autostart entry, `~/.config/autostart/unamentis-server.desktop` (freedesktop
// "Desktop Application Autostart Specification"), written here in plain Node so it is tested
// without Electron.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LoginItem {
  /** How it is done here, for logs ("XDG autostart", "login item"). */
  readonly mechanism: string;
  get(): boolean;
  set(on: boolean): void;
}

export const AUTOSTART_FILE = 'unamentis-server.desktop';

/** `$XDG_CONFIG_HOME/autostart/<file>`, defaulting to `~/.config`. XDG is Linux's: POSIX paths on any host. */
export function autostartPath(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const base =
    env.XDG_CONFIG_HOME && path.posix.isAbsolute(env.XDG_CONFIG_HOME)
      ? env.XDG_CONFIG_HOME
      : path.posix.join(home, '.config');
  return path.posix.join(base, 'autostart', AUTOSTART_FILE);
}

/**
 * Quotes one argument of a desktop entry's Exec key: reserved characters force double quotes,
 * inside which `"`, `` ` ``, `$` and `\` take a backslash; `%` is doubled (field codes). Then the
 * whole value is escaped as a desktop-entry string (a backslash becomes `\\`).
 */
export function quoteExecArg(arg: string): string {
  const percent = arg.replace(/%/g, '%%');
  const needsQuotes = /[\s"'\\><~|&;$*?#()`]/.test(percent) || percent === '';
  const quoted = needsQuotes ? `"${percent.replace(/(["`$\\])/g, '\\$1')}"` : percent;
  return quoted.replace(/\\/g, '\\\\');
}

export interface DesktopEntryOptions {
  name: string;
  /** The program and its arguments. */
  exec: string[];
  comment?: string;
  icon?: string;
}

export function desktopEntry(o: DesktopEntryOptions): string {
  const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');
  const lines = [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    `Name=${oneLine(o.name)}`,
    ...(o.comment ? [`Comment=${oneLine(o.comment)}`] : []),
    `Exec=${o.exec.map(quoteExecArg).join(' ')}`,
    ...(o.icon ? [`Icon=${oneLine(o.icon)}`] : []),
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ];
  return lines.join('\n');
}

/** Whether an autostart entry's text means "start": not Hidden, not disabled for GNOME. */
export function entryEnabled(text: string): boolean {
  const key = (k: string) =>
    new RegExp(`^${k}\\s*=\\s*(\\S+)\\s*$`, 'm').exec(text)?.[1]?.toLowerCase();
  return key('Hidden') !== 'true' && key('X-GNOME-Autostart-enabled') !== 'false';
}

export class XdgAutostart implements LoginItem {
  readonly mechanism = 'XDG autostart';

  constructor(private readonly o: DesktopEntryOptions & { file?: string }) {}

  get file(): string {
    return this.o.file ?? autostartPath();
  }

  get(): boolean {
    try {
      return entryEnabled(fs.readFileSync(this.file, 'utf8'));
    } catch {
      return false;
    }
  }

  set(on: boolean): void {
    const file = this.file;
    if (!on) {
      fs.rmSync(file, { force: true });
      return;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Atomic: a half-written entry would start something odd at the next login.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, desktopEntry(this.o), { mode: 0o644 });
    fs.renameSync(tmp, file);
  }
}
