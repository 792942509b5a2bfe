// The whole core (headless, real child processes): fake nvidia-smi and lspci first on PATH, fake
// Ollama supervised. Checks the `gpu` section, per-pid attribution through the supervisor's process
// tree, the history and fit endpoints, the model_too_big notice, and that a failing or hung
// nvidia-smi only marks the GPU section unavailable.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startHeadless, type Headless } from '../helpers/headless.js';
import { fakeOllama, fakeState, freePort, post, until } from './supervisor-helpers.js';
import {
  fakeCalls,
  gpuEnv,
  gpuOut,
  hungPid,
  lspciOut,
  siOut,
  writeGpuScenario,
  type FakeGpu,
} from '../fixtures/bin/scenario.js';
import type { Snapshot } from '../../main/core/contract.js';

const RTX3060: FakeGpu = {
  index: 0,
  name: 'NVIDIA GeForce RTX 3060',
  totalMB: 12288,
  usedMB: 0,
  util: 0,
  tempC: 38,
  powerW: 15,
};

let h: Headless;
let dir: string;
let ollamaPort: number;

const status = async () => (await getJson(`${h.url}api/status`)).body as Snapshot;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-headless-'));
  writeGpuScenario(dir, {
    gpu: { out: gpuOut([RTX3060]) },
    apps: { out: '' },
    si: { out: siOut([RTX3060]) },
    lspci: lspciOut([RTX3060]),
  });
  ollamaPort = await freePort();
  h = await startHeadless({
    env: gpuEnv(dir),
    settings: {
      services: {
        ollama: fakeOllama(ollamaPort, { MODELS: 'mistral:7b,qwen2.5:32b,llama3.2:1b' }),
        vibevoice: { enabled: false },
        piper: { enabled: false },
        whisper: { enabled: false },
      },
      models: { preload: ['mistral:7b', 'qwen2.5:32b'] },
      // Stay `active` (2 s cadence) for the whole test.
      hibernation: {
        enabled: true,
        warmAfterSeconds: 600,
        coolAfterSeconds: 1200,
        coldAfterSeconds: 1800,
        dormantAfterSeconds: 7200,
      },
    },
  });
});

