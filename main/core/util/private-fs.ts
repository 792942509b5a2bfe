// Folders and files only this user may change, whatever the umask (issue #20: under umask 000 the data
// folder, logs/ and run/ were world-writable; another local user replaced settings.json, whose
// command then ran as the server's user, and planted a PID file that made the server SIGKILL an
// unrelated process at start). POSIX only: on Windows the profile's ACLs do this job.

import fs from 'node:fs';

const uid = (): number | null => (typeof process.getuid === 'function' ? process.getuid() : null);

/**
 * `mkdir -p` with mode 0700 for what it creates (a umask can only take bits away); an existing
 * folder we own loses group and other write. Throws when the path is not a folder.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.statSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder`);
  const me = uid();
  if (me !== null && st.uid === me && (st.mode & 0o022) !== 0) fs.chmodSync(dir, st.mode & 0o755);
}

/** Why a file or folder cannot be trusted to name processes or programs, or null: ours, and nobody else may write it. */
export function untrusted(st: fs.Stats): string | null {
  const me = uid();
  if (me === null) return null;
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (st.uid !== me) return `belongs to uid ${st.uid}, not ${me}`;
  if ((st.mode & 0o022) !== 0)
    return `is writable by others (mode ${(st.mode & 0o777).toString(8)})`;
  return null;
}
