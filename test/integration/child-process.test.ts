// util/child against real processes: a tool past its deadline or its output cap is killed with
// its tree and says so; a missing binary is an ENOENT result, not a throw; an owned child that
// ignores SIGTERM loses its whole tree after the grace; a tree we did not start is found by parent
// links; and with no file descriptor left (issue #20) nothing throws.

import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeFailure,
  isAlive,
  runTool,
  spawnOwned,
  treeStop,
  waitFor,
} from '../../main/core/util/child/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const node = process.execPath;

/** A node script that ignores SIGTERM, starts a grandchild (which does too), prints its pid, then idles. */
const PARENT_OF_ONE = `
process.on('SIGTERM', () => {});
const { spawn } = require('node:child_process');
const g = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
process.stdout.write(g.pid + '\\n');
setInterval(() => {}, 1000);
`;

const leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});

/** The first line a child printed, as a pid. */
function pidFrom(text: string): number {
  const pid = Number(text.trim().split('\n')[0]);
  expect(Number.isInteger(pid) && pid > 0, `a pid, got ${JSON.stringify(text)}`).toBe(true);
  leftovers.push(pid);
  return pid;
}

describe('runTool', () => {
  it('returns the output and the exit code of a tool that finishes', async () => {
    const r = await runTool(
      node,
      ['-e', 'process.stdout.write("hi"); process.stderr.write("there"); process.exit(3)'],
      { timeoutMs: 20_000 },
    );
    expect(r).toMatchObject({
      ok: false,
      code: 3,
      stdout: 'hi',
      stderr: 'there',
      timedOut: false,
      truncated: false,
      error: null,
    });
    expect(describeFailure('tool', node, r, { timeoutMs: 20_000 })).toBe(
      'tool exited with code 3: hi',
    );
  });

  it('past the deadline: killed with its grandchild, and reported as timed out', async () => {
    const opts = { timeoutMs: 1500 };
    const r = await runTool(node, ['-e', PARENT_OF_ONE], opts);
    expect(r.timedOut).toBe(true);
    expect(r.ok).toBe(false);
    const grandchild = pidFrom(r.stdout);
    expect(
      await waitFor(() => !r.running() && !isAlive(r.pid!) && !isAlive(grandchild), 10_000),
    ).toBe(true);
    expect(describeFailure('tool', node, r, opts)).toBe(
      'tool did not answer within 1.5 s (stopped it)',
    );
  });

  it('output over the cap: cut at the cap, killed, and reported as truncated', async () => {
    const opts = { timeoutMs: 20_000, maxOutputBytes: 10_000 };
    const r = await runTool(
      node,
      ['-e', 'const s = "x".repeat(4096); setInterval(() => process.stdout.write(s), 1)'],
      opts,
    );
    expect(r.truncated).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.stdout).toBe('x'.repeat(10_000));
    expect(await waitFor(() => !isAlive(r.pid!), 10_000)).toBe(true);
    expect(describeFailure('tool', node, r, opts)).toBe('tool printed more than 10 KB');
  });

  it('a missing binary: an ENOENT result with a clear reason, no throw', async () => {
    const missing = path.join(root, 'no-such-tool');
    const opts = { timeoutMs: 5000 };
    const r = await runTool(missing, ['--version'], opts);
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('ENOENT');
    expect(describeFailure('the tool', missing, r, opts)).toBe(`the tool not found (${missing})`);
  });

  it('never runs a shell: an argument is passed as it is', async () => {
    const r = await runTool(
      node,
      ['-e', 'process.stdout.write(process.argv[1])', '$(echo hacked); `id`'],
      { timeoutMs: 20_000 },
    );
    expect(r.stdout).toBe('$(echo hacked); `id`');
  });

  it('aborting kills it and says so', async () => {
    const ac = new AbortController();
    const pending = runTool(node, ['-e', 'setInterval(() => {}, 1000)'], {
      timeoutMs: 60_000,
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(), 300);
    const r = await pending;
    expect(r.aborted).toBe(true);
    expect(await waitFor(() => !isAlive(r.pid!), 10_000)).toBe(true);
  });
});

describe('an owned child', () => {
  it('stopTree: asks, and after the grace kills the whole tree (both ignore SIGTERM)', async () => {
    const owned = spawnOwned(node, ['-e', PARENT_OF_ONE]);
    if (!owned.ok) throw owned.error;
    const child = owned.child;
    expect(await child.started()).toBeNull();
    leftovers.push(child.pid!);
    const first = await new Promise<string>((r) =>
      child.process.stdout!.once('data', (d: Buffer) => r(d.toString())),
    );
    const grandchild = pidFrom(first);
    const said: string[] = [];
    await child.stopTree({
      graceMs: 500,
      onAsk: (how) => said.push(`ask ${how}`),
      onKill: () => said.push('kill'),
    });
    expect(said).toEqual([`ask ${treeStop.gentle}`, 'kill']);
    expect(child.exited).toBe(true);
    expect(await waitFor(() => !isAlive(grandchild), 10_000)).toBe(true);
  });

  it('a missing binary: spawnOwned does not throw; started() gives the ENOENT', async () => {
    const owned = spawnOwned(path.join(root, 'no-such-service'), []);
    expect(owned.ok).toBe(true);
    if (!owned.ok) return;
    const err = (await owned.child.started()) as NodeJS.ErrnoException | null;
    expect(err?.code).toBe('ENOENT');
  });
});

describe('killTree on a tree we did not start in its own group', () => {
  it('finds the grandchild by parent links and kills both', async () => {
    const child = spawn(node, ['-e', PARENT_OF_ONE], { stdio: ['ignore', 'pipe', 'ignore'] });
    leftovers.push(child.pid!);
    const first = await new Promise<string>((r) =>
      child.stdout!.once('data', (d: Buffer) => r(d.toString())),
    );
    const grandchild = pidFrom(first);
    await treeStop.killTree(child.pid!);
    expect(await waitFor(() => child.exitCode !== null || child.signalCode !== null, 10_000)).toBe(
      true,
    );
    expect(await waitFor(() => !isAlive(grandchild), 10_000)).toBe(true);
  });
});

// Issue #20: with the descriptor table full, spawn either throws or gives a child without pipes.
const hasPrlimit = process.platform === 'linux' && spawnSync('prlimit', ['--version']).status === 0;
if (!hasPrlimit) console.log('EMFILE test skipped: prlimit (util-linux, Linux) is not here');
describe.skipIf(!hasPrlimit)('no file descriptor left (EMFILE)', () => {
  it('runTool and spawnOwned report EMFILE; the process does not crash', () => {
    const script = `
      import fs from 'node:fs';
      import { runTool, spawnOwned } from ${JSON.stringify(path.join(root, 'main/core/util/child/index.ts'))};
      const held = [];
      try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch {}
      const r = await runTool(process.execPath, ['-e', ''], { timeoutMs: 5000 });
      const o = spawnOwned(process.execPath, ['-e', '']);
      for (const fd of held) fs.closeSync(fd);
      console.log(JSON.stringify({ tool: r.error?.code ?? null, owned: o.ok ? 'started' : o.error.code }));
    `;
    const out = spawnSync(
      'prlimit',
      ['--nofile=64:64', '--', node, '--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(out.status, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout.trim().split('\n').pop()!)).toEqual({
      tool: 'EMFILE',
      owned: 'EMFILE',
    });
  });
});
