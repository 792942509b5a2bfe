// Headless start until /health answers 200 (median of 10), and the core's RSS after start.
// Runs the compiled core (dist/), as `npm run headless` does.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, type BenchRow } from './types.js';
import { repoRoot } from '../test/helpers/headless.js';

async function startOnce(): Promise<{ ms: number; rssMB: number | null }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-headless-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/main/headless.js'), '--data-dir', dataDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  try {
    let url = '';
    while (!url) {
      url = /Dashboard: (http:\/\/[^/]+\/)/.exec(out)?.[1] ?? '';
      if (child.exitCode !== null) throw new Error(out);
      if (!url) await new Promise((r) => setTimeout(r, 5));
    }
    for (;;) {
      const res = await fetch(`${url}health`).catch(() => null);
      if (res?.status === 200) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1000));
    let rssMB: number | null = null;
    try {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      rssMB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
    } catch {
      /* not Linux */
    }
    return { ms, rssMB };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

export async function bench(): Promise<BenchRow[]> {
  execFileSync('npm', ['run', 'build:main', '--silent'], { cwd: repoRoot, stdio: 'ignore' });
  const runs: { ms: number; rssMB: number | null }[] = [];
  for (let i = 0; i < 10; i++) runs.push(await startOnce());
  const rss = runs.map((r) => r.rssMB).filter((x): x is number => x !== null);
  return [
    { name: 'headless start → /health 200 (median of 10)', value: median(runs.map((r) => r.ms)), unit: 'ms' },
    { name: 'core RSS 1 s after start (median)', value: rss.length ? median(rss) : NaN, unit: 'MB' },
  ];
}