afterAll(async () => {
  await h?.stop();
  const pid = dir ? hungPid(dir, 'gpu') : null;
  if (pid) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('GPU telemetry in the headless core', () => {
  it('an idle card reads 0 MiB used, from the first samples on', async () => {
    const s = (await until(async () => {
      const snap = await status();
      return snap.gpu.gpus.length ? snap : null;
    }))!;
    expect(s.gpu.error).toBeNull();
    expect(s.gpu.gpus[0]).toMatchObject({
      name: 'NVIDIA GeForce RTX 3060',
      vendor: 'NVIDIA',
      vramTotalMB: 12288,
      vramUsedMB: 0,
      utilizationPct: 0,
      unified: false,
    });
    expect(s.gpu.intervalSeconds).toBe(2);
  });

  it('per model from /api/ps and per service from the supervised process tree', async () => {
    // Hibernation loads the models once Ollama is ready; make sure mistral is in.
    await until(
      async () => (await status()).services.find((x) => x.id === 'ollama')?.status === 'running',
      20_000,
    );
    await post(ollamaPort, '/api/generate', { model: 'mistral:7b', prompt: '', keep_alive: -1 });
    const state = (await until(async () => {
      const st = await fakeState(ollamaPort);
      return st.runners.length > 0 && st.loaded?.includes('mistral:7b') ? st : null;
    }))!;
    // nvidia-smi now lists Ollama's runner (a grandchild of the supervised process) and a stranger.
    writeGpuScenario(dir, {
      gpu: { out: gpuOut([{ ...RTX3060, usedMB: 6100, util: 40 }]) },
      apps: { out: `${state.runners[0]}, 5400\n999999, 700\n` },
    });
    const s = (await until(async () => {
      const snap = await status();
      // (Until nvidia-smi lists the runner, Ollama's share comes from /api/ps: wait for the per-pid figure.)
      return snap.gpu.services?.some((x) => x.service === 'ollama' && x.vramMB === 5400) &&
        snap.gpu.models.some((m) => m.name === 'mistral:7b')
        ? snap
        : null;
    }, 15_000))!;
    expect(s.gpu.services).toEqual([{ service: 'ollama', vramMB: 5400 }]);
    expect(s.gpu.otherMB).toBe(700);
    expect(s.gpu.gpus[0]!.vramUsedMB).toBe(6100);
    expect(s.gpu.models.find((m) => m.name === 'mistral:7b')).toMatchObject({
      service: 'ollama',
      spilled: false,
      cpuMB: 0,
      sizeMB: Math.round(4_372_824_384 / 1024 / 1024),
    });
  });

  it('a model that loads without moving the VRAM figure shows within one hibernation poll, not after 30 s', async () => {
    // As a model that spills to the CPU would: nvidia-smi keeps saying 6100 MiB, so only
    // hibernation's /api/ps poll (5 s while active) can tell the sampler to look again.
    await until(
      async () => (await status()).gpu.models.some((m) => m.name === 'mistral:7b'),
      15_000,
    );
    const t0 = Date.now();
    await post(ollamaPort, '/api/generate', { model: 'llama3.2:1b', prompt: '', keep_alive: -1 });
    await until(
      async () => (await status()).gpu.models.some((m) => m.name === 'llama3.2:1b'),
      20_000,
    );
    const ms = Date.now() - t0;
    console.log(
      `[gpu-headless] a model loaded with VRAM unchanged: in the GPU section after ${ms} ms`,
    );
    expect(ms).toBeLessThan(20_000);
    expect((await status()).gpu.gpus[0]!.vramUsedMB).toBe(6100);
  });

  it('advice in the snapshot, a model_too_big notice for qwen2.5:32b, and GET /api/gpu/fit', async () => {
    const s = await status();
    expect(s.gpu.advice?.message).toMatch(/^mistral:7b \+ qwen2\.5:32b: [\d.]+ of 12 GB — too big/);
    expect(s.gpu.advice?.level).toBe('too-big');
    const n = s.notices.filter((x) => x.code === 'model_too_big');
    expect(n).toHaveLength(1);
    expect(n[0]!.message).toMatch(/^qwen2\.5:32b is too big for this GPU/);

    const fit = await getJson(`${h.url}api/gpu/fit?model=qwen2.5:32b`);
    expect(fit.status).toBe(200);
    expect(fit.body).toMatchObject({
      model: 'qwen2.5:32b',
      level: 'too-big',
      fits: false,
      availableMB: 12288,
    });
    const ok = await getJson(`${h.url}api/gpu/fit?model=llama3.2:3b`);
    expect(ok.body).toMatchObject({ level: 'ok', fits: true });
    expect((await getJson(`${h.url}api/gpu/fit`)).status).toBe(400);
  });

  it('GET /api/gpu/history: the ring, and only newer points with ?since', async () => {
    const all = (await getJson(`${h.url}api/gpu/history`)).body as {
      intervalSeconds: number;
      capacity: number;
      points: { t: number; usedMB: (number | null)[] }[];
    };
    expect(all.intervalSeconds).toBe(2);
    expect(all.capacity).toBe(300);
    expect(all.points.length).toBeGreaterThanOrEqual(2);
    expect(all.points.every((p) => p.usedMB.length === 1)).toBe(true);
    const last = all.points.at(-1)!.t;
    const newer = (await getJson(`${h.url}api/gpu/history?since=${last}`)).body as {
      points: unknown[];
    };
    expect(newer.points.length).toBeLessThanOrEqual(1);
    expect((await getJson(`${h.url}api/gpu/history?since=abc`)).status).toBe(400);
    // The snapshot carries only a short recent slice.
    expect((await status()).gpu.recent!.length).toBeLessThanOrEqual(10);
  });

  it('a failing nvidia-smi: "unavailable: <why>", everything else keeps working', async () => {
    writeGpuScenario(dir, {
      gpu: {
        exit: 9,
        out: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
      },
    });
    const s = (await until(async () => {
      const snap = await status();
      return snap.gpu.error ? snap : null;
    }, 10_000))!;
    expect(s.gpu.error).toBe(
      "unavailable: nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    );
    expect(s.gpu.gpus[0]).toMatchObject({
      name: 'NVIDIA GeForce RTX 3060',
      vramTotalMB: 12288,
      vramUsedMB: null,
    });
    expect(s.gpu.models.map((m) => m.name)).toContain('mistral:7b');
    expect(s.services.find((x) => x.id === 'ollama')?.status).toBe('running');
    const health = await getJson(`${h.url}health`);
    expect(health.status).toBe(200);
  });

  it('a hung nvidia-smi times out (about 3 s) and is killed; recovery clears the error', async () => {
    writeGpuScenario(dir, { gpu: { hang: true } });
    const s = (await until(async () => {
      const snap = await status();
      return snap.gpu.error?.includes('did not answer') ? snap : null;
    }, 15_000))!;
    expect(s.gpu.error).toBe('unavailable: nvidia-smi did not answer within 3 s (stopped it)');
    // The API answered quickly all along (the event loop never blocked on the hang).
    const t0 = Date.now();
    expect((await getJson(`${h.url}health`)).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1000);
    const pid = hungPid(dir, 'gpu')!;
    await until(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 5000);

    writeGpuScenario(dir, { gpu: { out: gpuOut([RTX3060]) } });
    const back = (await until(async () => {
      const snap = await status();
      return snap.gpu.error === null ? snap : null;
    }, 10_000))!;
    expect(back.gpu.gpus[0]!.vramUsedMB).toBe(0);
  });

  it('cold: the looping nvidia-smi stops and nothing polls the GPU; POST /api/gpu/sample reads it once', async () => {
    const auth = { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' };
    const loopPids = () =>
      fakeCalls(dir)
        .filter((c) => c.kind === 'gpu' && c.loop)
        .map((c) => c.pid);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(loopPids().some(alive)).toBe(true); // active: one looping nvidia-smi
    expect(
      (
        await fetch(`${h.url}api/hibernation/hibernate`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ state: 'cold' }),
        })
      ).status,
    ).toBe(202);
    await until(async () => (await status()).gpu.onDemand === true || null, 10_000);
    await until(() => !loopPids().some(alive), 10_000);
    const before = fakeCalls(dir).length;
    const sampledAt = (await status()).gpu.sampledAt;
    await new Promise((r) => setTimeout(r, 4500)); // two active cadences: no nvidia-smi at all
    expect(fakeCalls(dir).length).toBe(before);
    expect((await fetch(`${h.url}api/gpu/sample`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${h.url}api/gpu/sample`, { method: 'POST', headers: auth })).status).toBe(
      204,
    );
    const after = fakeCalls(dir).slice(before);
    expect(after.map((c) => [c.kind, c.loop])).toEqual([['gpu', false]]);
    const s = await status();
    expect(s.gpu.sampledAt).not.toBe(sampledAt);
    expect(s.gpu.onDemand).toBe(true);
  });
});
