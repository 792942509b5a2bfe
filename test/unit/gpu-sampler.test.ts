// The sampler with every IO faked: nvidia-smi answers, Ollama, the supervisor, the clock.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GpuSampler, type OllamaReader, type SmiRunner } from '../../main/core/gpu/sampler.js';
import type { RawInventory } from '../../main/core/gpu/inventory.js';
import type { GpuQuery, RunResult } from '../../main/core/gpu/nvidia-smi.js';
import { StateStore, type Sections } from '../../main/core/state/store.js';
import { SettingsStore } from '../../main/core/settings/index.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { ManualClock, settle } from '../helpers/manual-clock.js';
import type { HibernationState, ServiceEntry } from '../../main/core/contract.js';
import { appsOut, gpuOut, type FakeGpu } from '../fixtures/bin/scenario.js';

const MiB = 1024 * 1024;

const RTX3060: FakeGpu = {
  index: 0,
  name: 'NVIDIA GeForce RTX 3060',
  totalMB: 12288,
  usedMB: 7900,
  util: 35,
  tempC: 54,
  powerW: 41.5,
};
const RTX4090: FakeGpu = {
  index: 1,
  name: 'NVIDIA GeForce RTX 4090',
  totalMB: 24564,
  usedMB: 0,
  util: 0,
  tempC: 31,
  powerW: 12,
};

const linuxInventory = (gpus: FakeGpu[]): RawInventory => ({
  platform: 'linux',
  arch: 'x64',
  memTotalBytes: 32768 * MiB,
  controllers: gpus.map((g) => ({
    vendor: 'NVIDIA Corporation',
    model: 'GA106',
    name: g.name,
    memoryTotal: Number(g.totalMB),
  })),
});

const appleInventory: RawInventory = {
  platform: 'darwin',
  arch: 'arm64',
  memTotalBytes: 32768 * MiB,
  controllers: [{ vendor: 'Apple', model: 'Apple M2 Max', vram: null, vramDynamic: true }],
  wiredLimitMB: 0,
};

/** Scripted nvidia-smi: an answer per query kind, and a log of calls. */
class FakeSmi implements SmiRunner {
  gpu: RunResult = { ok: true, stdout: gpuOut([RTX3060]) };
  apps: RunResult = { ok: true, stdout: '' };
  calls: string[] = [];
  gate: Promise<void> | null = null;
  async run(args: readonly string[]): Promise<RunResult> {
    const kind = args[0]!.startsWith('--query-compute-apps') ? 'apps' : 'gpu';
    this.calls.push(kind);
    if (this.gate) await this.gate;
    return kind === 'apps' ? this.apps : this.gpu;
  }
}

