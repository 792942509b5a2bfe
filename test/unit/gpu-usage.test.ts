import { describe, expect, it } from 'vitest';
import { attribute, modelUsage } from '../../main/core/gpu/usage.js';
import { summarizeInventory } from '../../main/core/gpu/inventory.js';
import { sampleIntervalMs, historyCapacity, shouldRefresh } from '../../main/core/gpu/cadence.js';
import { History } from '../../main/core/gpu/history.js';

const MiB = 1024 * 1024;

describe('per-model usage from /api/ps', () => {
  it('splits VRAM and CPU, and flags a spill', () => {
    const models = modelUsage([
      {
        name: 'qwen2.5:32b',
        sizeBytes: 23_000 * MiB,
        vramBytes: 11_000 * MiB,
        expiresAt: '2026-01-01T00:05:00Z',
      },
      { name: 'mistral:7b', sizeBytes: 5_600 * MiB, vramBytes: 5_600 * MiB, expiresAt: null },
    ]);
    expect(models).toEqual([
      {
        name: 'mistral:7b',
        service: 'ollama',
        vramMB: 5600,
        sizeMB: 5600,
        cpuMB: 0,
        spilled: false,
        expiresAt: null,
      },
      {
        name: 'qwen2.5:32b',
        service: 'ollama',
        vramMB: 11000,
        sizeMB: 23000,
        cpuMB: 12000,
        spilled: true,
        expiresAt: '2026-01-01T00:05:00Z',
      },
    ]);
  });

  it('a model all on the CPU (size_vram 0) is spilled; nonsense numbers are clamped', () => {
    const [m] = modelUsage([{ name: 'llama3.2:3b', sizeBytes: 3000 * MiB, vramBytes: 0 }]);
    expect(m).toMatchObject({ vramMB: 0, cpuMB: 3000, spilled: true });
    const [n] = modelUsage([{ name: 'x', sizeBytes: 100 * MiB, vramBytes: 200 * MiB }]);
    expect(n).toMatchObject({ vramMB: 100, cpuMB: 0, spilled: false });
  });
});

describe('per-pid attribution to supervised process trees', () => {
  it("sums each service over its tree; the rest is someone else's", () => {
    const trees = new Map([
      ['ollama', [100, 101, 102]],
      ['vibevoice', [200]],
      ['piper', [300]],
    ]);
    const r = attribute(
      [
        { pid: 101, usedMB: 5400 }, // ollama's runner (a grandchild)
        { pid: 102, usedMB: 300 },
        { pid: 200, usedMB: 2600 },
        { pid: 999, usedMB: 1800 }, // a game
      ],
      trees,
    );
    expect(r.services).toEqual([
      { service: 'ollama', vramMB: 5700 },
      { service: 'vibevoice', vramMB: 2600 },
    ]);
    expect(r.otherMB).toBe(1800);
  });

  it('Windows [N/A] amounts: the process is ours, its amount unmeasured', () => {
    const r = attribute(
      [
        { pid: 7, usedMB: null },
        { pid: 8, usedMB: 100 },
      ],
      new Map([['ollama', [7, 8]]]),
    );
    expect(r.services).toEqual([{ service: 'ollama', vramMB: 100, unmeasured: 1 }]);
  });
});

describe('inventory summary', () => {
  it('NVIDIA on Linux: total from nvidia-smi, not the PCI aperture', () => {
    const inv = summarizeInventory({
      platform: 'linux',
      arch: 'x64',
      memTotalBytes: 32 * 1024 * MiB,
      controllers: [
        { vendor: 'Intel Corporation', model: 'AlderLake-S GT1', vram: 256, vramDynamic: false },
        {
          vendor: 'NVIDIA Corporation',
          model: 'GA106 [GeForce RTX 3060]',
          name: 'NVIDIA GeForce RTX 3060',
          vram: 12288,
          memoryTotal: 12288,
          busAddress: '01:00.0',
        },
        { vendor: 'NVIDIA Corporation', model: 'AD102', vram: 256 },
      ],
    });
    expect(inv.appleSilicon).toBe(false);
    expect(inv.ramTotalMB).toBe(32768);
    expect(inv.gpus).toEqual([
      { name: 'AlderLake-S GT1', vendor: 'Intel', vramTotalMB: null, unified: false },
      {
        name: 'NVIDIA GeForce RTX 3060',
        vendor: 'NVIDIA',
        vramTotalMB: 12288,
        unified: false,
        busAddress: '01:00.0',
      },
      { name: 'AD102', vendor: 'NVIDIA', vramTotalMB: null, unified: false },
    ]);
  });

  it('Apple silicon: one unified GPU whose total is the usable share of RAM', () => {
    const inv = summarizeInventory({
      platform: 'darwin',
      arch: 'arm64',
      memTotalBytes: 64 * 1024 * MiB,
      controllers: [
        { vendor: 'Apple', model: 'Apple M2 Max', vram: null, vramDynamic: true, cores: 38 },
      ],
      wiredLimitMB: 0,
    });
    expect(inv.appleSilicon).toBe(true);
    expect(inv.unifiedCeiling).toEqual({ mb: 49152, source: 'default share', share: 0.75 });
    expect(inv.gpus).toEqual([
      { name: 'Apple M2 Max', vendor: 'Apple', vramTotalMB: 49152, unified: true },
    ]);
  });

  it('Apple silicon with no controller listed still gets its unified GPU', () => {
    const inv = summarizeInventory({
      platform: 'darwin',
      arch: 'arm64',
      memTotalBytes: 16 * 1024 * MiB,
      controllers: [],
    });
    expect(inv.gpus).toEqual([
      { name: 'Apple silicon GPU', vendor: 'Apple', vramTotalMB: 10923, unified: true },
    ]);
  });
});

