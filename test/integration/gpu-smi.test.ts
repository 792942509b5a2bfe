// The nvidia-smi runner and parsers against the fake nvidia-smi (a real child process).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LoopQuery, ToolRunner, locateNvidiaSmi } from '../../main/core/gpu/nvidia-smi.js';
import {
  APPS_QUERY_ARGS,
  GPU_QUERY_ARGS,
  parseComputeApps,
  parseGpuQuery,
} from '../../main/core/gpu/smi-parse.js';
import {
  fakeBinDir,
  fakeCalls,
  gpuEnv,
  gpuOut,
  hungPid,
  writeGpuScenario,
} from '../fixtures/bin/scenario.js';

const dirs: string[] = [];
function scenarioDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-smi-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) {
    for (const k of ['gpu', 'apps'] as const) {
      const pid = hungPid(d, k);
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone (as it should be)
        }
      }
    }
    fs.rmSync(d, { recursive: true, force: true });
  }
});

const smi = path.join(fakeBinDir, 'nvidia-smi');
const runner = (dir: string, timeoutMs = 3000) =>
  new ToolRunner(smi, { label: 'nvidia-smi', timeoutMs, env: gpuEnv(dir) });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('nvidia-smi runner (fake nvidia-smi)', () => {
  it('one GPU, then two GPUs, with an idle one reading 0', async () => {
    const dir = scenarioDir();
    writeGpuScenario(dir, {
      gpu: {
        out: gpuOut([
          { index: 0, name: 'NVIDIA GeForce RTX 3060', totalMB: 12288, usedMB: 4100, util: 12 },
        ]),
      },
    });
    const r1 = await runner(dir).run(GPU_QUERY_ARGS);
    expect(r1.ok).toBe(true);
    const p1 = parseGpuQuery(r1.ok ? r1.stdout : '');
    expect(p1.ok && p1.value.map((g) => [g.name, g.usedMB])).toEqual([
      ['NVIDIA GeForce RTX 3060', 4100],
    ]);

    writeGpuScenario(dir, {
      gpu: {
        out: gpuOut([
          { index: 0, name: 'NVIDIA GeForce RTX 3060', totalMB: 12288, usedMB: 0, util: 0 },
          { index: 1, name: 'NVIDIA GeForce RTX 4090', totalMB: 24564, usedMB: 20000, util: 99 },
        ]),
      },
    });
    const r2 = await runner(dir).run(GPU_QUERY_ARGS);
    const p2 = parseGpuQuery(r2.ok ? r2.stdout : '');
    expect(p2.ok && p2.value.map((g) => [g.index, g.usedMB, g.utilizationPct])).toEqual([
      [0, 0, 0],
      [1, 20000, 99],
    ]);
    // Exactly our argv reached the executable: no shell in between.
    expect(fakeCalls(dir).map((c) => c.kind)).toEqual(['gpu', 'gpu']);
  });

  it('N/A fields and compute apps', async () => {
    const dir = scenarioDir();
    writeGpuScenario(dir, {
      gpu: { out: '0, Tesla T4, 15360, [N/A], [Not Supported], 38, [N/A]\n' },
      apps: { out: '4242, 5400\n9120, [N/A]\n' },
    });
    const r = await runner(dir).run(GPU_QUERY_ARGS);
    expect(parseGpuQuery(r.ok ? r.stdout : '')).toMatchObject({
      ok: true,
      value: [{ usedMB: null, utilizationPct: null, temperatureC: 38 }],
    });
    const a = await runner(dir).run(APPS_QUERY_ARGS);
    expect(parseComputeApps(a.ok ? a.stdout : '')).toEqual({
      ok: true,
      skipped: [],
      value: [
        { pid: 4242, usedMB: 5400 },
        { pid: 9120, usedMB: null },
      ],
    });
  });

  it('garbage output parses to a readable error', async () => {
    const dir = scenarioDir();
    writeGpuScenario(dir, {
      gpu: { out: 'Unable to determine the device handle for GPU0000:01:00.0: Unknown Error\n' },
    });
    const r = await runner(dir).run(GPU_QUERY_ARGS);
    expect(r.ok).toBe(true);
    expect(parseGpuQuery(r.ok ? r.stdout : '')).toEqual({
      ok: false,
      why: 'unexpected nvidia-smi output: "Unable to determine the device handle for GPU0000:01:00.0: Unknown Error"',
    });
  });

  it('a nonzero exit says the code and what nvidia-smi printed', async () => {
    const r = await runner('/nonexistent-scenario').run(GPU_QUERY_ARGS);
    expect(r).toEqual({
      ok: false,
      why: "nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    });
    const dir = scenarioDir();
    writeGpuScenario(dir, { gpu: { exit: 6, out: 'No devices were found\n' } });
    expect(await runner(dir).run(GPU_QUERY_ARGS)).toEqual({
      ok: false,
      why: 'nvidia-smi exited with code 6: No devices were found',
    });
  });

  it('a hang times out, and the hung process is killed', async () => {
    const dir = scenarioDir();
    writeGpuScenario(dir, { gpu: { hang: true } });
    const r = runner(dir, 800);
    const t0 = Date.now();
    const res = await r.run(GPU_QUERY_ARGS);
    const took = Date.now() - t0;
    expect(res).toEqual({ ok: false, why: 'nvidia-smi did not answer within 0.8 s (stopped it)' });
    expect(took).toBeGreaterThanOrEqual(750);
    expect(took).toBeLessThan(3000);
    const pid = hungPid(dir, 'gpu');
    expect(pid).toBeGreaterThan(0);
    // Killed: gone within a moment.
    const deadline = Date.now() + 2000;
    while (alive(pid!) && Date.now() < deadline) await new Promise((res2) => setTimeout(res2, 20));
    expect(alive(pid!)).toBe(false);
    // The runner is usable again.
    writeGpuScenario(dir, {
      gpu: { out: gpuOut([{ index: 0, name: 'X', totalMB: 1, usedMB: 0 }]) },
    });
    expect((await r.run(GPU_QUERY_ARGS)).ok).toBe(true);
  });

  it('a missing executable is a clear error, not a crash', async () => {
    const r = await new ToolRunner('/nonexistent/nvidia-smi', {
      label: 'nvidia-smi',
      timeoutMs: 1000,
    }).run(GPU_QUERY_ARGS);
    expect(r).toEqual({ ok: false, why: 'nvidia-smi not found (/nonexistent/nvidia-smi)' });
  });
});

describe('locating nvidia-smi', () => {
  it('on PATH elsewhere than Windows; null when there is none', async () => {
    expect(
      await locateNvidiaSmi({
        platform: 'linux',
        env: { PATH: `/nonexistent${path.delimiter}${fakeBinDir}` },
      }),
    ).toBe(smi);
    expect(await locateNvidiaSmi({ platform: 'linux', env: { PATH: '/nonexistent' } })).toBeNull();
  });

  it('on Windows: System32 first, else the newest copy in the DriverStore', async () => {
    const files = new Map<string, number>();
    const fakeFs = {
      access: async (p: fs.PathLike) => {
        if (!files.has(String(p))) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      },
      stat: async (p: fs.PathLike) => {
        const ctimeMs = files.get(String(p));
        if (ctimeMs === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        return { ctimeMs } as fs.Stats;
      },
      readdir: async () =>
        ['nv_dispi.inf_amd64_aaa', 'nv_dispi.inf_amd64_bbb', 'other.inf'].map(
          (name) => ({ name, isDirectory: () => true }) as fs.Dirent,
        ),
    } as unknown as Parameters<typeof locateNvidiaSmi>[0]['fs'];
    const env = { WINDIR: 'C:\\Windows' };
    const repo = 'C:\\Windows\\System32\\DriverStore\\FileRepository';
    files.set(`${repo}\\nv_dispi.inf_amd64_aaa\\nvidia-smi.exe`, 1000);
    files.set(`${repo}\\nv_dispi.inf_amd64_bbb\\nvidia-smi.exe`, 2000);
    expect(await locateNvidiaSmi({ platform: 'win32', env, fs: fakeFs })).toBe(
      `${repo}\\nv_dispi.inf_amd64_bbb\\nvidia-smi.exe`,
    );
    files.set('C:\\Windows\\System32\\nvidia-smi.exe', 1);
    expect(await locateNvidiaSmi({ platform: 'win32', env, fs: fakeFs })).toBe(
      'C:\\Windows\\System32\\nvidia-smi.exe',
    );
  });
});

describe('looping nvidia-smi (-lms): one process, the latest answer each read', () => {
  const loop = (dir: string, timeoutMs = 1500) =>
    new LoopQuery(smi, GPU_QUERY_ARGS, { label: 'nvidia-smi', timeoutMs, env: gpuEnv(dir) });
  const queries: LoopQuery[] = [];
  afterEach(() => {
    for (const q of queries.splice(0)) q.stop();
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('reads the latest line per GPU from one long-lived process', async () => {
    const dir = scenarioDir();
    const g = (usedMB: number) =>
      gpuOut([
        { index: 0, name: 'NVIDIA GeForce RTX 3060', totalMB: 12288, usedMB },
        { index: 1, name: 'NVIDIA GeForce RTX 4090', totalMB: 24564, usedMB: 0 },
      ]);
    writeGpuScenario(dir, { gpu: { out: g(100) } });
    const q = loop(dir);
    queries.push(q);
    const r1 = await q.read(200);
    expect(parseGpuQuery(r1.ok ? r1.stdout : '')).toMatchObject({
      ok: true,
      value: [
        { index: 0, usedMB: 100 },
        { index: 1, usedMB: 0 },
      ],
    });
    writeGpuScenario(dir, { gpu: { out: g(5500) } });
    await sleep(600);
    const r2 = await q.read(200);
    expect(parseGpuQuery(r2.ok ? r2.stdout : '')).toMatchObject({
      ok: true,
      value: [
        { index: 0, usedMB: 5500 },
        { index: 1, usedMB: 0 },
      ],
    });
    expect(fakeCalls(dir).filter((c) => c.kind === 'gpu')).toHaveLength(1);
    // A new interval (hibernation changed the cadence) restarts it with the new -lms.
    await q.read(300);
    expect(fakeCalls(dir).filter((c) => c.kind === 'gpu')).toHaveLength(2);
  });

  it('a nonzero exit reads as the exit code and what it printed', async () => {
    const dir = scenarioDir();
    writeGpuScenario(dir, {
      gpu: {
        exit: 9,
        out: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
      },
    });
    const q = loop(dir);
    queries.push(q);
    expect(await q.read(200)).toEqual({
      ok: false,
      why: "nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    });
  });

  it('no first answer: times out and kills it; a stall later does too', async () => {
    const dir = scenarioDir();
    writeGpuScenario(dir, { gpu: { hang: true } });
    const q = loop(dir, 700);
    queries.push(q);
    const t0 = Date.now();
    expect(await q.read(200)).toEqual({
      ok: false,
      why: 'nvidia-smi did not answer within 0.7 s (stopped it)',
    });
    expect(Date.now() - t0).toBeLessThan(2000);
    const pid = hungPid(dir, 'gpu')!;
    const deadline = Date.now() + 2000;
    while (alive(pid) && Date.now() < deadline) await sleep(20);
    expect(alive(pid)).toBe(false);

    // Answers, then hangs mid-stream.
    writeGpuScenario(dir, {
      gpu: { out: gpuOut([{ index: 0, name: 'X', totalMB: 1, usedMB: 0 }]) },
    });
    expect((await q.read(200)).ok).toBe(true);
    writeGpuScenario(dir, { gpu: { hang: true } });
    await sleep(200 + 700 + 400);
    expect(await q.read(200)).toEqual({
      ok: false,
      why: 'nvidia-smi did not answer within 0.7 s (stopped it)',
    });
    const pid2 = hungPid(dir, 'gpu')!;
    const deadline2 = Date.now() + 2000;
    while (alive(pid2) && Date.now() < deadline2) await sleep(20);
    expect(alive(pid2)).toBe(false);
  });

  it('garbage reads as garbage (the parser names it)', async () => {
    const dir = scenarioDir();
    writeGpuScenario(dir, {
      gpu: { out: 'Failed to initialize NVML: Driver/library version mismatch\n' },
    });
    const q = loop(dir);
    queries.push(q);
    const r = await q.read(200);
    expect(parseGpuQuery(r.ok ? r.stdout : '')).toEqual({
      ok: false,
      why: 'unexpected nvidia-smi output: "Failed to initialize NVML: Driver/library version mismatch"',
    });
  });

  it('an nvidia-smi that answers once and quits (no loop support) falls back to one run per read', async () => {
    const dir = scenarioDir();
    const once = path.join(dir, 'nvidia-smi-once');
    fs.writeFileSync(
      once,
      `#!/bin/sh\necho "once $$" >> "${dir}/once.log"\necho "0, Old GPU, 4096, 12, 1, 30, 20.0"\n`,
      { mode: 0o755 },
    );
    const q = new LoopQuery(once, GPU_QUERY_ARGS, { label: 'nvidia-smi', timeoutMs: 1500 });
    queries.push(q);
    await sleep(50);
    const r1 = await q.read(200);
    await sleep(100);
    const r2 = await q.read(200);
    const r3 = await q.read(200);
    for (const r of [r1, r2, r3])
      expect(parseGpuQuery(r.ok ? r.stdout : '')).toMatchObject({
        ok: true,
        value: [{ name: 'Old GPU', usedMB: 12 }],
      });
    expect(q.oneShot).toBe(true);
    expect(
      fs.readFileSync(path.join(dir, 'once.log'), 'utf8').trim().split('\n').length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('a missing executable', async () => {
    const q = new LoopQuery('/nonexistent/nvidia-smi', GPU_QUERY_ARGS, {
      label: 'nvidia-smi',
      timeoutMs: 1000,
    });
    expect(await q.read(200)).toEqual({
      ok: false,
      why: 'nvidia-smi not found (/nonexistent/nvidia-smi)',
    });
  });
});