class FakeOllama implements OllamaReader {
  psCalls = 0;
  loaded: { name: string; sizeBytes: number; vramBytes: number; expiresAt: string | null }[] = [];
  installed: { name: string; sizeBytes: number }[] = [
    { name: 'mistral:7b', sizeBytes: 4_372_824_384 },
  ];
  down = false;
  /** Ollama ≥ 0.32.10 while a model loads: /api/ps does not answer before the reader's timeout. */
  psBlocked = false;
  async listLoaded() {
    this.psCalls++;
    if (this.down) throw new Error('connect ECONNREFUSED');
    if (this.psBlocked)
      throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    return this.loaded;
  }
  async listInstalled() {
    if (this.down) throw new Error('connect ECONNREFUSED');
    return this.installed;
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup(
  opts: {
    inventory?: RawInventory | Error;
    smi?: string | null;
    preload?: string[];
    services?: ServiceEntry[];
    trees?: Record<string, number[]>;
    modelsHint?: () => string;
    gpuQuery?: () => GpuQuery;
    metalTotalMB?: () => number | null;
  } = {},
) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-sampler-'));
  dirs.push(dataDir);
  const { store: settings } = SettingsStore.open({
    dataDir,
    facts: { platform: 'linux', hostname: 'test' },
  });
  if (opts.preload) settings.update({ models: { preload: opts.preload } });
  const clock = new ManualClock();
  const initial: Sections = {
    host: { id: 'a', name: 'A', platform: 'linux', role: 'fallback', prio: 100, serving: true },
    hibernation: { state: 'active', idleSeconds: 0, next: null },
    services: opts.services ?? [],
    gpu: { sampledAt: null, gpus: [], models: [] },
    peers: [],
  };
  const store = new StateStore(initial, clock.now);
  const smi = new FakeSmi();
  const ollama = new FakeOllama();
  const inv = opts.inventory ?? linuxInventory([RTX3060]);
  const trees = opts.trees ?? {};
  const sampler = new GpuSampler({
    ctx: { store, settings, logger: nullLogger, clock },
    readInventory: async () => {
      if (inv instanceof Error) throw inv;
      return inv;
    },
    locateSmi: async () => (opts.smi === undefined ? '/fake/nvidia-smi' : opts.smi),
    smiRunner: () => smi,
    ollama,
    supervisor: () => ({
      processTree: async (id: string) => trees[id] ?? [],
      baseUrl: (id: string) => (id === 'ollama' ? 'http://127.0.0.1:11434' : null),
    }),
    ...(opts.modelsHint ? { modelsHint: opts.modelsHint } : {}),
    ...(opts.gpuQuery ? { gpuQuery: opts.gpuQuery } : {}),
    ...(opts.metalTotalMB ? { metalTotalMB: opts.metalTotalMB } : {}),
  });
  return { sampler, store, settings, clock, smi, ollama };
}

const svc = (id: string, pid: number, enabled = true): ServiceEntry => ({
  id,
  name: id,
  enabled,
  status: 'running',
  port: 1,
  pid,
  restarts: 0,
  uptimeSeconds: 1,
  health: { ok: true, latencyMs: 1 },
  lastError: null,
});

describe('GpuSampler', () => {
  it('one GPU: live usage from nvidia-smi, models from Ollama, advice and a history point', async () => {
    const { sampler, store, ollama } = setup({ preload: ['mistral:7b'] });
    ollama.loaded = [
      {
        name: 'mistral:7b',
        sizeBytes: 5600 * MiB,
        vramBytes: 5600 * MiB,
        expiresAt: '2026-01-01T00:05:00.000Z',
      },
    ];
    await sampler.refreshInventory(); // reads the inventory, then samples once
    const gpu = store.get('gpu');
    expect(gpu.error).toBeNull();
    expect(gpu.sampledAt).toBe('2026-01-01T00:00:00.000Z');
    expect(gpu.gpus).toEqual([
      {
        name: 'NVIDIA GeForce RTX 3060',
        vendor: 'NVIDIA',
        vramTotalMB: 12288,
        vramUsedMB: 7900,
        unified: false,
        index: 0,
        utilizationPct: 35,
        temperatureC: 54,
        powerW: 41.5,
      },
    ]);
    expect(gpu.models).toEqual([
      {
        name: 'mistral:7b',
        service: 'ollama',
        vramMB: 5600,
        sizeMB: 5600,
        cpuMB: 0,
        spilled: false,
        expiresAt: '2026-01-01T00:05:00.000Z',
      },
    ]);
    // mistral is loaded: its real size (5600) counts, plus VibeVoice's reference 2.5 GB.
    expect(gpu.advice).toMatchObject({
      level: 'ok',
      fits: true,
      message: 'mistral:7b + VibeVoice: 7.8 of 12 GB',
    });
    expect(gpu.recent).toEqual([{ t: Date.UTC(2026, 0, 1), usedMB: [7900], utilPct: [35] }]);
    expect(gpu.intervalSeconds).toBe(2);
  });

  it('two GPUs, the idle one reading 0 MiB (not missing)', async () => {
    const { sampler, store, smi } = setup({ inventory: linuxInventory([RTX3060, RTX4090]) });
    smi.gpu = { ok: true, stdout: gpuOut([RTX3060, RTX4090]) };
    await sampler.refreshInventory();
    await sampler.sampleNow();
    const gpu = store.get('gpu');
    expect(gpu.gpus.map((g) => [g.index, g.vramTotalMB, g.vramUsedMB, g.utilizationPct])).toEqual([
      [0, 12288, 7900, 35],
      [1, 24564, 0, 0],
    ]);
    expect(gpu.recent![0]!.usedMB).toEqual([7900, 0]);
    expect(gpu.advice!.availableMB).toBe(12288 + 24564);
  });

  it('N/A fields stay null in the section', async () => {
    const { sampler, store, smi } = setup();
    smi.gpu = {
      ok: true,
      stdout: '0, NVIDIA GeForce RTX 3060, 12288, 1200, [N/A], [Not Supported], [N/A]\n',
    };
    await sampler.sampleNow();
    expect(store.get('gpu').gpus[0]).toMatchObject({
      vramUsedMB: 1200,
      utilizationPct: null,
      temperatureC: null,
      powerW: null,
    });
  });

  it('a failing nvidia-smi: "unavailable: <why>", and models and advice keep working', async () => {
    const { sampler, store, smi, ollama } = setup();
    ollama.loaded = [
      { name: 'mistral:7b', sizeBytes: 5600 * MiB, vramBytes: 5600 * MiB, expiresAt: null },
    ];
    smi.gpu = {
      ok: false,
      why: "nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    };
    await sampler.refreshInventory();
    await sampler.sampleNow();
    const gpu = store.get('gpu');
    expect(gpu.error).toBe(
      "unavailable: nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    );
    // The inventory still knows the card; live numbers are unknown.
    expect(gpu.gpus).toEqual([
      {
        name: 'NVIDIA GeForce RTX 3060',
        vendor: 'NVIDIA',
        vramTotalMB: 12288,
        vramUsedMB: null,
        unified: false,
        index: 0,
      },
    ]);
    expect(gpu.models.map((m) => m.name)).toEqual(['mistral:7b']);
    expect(gpu.advice?.level).toBe('ok');
    expect(gpu.recent![0]!.usedMB).toEqual([null]);
  });

  it('garbage from nvidia-smi and a timeout read as unavailable too', async () => {
    const { sampler, store, smi } = setup();
    smi.gpu = { ok: true, stdout: 'Segmentation fault\n' };
    await sampler.sampleNow();
    expect(store.get('gpu').error).toBe(
      'unavailable: unexpected nvidia-smi output: "Segmentation fault"',
    );
    smi.gpu = { ok: false, why: 'nvidia-smi did not answer within 3 s (stopped it)' };
    await sampler.sampleNow();
    expect(store.get('gpu').error).toBe(
      'unavailable: nvidia-smi did not answer within 3 s (stopped it)',
    );
    smi.gpu = { ok: true, stdout: gpuOut([RTX3060]) };
    await sampler.sampleNow();
    expect(store.get('gpu').error).toBeNull();
  });

  it('an NVIDIA card without nvidia-smi says so', async () => {
    const { sampler, store } = setup({ smi: null });
    await sampler.refreshInventory();
    expect(store.get('gpu').error).toBe(
      'unavailable: nvidia-smi not found (is the NVIDIA driver installed?)',
    );
  });

  it('no GPU at all: no error, advice says the CPU runs the models', async () => {
    const { sampler, store } = setup({
      smi: null,
      inventory: { platform: 'linux', arch: 'x64', memTotalBytes: 8192 * MiB, controllers: [] },
    });
    await sampler.refreshInventory();
    const gpu = store.get('gpu');
    expect(gpu.error).toBeNull();
    expect(gpu.gpus).toEqual([]);
    expect(gpu.advice).toMatchObject({ level: 'unknown', fits: false });
  });

  it('per-pid attribution: VRAM by supervised service, the rest is other programs', async () => {
    const { sampler, store, smi } = setup({
      services: [svc('ollama', 100), svc('vibevoice', 200), svc('piper', 300)],
      trees: { ollama: [100, 150, 151], vibevoice: [200, 201], piper: [300] },
    });
    smi.gpu = { ok: true, stdout: gpuOut([{ ...RTX3060, usedMB: 9000 }]) };
    smi.apps = { ok: true, stdout: '151, 5400\n201, 2500\n4242, 700\n' };
    await sampler.sampleNow();
    const gpu = store.get('gpu');
    expect(gpu.services).toEqual([
      { service: 'ollama', vramMB: 5400 },
      { service: 'vibevoice', vramMB: 2500 },
    ]);
    expect(gpu.otherMB).toBe(9000 - 5400 - 2500);
    // VibeVoice's measured VRAM replaces the reference estimate in the advice.
    expect(gpu.advice!.items!.find((i) => i.name === 'VibeVoice')).toMatchObject({
      mb: 2500,
      source: 'measured',
    });
    expect(smi.calls).toEqual(['gpu', 'apps']);
  });

  it('Windows (WDDM, every used_memory [N/A]): Ollama\'s VRAM comes from /api/ps, and ours are never "other programs"', async () => {
    const { sampler, store, smi, ollama } = setup({
      preload: ['mistral:7b'],
      services: [svc('ollama', 100), svc('piper', 300)],
      trees: { ollama: [100, 151], piper: [300] },
    });
    smi.gpu = { ok: true, stdout: gpuOut([{ ...RTX3060, usedMB: 6000 }]) };
    smi.apps = {
      ok: true,
      stdout: appsOut(
        [
          { pid: 151, usedMB: 4200 },
          { pid: 4242, usedMB: 1800 },
        ],
        { wddm: true },
      ),
    };
    ollama.loaded = [
      { name: 'mistral:7b', sizeBytes: 4200 * MiB, vramBytes: 4200 * MiB, expiresAt: null },
    ];
    await sampler.sampleNow();
    const gpu = store.get('gpu');
    expect(gpu.services).toEqual([{ service: 'ollama', vramMB: 4200 }]);
    expect(gpu.otherMB).toBe(6000 - 4200);
  });

  it('WDDM with VibeVoice running too: its share is unknown, so nobody is told to close other programs', async () => {
    const { sampler, store, smi, ollama } = setup({
      preload: ['qwen2.5:7b'],
      services: [svc('ollama', 100), svc('vibevoice', 200)],
      trees: { ollama: [100, 151], vibevoice: [200] },
    });
    smi.gpu = { ok: true, stdout: gpuOut([{ ...RTX3060, usedMB: 11000 }]) };
    smi.apps = {
      ok: true,
      stdout: appsOut(
        [
          { pid: 151, usedMB: 0 },
          { pid: 200, usedMB: 0 },
        ],
        { wddm: true },
      ),
    };
    ollama.loaded = [
      { name: 'qwen2.5:7b', sizeBytes: 5600 * MiB, vramBytes: 5600 * MiB, expiresAt: null },
    ];
    await sampler.sampleNow();
    const gpu = store.get('gpu');
    expect(gpu.services).toEqual([
      { service: 'ollama', vramMB: 5600 },
      { service: 'vibevoice', vramMB: 0, unmeasured: 1 },
    ]);
    expect(gpu.otherMB).toBeNull();
    expect(gpu.advice!.warnings!.join(' ')).not.toMatch(/Other programs/);
  });

  it("the advice and the by-service bar use one split (nvidia-smi did not list Ollama's runner)", async () => {
    // Seen on the dashboard: "Other programs hold 6 GB … close them" next to a bar showing Ollama
    // 4.1 GB and other programs 1.9 GB.
    const { sampler, store, smi, ollama, settings } = setup({
      preload: ['qwen2.5:7b', 'llama3.2:3b'],
      services: [svc('ollama', 100)],
      trees: { ollama: [100] },
    });
    settings.update({ services: { vibevoice: { enabled: false } } });
    smi.gpu = { ok: true, stdout: gpuOut([{ ...RTX3060, totalMB: 8192, usedMB: 6144 }]) };
    smi.apps = { ok: true, stdout: appsOut([{ pid: 4242, usedMB: 1946 }]) };
    ollama.loaded = [
      { name: 'qwen2.5:7b', sizeBytes: 4198 * MiB, vramBytes: 4198 * MiB, expiresAt: null },
    ];
    await sampler.sampleNow();
    const gpu = store.get('gpu');
    expect(gpu.services).toEqual([{ service: 'ollama', vramMB: 4198 }]);
    expect(gpu.otherMB).toBe(1946);
    const w = gpu.advice!.warnings!.find((x) => x.startsWith('Other programs'));
    expect(w).toBe(
      'Other programs hold 1.9 GB of VRAM right now; close them or the models will spill to the CPU.',
    );
  });

  it('re-reads the process list and /api/ps only when VRAM in use moves (or after 5 min and 30 s)', async () => {
    const { sampler, store, smi, ollama, clock } = setup({
      services: [svc('ollama', 100)],
      trees: { ollama: [100, 150] },
    });
    smi.apps = { ok: true, stdout: '150, 5400\n' };
    await sampler.sampleNow();
    expect([smi.calls, ollama.psCalls]).toEqual([['gpu', 'apps'], 1]);
    clock.t += 2000;
    await sampler.sampleNow();
    expect([smi.calls, ollama.psCalls]).toEqual([['gpu', 'apps', 'gpu'], 1]);
    // Kept from the last read meanwhile.
    expect(store.get('gpu').services).toEqual([{ service: 'ollama', vramMB: 5400 }]);
    // A model loads: VRAM in use jumps, so both are read again.
    smi.gpu = { ok: true, stdout: gpuOut([{ ...RTX3060, usedMB: 7900 + 3000 }]) };
    ollama.loaded = [
      { name: 'llama3.2:3b', sizeBytes: 3000 * MiB, vramBytes: 3000 * MiB, expiresAt: null },
    ];
    clock.t += 2000;
    await sampler.sampleNow();
    expect([smi.calls.length, ollama.psCalls]).toEqual([5, 2]);
    expect(store.get('gpu').models.map((m) => m.name)).toEqual(['llama3.2:3b']);
    // Nothing moves for 30 s: /api/ps (one HTTP request) is read again anyway, the process list
    // (a nvidia-smi start) only after 5 minutes.
    clock.t += 30_000;
    await sampler.sampleNow();
    expect([smi.calls.length, ollama.psCalls]).toEqual([6, 3]);
    clock.t += 270_000;
    await sampler.sampleNow();
    expect([smi.calls.slice(6), ollama.psCalls]).toEqual([['gpu', 'apps'], 4]);
  });

  it('re-reads /api/ps at once when another reader saw the loaded models change, though VRAM did not move', async () => {
    // A model that spills to the CPU, or any model while nvidia-smi's figure stays put (the fake
    // GPU of the dashboard test), moves no VRAM: hibernation's /api/ps poll is the hint.
    let seen = '';
    const { sampler, store, ollama, clock } = setup({
      services: [svc('ollama', 100)],
      modelsHint: () => seen,
    });
    await sampler.sampleNow();
    expect([ollama.psCalls, store.get('gpu').models]).toEqual([1, []]);
    ollama.loaded = [
      { name: 'mistral:7b', sizeBytes: 5600 * MiB, vramBytes: 5600 * MiB, expiresAt: null },
    ];
    clock.t += 2000;
    await sampler.sampleNow();
    expect(ollama.psCalls).toBe(1);
    seen = 'mistral:7b';
    clock.t += 2000;
    await sampler.sampleNow();
    expect(ollama.psCalls).toBe(2);
    expect(store.get('gpu').models.map((m) => m.name)).toEqual(['mistral:7b']);
    // Unchanged hint: kept again.
    clock.t += 2000;
    await sampler.sampleNow();
    expect(ollama.psCalls).toBe(2);
  });

  it('keeps the model list while /api/ps does not answer (a model is loading), and asks again next sample', async () => {
    let seen = 'mistral:7b';
    const { sampler, store, ollama, clock } = setup({
      services: [svc('ollama', 100)],
      modelsHint: () => seen,
    });
    ollama.loaded = [
      { name: 'mistral:7b', sizeBytes: 5600 * MiB, vramBytes: 5600 * MiB, expiresAt: null },
    ];
    await sampler.sampleNow();
    expect(store.get('gpu').models.map((m) => m.name)).toEqual(['mistral:7b']);
    ollama.psBlocked = true;
    seen = 'mistral:7b,qwen2.5:7b';
    clock.t += 2000;
    await sampler.sampleNow();
    expect(store.get('gpu').models.map((m) => m.name)).toEqual(['mistral:7b']);
    ollama.psBlocked = false;
    ollama.loaded.push({
      name: 'qwen2.5:7b',
      sizeBytes: 4700 * MiB,
      vramBytes: 4700 * MiB,
      expiresAt: null,
    });
    clock.t += 2000;
    await sampler.sampleNow();
    expect(store.get('gpu').models.map((m) => m.name)).toEqual(['mistral:7b', 'qwen2.5:7b']);
  });

  it('skips the compute-apps query while none of our services runs', async () => {
    const { sampler, store, smi } = setup({
      services: [{ ...svc('ollama', 1), status: 'stopped', pid: null }],
    });
    await sampler.sampleNow();
    expect(smi.calls).toEqual(['gpu']);
    expect(store.get('gpu').otherMB).toBe(7900);
  });

  it('an adopted external Ollama (no pid of ours): its models are not counted as other programs', async () => {
    const { sampler, store, ollama } = setup({
      services: [{ ...svc('ollama', 1), status: 'external', pid: null }],
    });
    ollama.loaded = [
      { name: 'mistral:7b', sizeBytes: 5600 * MiB, vramBytes: 5600 * MiB, expiresAt: null },
    ];
    await sampler.sampleNow();
    expect(store.get('gpu').otherMB).toBe(7900 - 5600);
  });

  it('Apple silicon: unified memory, ceiling from RAM, usage from /api/ps size_vram', async () => {
    const { sampler, store, ollama, smi } = setup({
      inventory: appleInventory,
      smi: null,
      preload: ['mistral:7b'],
    });
    ollama.loaded = [
      { name: 'mistral:7b', sizeBytes: 5600 * MiB, vramBytes: 5000 * MiB, expiresAt: null },
    ];
    await sampler.refreshInventory();
    const gpu = store.get('gpu');
    expect(gpu.error).toBeNull();
    expect(gpu.gpus).toEqual([
      {
        name: 'Apple M2 Max',
        vendor: 'Apple',
        vramTotalMB: 21845,
        vramUsedMB: 5000,
        unified: true,
        unifiedMemoryMB: 32768,
      },
    ]);
    expect(gpu.models[0]).toMatchObject({ vramMB: 5000, cpuMB: 600, spilled: true });
    expect(gpu.advice!.message).toMatch(
      /^mistral:7b \+ VibeVoice: .* of 21\.3 GB \(unified memory the GPU may use\)$/,
    );
    expect(smi.calls).toEqual([]);
  });

  it("Apple silicon: what Metal reports (through Ollama's log) replaces the 2/3–3/4 rule", async () => {
    // macOS 26 lets the GPU wire more than the rule says: the fit advice must use what Metal allows.
    const { sampler, store } = setup({
      inventory: appleInventory,
      smi: null,
      metalTotalMB: () => 27_000,
    });
    await sampler.refreshInventory();
    expect(store.get('gpu').gpus[0]).toMatchObject({ vramTotalMB: 27_000, unified: true });
    expect(store.get('gpu').advice!.availableMB).toBe(27_000);
  });

  it('an Ollama that is down leaves models empty and the GPU numbers intact', async () => {
    const { sampler, store, ollama } = setup();
    ollama.down = true;
    await sampler.sampleNow();
    expect(store.get('gpu')).toMatchObject({ error: null, models: [] });
    expect(store.get('gpu').gpus[0]!.vramUsedMB).toBe(7900);
  });

  it('never runs two samples at once: a second call joins the first', async () => {
    const { sampler, smi } = setup();
    let open!: () => void;
    smi.gate = new Promise((r) => (open = r));
    const a = sampler.sampleNow();
    const b = sampler.sampleNow();
    expect(a).toBe(b);
    await settle();
    expect(smi.calls).toEqual(['gpu']);
    open();
    await a;
    await sampler.sampleNow();
    expect(smi.calls).toEqual(['gpu', 'gpu']);
  });

  it('cadence follows hibernation: 2 s active, 10 s warm, 60 s cool; a change applies at once', async () => {
    const { sampler, store, clock, smi } = setup();
    const setState = async (state: HibernationState) => {
      store.update('hibernation', (h) => ({ ...h, state }));
      await settle();
    };
    sampler.start();
    await clock.advance(0);
    await settle();
    const first = smi.calls.filter((c) => c === 'gpu').length;
    expect(first).toBeGreaterThanOrEqual(1);
    expect(clock.pending()).toEqual([2000]);

    await setState('warm');
    expect(clock.pending()).toEqual([10_000]);
    await clock.advance(10_000);
    expect(clock.pending()).toEqual([10_000]);

    await setState('cool');
    expect(clock.pending()).toEqual([60_000]);
    await clock.advance(60_000);
    expect(clock.pending()).toEqual([60_000]);
    expect(store.get('gpu').intervalSeconds).toBe(60);

    // Back to active 5 s into a 60 s wait: the next sample is due at once (2 s after the last).
    await clock.advance(5_000);
    await setState('active');
    expect(clock.pending()).toEqual([0]);
    const before = smi.calls.length;
    await clock.advance(0);
    expect(smi.calls.length).toBe(before + 1);
    expect(clock.pending()).toEqual([2000]);

    sampler.stop();
    expect(clock.pending()).toEqual([]);
  });

  it('cold and dormant: no timer and no looping nvidia-smi; a sample on demand runs nvidia-smi once', async () => {
    // Optimus laptops: any nvidia-smi query wakes the discrete GPU and a looping one keeps it awake.
    const loop = {
      reads: 0,
      stops: 0,
      read: async () => (loop.reads++, { ok: true as const, stdout: gpuOut([RTX3060]) }),
      stop: () => void loop.stops++,
    };
    const { sampler, store, clock, smi } = setup({ gpuQuery: () => loop });
    sampler.start();
    await clock.advance(0);
    await settle();
    expect([loop.reads, smi.calls]).toEqual([1, []]);
    store.update('hibernation', (h) => ({ ...h, state: 'cold' }));
    await settle();
    expect(clock.pending()).toEqual([]);
    expect(loop.stops).toBeGreaterThanOrEqual(1);
    // The snapshot says so at once, without reading the GPU.
    expect(store.get('gpu').onDemand).toBe(true);
    await clock.advance(600_000);
    expect([loop.reads, smi.calls]).toEqual([1, []]);
    // Someone opens the GPU panel and asks: one nvidia-smi that exits, not the loop.
    await sampler.sampleNow();
    expect([loop.reads, smi.calls]).toEqual([1, ['gpu']]);
    expect(store.get('gpu')).toMatchObject({
      onDemand: true,
      sampledAt: new Date(clock.now()).toISOString(),
    });
    expect(clock.pending()).toEqual([]);
    store.update('hibernation', (h) => ({ ...h, state: 'dormant' }));
    await settle();
    expect(clock.pending()).toEqual([]);
    // Wake a while later: the timer and the loop are back at once.
    await clock.advance(5_000);
    store.update('hibernation', (h) => ({ ...h, state: 'active' }));
    await settle();
    expect(clock.pending()).toEqual([0]);
    await clock.advance(0);
    await settle();
    expect(loop.reads).toBe(2);
    expect(store.get('gpu').onDemand).toBeUndefined();
    expect(clock.pending()).toEqual([2000]);
    sampler.stop();
  });

  it('history is bounded to 10 minutes at the active cadence', async () => {
    const { sampler, clock } = setup();
    for (let i = 0; i < 305; i++) {
      clock.t += 2000;
      await sampler.sampleNow();
    }
    const h = sampler.history();
    expect(h.capacity).toBe(300);
    expect(h.points).toHaveLength(300);
    expect(h.points.at(-1)!.t - h.points[0]!.t).toBe(299 * 2000);
    expect(sampler.history(h.points.at(-2)!.t).points).toHaveLength(1);
  });

  it('raises model_too_big once for a preloaded model that will not fit', async () => {
    const { sampler, store } = setup({ preload: ['mistral:7b', 'qwen2.5:32b'] });
    await sampler.refreshInventory();
    await sampler.sampleNow();
    await sampler.sampleNow();
    const notices = store.snapshot().notices.filter((n) => n.code === 'model_too_big');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.level).toBe('warning');
    expect(notices[0]!.message).toMatch(
      /^qwen2\.5:32b is too big for this GPU \(qwen2\.5:32b \+ VibeVoice: [\d.]+ of 12 GB\)\. It would run partly on the CPU/,
    );
    expect(notices[0]!.message).toMatch(/(qwen2\.5:7b|mistral:7b) fits: choose it in Settings/);
    expect(store.get('gpu').advice).toMatchObject({ level: 'too-big', fits: false });
    expect(sampler.checkModelFits('qwen2.5:32b').level).toBe('too-big');
    expect(sampler.checkModelFits('llama3.2:3b').level).toBe('ok');
  });

  it('a failed inventory is reported when nothing else is known', async () => {
    const { sampler, store } = setup({
      inventory: new Error(
        'GPU inventory did not finish within 20 s (a driver tool hung; stopped it)',
      ),
      smi: null,
    });
    await sampler.refreshInventory();
    expect(store.get('gpu').error).toBe(
      'unavailable: GPU inventory did not finish within 20 s (a driver tool hung; stopped it)',
    );
    expect(sampler.inventory().error).toMatch(/did not finish/);
  });

  it('a sample in flight when the sampler stops does not write', async () => {
    const { sampler, store, smi, clock } = setup();
    sampler.start();
    smi.gate = new Promise(() => {});
    await clock.advance(0);
    sampler.stop();
    expect(store.get('gpu').sampledAt).toBeNull();
  });
});
