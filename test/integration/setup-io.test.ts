// SetupIO.run: programs start without a shell, their lines are shown, a cancel kills the whole
// tree, and a failure says why in the program's own words.

import { describe, expect, it } from 'vitest';
import { createSetupIO, RunError } from '../../main/core/setup/io.js';
import { DownloadError } from '../../main/core/setup/download.js';

const node = process.execPath;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('setup io: run', () => {
  const io = createSetupIO();

  it('passes arguments as they are (no shell) and streams the lines', async () => {
    const lines: string[] = [];
    await io.run(
      node,
      [
        '-e',
        'console.log(process.argv[1]); console.error("progress 50%\\rprogress 100%")',
        '$(touch /tmp/x); echo *',
      ],
      { onLine: (l) => lines.push(l) },
    );
    expect(lines).toEqual(['$(touch /tmp/x); echo *', 'progress 50%', 'progress 100%']);
  });

  it('a failure carries the lines that say why', async () => {
    const err = await io
      .run(node, [
        '-e',
        'console.log("Resolved 3 packages"); console.error("error: Failed to download `x`"); console.error("  Caused by: Hash mismatch"); process.exit(1)',
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    expect((err as RunError).exitCode).toBe(1);
    expect((err as Error).message).toMatch(
      /exited with 1: error: Failed to download `x` Caused by: Hash mismatch$/,
    );
  });

  it('a missing program is a clear error', async () => {
    await expect(io.run('/nonexistent/uv', ['venv'])).rejects.toThrow(
      /Could not start \/nonexistent\/uv: .*ENOENT/,
    );
  });

  it('cancel kills the program and its children', async () => {
    const ctl = new AbortController();
    let child = 0;
    const p = io.run(
      node,
      [
        '-e',
        `const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000)`,
      ],
      {
        signal: ctl.signal,
        onLine: (l) => {
          child = Number(l);
          ctl.abort();
        },
      },
    );
    const err = await p.catch((e: unknown) => e);
    expect((err as DownloadError).code).toBe('cancelled');
    expect(child).toBeGreaterThan(0);
    await expect.poll(() => alive(child), { timeout: 5000 }).toBe(false);
  });
});
