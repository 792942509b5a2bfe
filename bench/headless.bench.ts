// The installed command (bench/installed.ts), from its process start as an admin sees it: start →
// /health 200, and RSS 1 s after that, median of RUNS. Baseline in the same run: the same file as
// `node dist/main/headless.js`, i.e. without the shebang's --max-semi-space-size (how it used to run).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, type BenchRow } from './types.js';
import { cpuMs, installPackage, rssMB } from './installed.js';
import { freePort } from '../test/helpers/ports.js';

const RUNS = 10;

async function startOnce(
  argv: string[],
): Promise<{ ms: number; cpu: number | null; rss: number | null }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-headless-'));
  const port = await freePort();
  // The port is chosen up front so /health can be polled from the very start (not from a log line).
  const t0 = performance.now();
  const child = spawn(
    argv[0]!,
    [...argv.slice(1), '--data-dir', dataDir, '--port', String(port), '--bind', '127.0.0.1'],
    {
      cwd: '/',
      stdio: 'ignore',
    },
  );
  const exited = new Promise((r) => child.once('exit', r));
  try {
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
      if (res?.status === 200) break;
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
      if (performance.now() - t0 > 30_000) throw new Error('no /health in 30 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    const ms = performance.now() - t0;
    // CPU it used to get there: unlike wall time, it hardly depends on how loaded the machine is.
    const cpu = cpuMs(child.pid!);
    await new Promise((r) => setTimeout(r, 1000));
    return { ms, cpu, rss: rssMB(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function bench(): Promise<BenchRow[]> {
  const installed = installPackage();
  try {
    type Run = Awaited<ReturnType<typeof startOnce>>;
    const cmd: Run[] = [];
    const base: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, so both see the same machine load.
      cmd.push(await startOnce([installed.bin]));
      base.push(await startOnce([process.execPath, installed.entry]));
    }
    const med = (xs: (number | null)[]) => {
      const v = xs.filter((x): x is number => x !== null);
      return v.length ? median(v) : NaN;
    };
    const spread = (xs: number[]) =>
      `min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}`;
    const startMs = med(cmd.map((r) => r.ms));
    const rss = med(cmd.map((r) => r.rss));
    return [
      {
        name: `installed unamentis-server: process start → /health 200 (median of ${RUNS})`,
        value: startMs,
        unit: 'ms',
        goal: '≤ 400 ms',
        pass: startMs <= 400,
        note: `${spread(cmd.map((r) => r.ms))}; bin/unamentis-server from the pack:linux tarball, polled every 5 ms`,
      },
      {
        name: 'installed unamentis-server: CPU time used by then (median)',
        value: med(cmd.map((r) => r.cpu)),
        unit: 'ms',
        note: 'user + system of the server process (/proc/PID/stat), 10 ms resolution: the wall time on an idle machine is about this plus I/O',
      },
      {
        name: 'installed unamentis-server: RSS 1 s after /health (median)',
        value: rss,
        unit: 'MB',
        goal: '≤ 80 MB',
        pass: rss <= 80,
        note: 'shebang: node --max-semi-space-size=2',
      },
      {
        name: 'baseline: node dist/main/headless.js (no V8 flag): start → /health',
        value: med(base.map((r) => r.ms)),
        unit: 'ms',
        note: spread(base.map((r) => r.ms)),
      },
      {
        name: 'baseline: node dist/main/headless.js (no V8 flag): RSS',
        value: med(base.map((r) => r.rss)),
        unit: 'MB',
      },
    ];
  } finally {
    installed.remove();
  }
}
