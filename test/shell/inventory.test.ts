// The GPU inventory launcher (main/shell/inventory-launcher.ts) through the stand-in's
// utilityProcess, with the fake nvidia-smi and lspci first on PATH (Linux code path of
// systeminformation, as test/integration/gpu-inventory.test.ts).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readInventory, summarizeInventory } from '../../main/core/gpu/inventory.js';
import { utilityInventoryLauncher } from '../../main/shell/inventory-launcher.js';
import { repoRoot } from '../helpers/headless.js';
import {
  gpuEnv,
  hungPid,
  lspciOut,
  siOut,
  writeGpuScenario,
  type FakeGpu,
} from '../fixtures/bin/scenario.js';
import { alive } from './launch.js';
import * as electron from './electron.js';

const worker = path.join(repoRoot, 'main/shell/inventory-worker.js'); // the stand-in runs the .ts beside it
const gpus: FakeGpu[] = [{ index: 0, name: 'NVIDIA GeForce RTX 4090', totalMB: 24564, usedMB: 0 }];
const dirs: string[] = [];
const scenarioDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'shell-inv-'));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  await electron.app.whenReady();
});
afterEach(() => {
  vi.useRealTimers();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

// systeminformation's Linux path is what the fakes model; elsewhere this suite says so and skips.
const linux = process.platform === 'linux';
if (!linux)
  console.warn(
    'SKIPPED shell inventory tests: the fake nvidia-smi/lspci model the Linux path of systeminformation',
  );

describe.runIf(linux)('GPU inventory in a utility process', () => {
  it('returns the inventory; the utility process does not get ELECTRON_RUN_AS_NODE (it would start as plain Node and exit)', async () => {
    const dir = scenarioDir();
    writeGpuScenario(dir, { si: { out: siOut(gpus) }, lspci: lspciOut(gpus) });
    const before = electron.fake.utilityProcesses.length;
    // readInventory adds ELECTRON_RUN_AS_NODE=1 for its `node -e` child; the launcher must drop it.
    const raw = await readInventory({
      env: gpuEnv(dir),
      timeoutMs: 20_000,
      launch: utilityInventoryLauncher(worker),
    });
    const child = electron.fake.utilityProcesses[before]!;
    expect(child.env.ELECTRON_RUN_AS_NODE).toBeUndefined();
    expect(summarizeInventory(raw).gpus.find((g) => g.vendor === 'NVIDIA')).toMatchObject({
      name: 'NVIDIA GeForce RTX 4090',
      vramTotalMB: 24564,
    });
  });

  it('answers without waiting on a timer once the child has answered and exited', async () => {
    const dir = scenarioDir();
    writeGpuScenario(dir, { si: { out: siOut(gpus) }, lspci: lspciOut(gpus) });
    const proc = utilityInventoryLauncher(worker)(gpuEnv(dir));
    // From here no timer ever fires: `done` must come from the child's own events.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const r = await proc.done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('memTotalBytes');
  });

  it('keeps output that arrives after exit (a grandchild that inherited stdout)', async () => {
    const dir = scenarioDir();
    const script = path.join(dir, 'late.mjs');
    fs.writeFileSync(
      script,
      `import { spawn } from 'node:child_process';
process.stdout.write('early ');
spawn(process.execPath, ['-e', "setTimeout(() => process.stdout.write('late'), 800)"], { stdio: ['ignore', 'inherit', 'inherit'], detached: true }).unref();
process.exit(0);
`,
    );
    const r = await utilityInventoryLauncher(script)({ ...process.env }).done;
    expect(r).toEqual({ code: 0, stdout: 'early late', stderr: '' });
  });

  it('a hung nvidia-smi: the inventory times out and the hung tool is killed with the utility process', async () => {
    const dir = scenarioDir();
    writeGpuScenario(dir, { si: { hang: true }, lspci: lspciOut(gpus) });
    await expect(
      readInventory({
        env: gpuEnv(dir),
        timeoutMs: 3000,
        launch: utilityInventoryLauncher(worker),
      }),
    ).rejects.toThrow(/did not finish within 3 s/);
    const pid = hungPid(dir, 'si');
    expect(pid).toBeGreaterThan(0);
    await electron.until(
      () => !alive(pid!),
      10_000,
      `the hung nvidia-smi (pid ${pid}) to be killed`,
    );
    const child = electron.fake.utilityProcesses.at(-1)!;
    await electron.until(
      () => child.child.exitCode !== null || child.child.signalCode !== null,
      10_000,
      'the utility process to end',
    );
  });
});
