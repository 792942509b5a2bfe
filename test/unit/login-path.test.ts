// The login shell's PATH for an app started from Finder: parsing, merging, and a real probe against
// scripted "shells" (one that prints banners, one that hangs, one that does not exist).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  adoptLoginShellPath,
  mergePaths,
  parseMarkedPath,
  readLoginShellPath,
} from '../../main/core/util/login-path.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'login-path-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in for zsh: prints a banner (as oh-my-zsh or a motd does), then runs `-c` with a PATH of its own. */
function fakeShell(name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describe('login shell PATH', () => {
  it('parses the PATH between the markers, whatever the startup files print around it', () => {
    expect(
      parseMarkedPath(
        'Welcome!\n__UNAMENTIS_PATH__/opt/homebrew/bin:/usr/bin__UNAMENTIS_PATH__\nbye',
      ),
    ).toBe('/opt/homebrew/bin:/usr/bin');
    expect(parseMarkedPath('no markers')).toBeNull();
  });

  it("merges: the shell's PATH first, then ours, then the installers' folders, each once", () => {
    expect(
      mergePaths('/opt/homebrew/bin:/usr/bin', '/usr/bin:/bin', [
        '/usr/local/bin',
        '/opt/homebrew/bin',
      ]),
    ).toBe('/opt/homebrew/bin:/usr/bin:/bin:/usr/local/bin');
    expect(mergePaths(null, '/usr/bin:/bin', ['/opt/homebrew/bin'])).toBe(
      '/usr/bin:/bin:/opt/homebrew/bin',
    );
  });

  it('reads it from a real (scripted) shell that prints a banner first', async () => {
    const sh = fakeShell(
      'zsh-banner',
      'echo "Last login: today"\nPATH=/opt/homebrew/bin:/Users/u/.pyenv/shims:/usr/bin\nshift\nexec /bin/sh -c "$1"',
    );
    expect(await readLoginShellPath({ shell: sh, env: { PATH: '/usr/bin:/bin' } })).toBe(
      '/opt/homebrew/bin:/Users/u/.pyenv/shims:/usr/bin',
    );
  });

  it('gives up at the deadline on a shell that hangs, and on one that does not exist', async () => {
    const hang = fakeShell('zsh-hang', 'sleep 30');
    const t0 = Date.now();
    expect(await readLoginShellPath({ shell: hang, timeoutMs: 300 })).toBeNull();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await readLoginShellPath({ shell: path.join(dir, 'nope') })).toBeNull();
  });

  it("macOS: a Finder-minimal PATH gains the shell's folders and Homebrew; other platforms are left alone", async () => {
    const sh = fakeShell(
      'zsh-ok',
      'PATH=/Users/u/.local/bin:/usr/bin\nshift\nexec /bin/sh -c "$1"',
    );
    const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' };
    await adoptLoginShellPath('darwin', env, { shell: sh });
    expect(env.PATH).toBe(
      '/Users/u/.local/bin:/usr/bin:/opt/homebrew/bin:/opt/homebrew/sbin:/usr/local/bin:/bin:/usr/sbin:/sbin',
    );
    // A shell that gives nothing (too slow): Homebrew still comes before launchd's /usr/bin.
    const slow: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin' };
    await adoptLoginShellPath('darwin', slow, {
      shell: fakeShell('zsh-slow', 'sleep 30'),
      timeoutMs: 200,
    });
    expect(slow.PATH).toBe('/opt/homebrew/bin:/opt/homebrew/sbin:/usr/local/bin:/usr/bin:/bin');
    const linux: NodeJS.ProcessEnv = { PATH: '/usr/bin' };
    await adoptLoginShellPath('linux', linux, { shell: sh });
    expect(linux.PATH).toBe('/usr/bin');
  });
});
