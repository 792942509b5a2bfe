// The inventory through the real systeminformation (in its child process), with the fake lspci and
// nvidia-smi first on PATH. On Linux systeminformation runs `lspci -vvv` and merges its own 16-field
// nvidia-smi query into the controllers lspci listed (see node_modules/systeminformation/lib/graphics.js).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import {
  parseInventoryOutput,
  readInventory,
  summarizeInventory,
  type InventoryLauncher,
} from '../../main/core/gpu/inventory.js';
import { repoRoot } from '../helpers/headless.js';
import {
  fakeCalls,
  gpuEnv,
  hungPid,
  lspciOut,
  siOut,
  writeGpuScenario,
  type FakeGpu,
} from '../fixtures/bin/scenario.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function scenarioDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-inv-'));
  dirs.push(d);
  return d;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const linux = process.platform === 'linux';

// The fakes model the Linux code path; elsewhere this suite reports itself skipped.
describe.runIf(linux)('GPU inventory via systeminformation (Linux path)', () => {
  it("the Electron shell's worker prints the same inventory as the headless child", async () => {
    const dir = scenarioDir();
    const gpus: FakeGpu[] = [
      { index: 0, name: 'NVIDIA GeForce RTX 3060', totalMB: 12288, usedMB: 0 },
    ];
    writeGpuScenario(dir, { si: { out: siOut(gpus) }, lspci: lspciOut(gpus, true) });
    // The worker runs under tsx here, as a stand-in for Electron's utilityProcess.fork.
    const worker: InventoryLauncher = (env) => {
      const child = spawn(
        process.execPath,
        [
          path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'),
          path.join(repoRoot, 'main/shell/inventory-worker.ts'),
        ],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      return {
        done: new Promise((r) => child.on('close', (code) => r({ code, stdout, stderr }))),
        kill: () => child.kill('SIGKILL'),
      };
    };
    const viaWorker = await readInventory({ env: gpuEnv(dir), timeoutMs: 15_000, launch: worker });
    const viaNode = await readInventory({ env: gpuEnv(dir), timeoutMs: 15_000 });
    expect(viaWorker).toEqual(viaNode);
    expect(summarizeInventory(viaWorker).gpus.find((g) => g.vendor === 'NVIDIA')).toMatchObject({
      name: 'NVIDIA GeForce RTX 3060',
      vramTotalMB: 12288,
    });
    expect(() => parseInventoryOutput('not json')).toThrow();
  });

  it('two NVIDIA cards next to an Intel iGPU: names and totals from nvidia-smi, not the PCI aperture', async () => {
    const dir = scenarioDir();
    const gpus: FakeGpu[] = [
      { index: 0, name: 'NVIDIA GeForce RTX 3060', totalMB: 12288, usedMB: 0 },
      { index: 1, name: 'NVIDIA GeForce RTX 4090', totalMB: 24564, usedMB: 1500, bus: '02:00.0' },
    ];
    writeGpuScenario(dir, { si: { out: siOut(gpus) }, lspci: lspciOut(gpus, true) });
    const raw = await readInventory({ env: gpuEnv(dir), timeoutMs: 15_000 });
    const inv = summarizeInventory(raw);
    expect(inv.appleSilicon).toBe(false);
    expect(inv.ramTotalMB).toBe(Math.round(os.totalmem() / 1024 / 1024));
    expect(inv.gpus.filter((g) => g.vendor === 'NVIDIA')).toEqual([
      {
        name: 'NVIDIA GeForce RTX 3060',
        vendor: 'NVIDIA',
        vramTotalMB: 12288,
        unified: false,
        busAddress: '01:00.0',
      },
      {
        name: 'NVIDIA GeForce RTX 4090',
        vendor: 'NVIDIA',
        vramTotalMB: 24564,
        unified: false,
        busAddress: '02:00.0',
      },
    ]);
    expect(inv.gpus.find((g) => g.vendor === 'Intel')).toMatchObject({ vramTotalMB: null });
    expect(fakeCalls(dir).map((c) => c.kind)).toEqual(['lspci', 'si']);
  });

  it('a hung nvidia-smi inside systeminformation times out; the child and the hung tool are killed', async () => {
    const dir = scenarioDir();
    const gpus: FakeGpu[] = [
      { index: 0, name: 'NVIDIA GeForce RTX 3060', totalMB: 12288, usedMB: 0 },
    ];
    writeGpuScenario(dir, { si: { hang: true }, lspci: lspciOut(gpus) });
    const t0 = Date.now();
    await expect(readInventory({ env: gpuEnv(dir), timeoutMs: 2500 })).rejects.toThrow(
      'GPU inventory did not finish within 2.5 s (a driver tool hung; stopped it)',
    );
    expect(Date.now() - t0).toBeLessThan(6000);
    const pid = hungPid(dir, 'si');
    expect(pid).toBeGreaterThan(0);
    const deadline = Date.now() + 2000;
    while (alive(pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alive(pid!)).toBe(false);
  });

  it('no GPU tools at all: an empty, valid inventory', async () => {
    const dir = scenarioDir();
    writeGpuScenario(dir, { lspci: '' });
    const inv = summarizeInventory(await readInventory({ env: gpuEnv(dir), timeoutMs: 15_000 }));
    expect(inv.gpus).toEqual([]);
    expect(inv.ramTotalMB).toBeGreaterThan(0);
  });
});