describe('cadence and history', () => {
  const gpu = { activeIntervalSeconds: 2, warmIntervalSeconds: 10, coldIntervalSeconds: 60 };
  it('follows hibernation: 2 s active, 10 s warm, 60 s cool/cold/dormant', () => {
    expect(sampleIntervalMs('active', gpu)).toBe(2000);
    expect(sampleIntervalMs('warm', gpu)).toBe(10_000);
    for (const s of ['cool', 'cold', 'dormant'] as const)
      expect(sampleIntervalMs(s, gpu)).toBe(60_000);
  });

  it('the ring holds 10 minutes at the active cadence, oldest dropped first', () => {
    expect(historyCapacity(gpu)).toBe(300);
    const h = new History(3);
    for (let t = 1; t <= 5; t++) h.push({ t, usedMB: [t], utilPct: [null] });
    expect(h.points().map((p) => p.t)).toEqual([3, 4, 5]);
    expect(h.points(3).map((p) => p.t)).toEqual([4, 5]);
    expect(h.points(-Infinity, 1).map((p) => p.t)).toEqual([5]);
    h.resize(2);
    expect(h.points().map((p) => p.t)).toEqual([4, 5]);
  });

  it('re-reads the process list and /api/ps only when VRAM moved, the key changed, or 30 s passed', () => {
    const prev = { at: 0, usedMB: 6000, key: 'ollama:1' };
    expect(shouldRefresh(null, prev)).toBe(true);
    expect(shouldRefresh(prev, { at: 2000, usedMB: 6010, key: 'ollama:1' })).toBe(false);
    expect(shouldRefresh(prev, { at: 2000, usedMB: 6064, key: 'ollama:1' })).toBe(true);
    expect(shouldRefresh(prev, { at: 2000, usedMB: 5000, key: 'ollama:1' })).toBe(true);
    expect(shouldRefresh(prev, { at: 2000, usedMB: 6000, key: 'ollama:2' })).toBe(true);
    expect(shouldRefresh(prev, { at: 30_000, usedMB: 6000, key: 'ollama:1' })).toBe(true);
    expect(shouldRefresh(prev, { at: 2000, usedMB: null, key: 'ollama:1' })).toBe(true);
  });
});

describe("Metal's GPU share from Ollama's log", () => {
  it('reads total= of a Metal "inference compute" line (old and new field sets), nothing else', async () => {
    const { metalTotalFromLog } = await import('../../main/core/gpu/unified.js');
    // Ollama 0.5-era and 0.12-era lines (the desktop app greps the same line: app/server/server.go).
    expect(
      metalTotalFromLog(
        'time=2025-01-10T10:00:00.000+01:00 level=INFO source=types.go:131 msg="inference compute" id=0 library=metal variant="" compute="" driver=0.0 name="" total="96.0 GiB" available="96.0 GiB"',
      ),
    ).toBe(98304);
    expect(
      metalTotalFromLog(
        'time=2025-10-01T10:00:00.000Z level=INFO source=types.go:42 msg="inference compute" id=0 filter_id="" library=Metal compute=0.0 name=Metal description="Apple M4 Max" libdirs="" driver=0.0 pci_id="" type=discrete total="107.5 GiB" available="107.5 GiB"',
      ),
    ).toBe(110080);
    expect(
      metalTotalFromLog('msg="inference compute" id=GPU-1 library=CUDA total="11.6 GiB"'),
    ).toBeNull();
    expect(metalTotalFromLog('msg="server config" total="1 GiB"')).toBeNull();
  });
});
