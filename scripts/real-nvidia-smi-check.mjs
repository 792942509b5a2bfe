#!/usr/bin/env node
// One short check against a real NVIDIA driver (issue 15): the queries the GPU sampler runs, and its
// loop mode through a pipe (does each line arrive as it is printed, or is stdout block-buffered?).
// Writes what it saw to OUT_DIR (default ./real-nvidia-smi) as fixtures for test/fixtures/bin:
//   gpu.out, apps.out, loop.jsonl ({ms, line} per line as it arrived), summary.json.
// Run: node scripts/real-nvidia-smi-check.mjs [OUT_DIR]   (about 5 s; needs nvidia-smi on PATH)

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// Keep in step with main/core/gpu/smi-parse.ts (GPU_QUERY_ARGS, APPS_QUERY_ARGS).
const GPU = [
  '--query-gpu=index,name,memory.total,memory.used,utilization.gpu,temperature.gpu,power.draw',
  '--format=csv,noheader,nounits',
];
const APPS = ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'];
const out = path.resolve(process.argv[2] ?? 'real-nvidia-smi');
fs.mkdirSync(out, { recursive: true });

const once = (args) =>
  new Promise((resolve) => {
    const t0 = Date.now();
    execFile('nvidia-smi', args, { timeout: 10_000 }, (err, stdout, stderr) =>
      resolve({ ms: Date.now() - t0, code: err?.code ?? 0, stdout, stderr }),
    );
  });

const gpu = await once(GPU);
const apps = await once(APPS);
fs.writeFileSync(path.join(out, 'gpu.out'), gpu.stdout);
fs.writeFileSync(path.join(out, 'apps.out'), apps.stdout);

// Loop mode, 500 ms, for 3.2 s: with a pipe (not a TTY) as the sampler has it.
const lines = [];
const t0 = Date.now();
const child = spawn('nvidia-smi', [...GPU, '-lms', '500'], { stdio: ['ignore', 'pipe', 'pipe'] });
let buf = '';
child.stdout.on('data', (d) => {
  buf += d.toString();
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    lines.push({ ms: Date.now() - t0, line: buf.slice(0, i) });
    buf = buf.slice(i + 1);
  }
});
await new Promise((r) => setTimeout(r, 3200));
if (child.exitCode === null && child.signalCode === null) {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}
fs.writeFileSync(
  path.join(out, 'loop.jsonl'),
  lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
);

const gaps = lines.slice(1).map((l, i) => l.ms - lines[i].ms);
const summary = {
  gpu: { ms: gpu.ms, code: gpu.code, stderr: gpu.stderr.trim() },
  apps: { ms: apps.ms, code: apps.code, stderr: apps.stderr.trim() },
  loop: {
    lines: lines.length,
    firstLineMs: lines[0]?.ms ?? null,
    gapsMs: gaps,
    arrivesPerLine: gaps.length > 2 && gaps.every((g) => g > 200),
  },
};
fs.writeFileSync(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(JSON.stringify(summary));
