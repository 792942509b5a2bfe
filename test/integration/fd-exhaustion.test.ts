// Issue #20, finding 2: with the file descriptor table full, `spawn(nvidia-smi)` failed synchronously
// and gpu/nvidia-smi.ts touched `child.stdout` (null) before listening for `error`: the server exited 1
// and left its services orphaned. Here the headless server runs under `prlimit --nofile`; connections
// from many loopback addresses, to the control port and to the front door's LLM port, fill its table
// while the GPU sampler starts the fake nvidia-smi again every 2 s (its loop is made to exit) and the
// supervisor keeps checking. Once they close, the server must answer again, still owning the same
// service process.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startHeadless, type Headless } from '../helpers/headless.js';
import { fakeOllama, freePort, until } from './supervisor-helpers.js';
import {
  gpuEnv,
  gpuOut,
  lspciOut,
  siOut,
  writeGpuScenario,
  type FakeGpu,
} from '../fixtures/bin/scenario.js';
import type { Snapshot } from '../../main/core/contract.js';

const GPU: FakeGpu = {
  index: 0,
  name: 'NVIDIA GeForce RTX 3060',
  totalMB: 12288,
  usedMB: 0,
  util: 0,
  tempC: 38,
  powerW: 15,
};
const NOFILE = 200;

let h: Headless;
let dir: string;
let ollamaPort: number;
const sockets: net.Socket[] = [];

/** The node process that runs the core (tsx runs it as a child of its own CLI process). */
function serverPid(root: number): number {
  const kids = (pid: number): number[] => {
    try {
      return fs
        .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  // The deepest node process under the CLI that listens: the one holding the most descriptors.
  const all = [root, ...kids(root), ...kids(root).flatMap(kids)];
  const fds = (pid: number) => {
    try {
      return fs.readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      return -1;
    }
  };
  return all
    .filter((p) => /node/.test(fs.readFileSync(`/proc/${p}/comm`, 'utf8')))
    .sort((a, b) => fds(b) - fds(a))[0]!;
}

const fdCount = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-exhaustion-'));
  writeGpuScenario(dir, {
    gpu: { out: gpuOut([GPU]) },
    apps: { out: '' },
    si: { out: siOut([GPU]) },
    lspci: lspciOut([GPU]),
  });
  ollamaPort = await freePort();
  h = await startHeadless({
    prefix: ['prlimit', `--nofile=${NOFILE}:${NOFILE}`, '--'],
    env: gpuEnv(dir),
    settings: {
      services: {
        ollama: fakeOllama(ollamaPort),
        vibevoice: { enabled: false },
        piper: { enabled: false },
        whisper: { enabled: false },
      },
      hibernation: {
        enabled: true,
        warmAfterSeconds: 600,
        coolAfterSeconds: 1200,
        coldAfterSeconds: 1800,
        dormantAfterSeconds: 7200,
      },
    },
    timeoutMs: 40_000,
  });
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await h?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('file descriptor exhaustion', () => {
  it('is survived: the server answers again afterwards and still owns its service', async () => {
    const status = async () => (await getJson(`${h.url}api/status`)).body as Snapshot;
    const before = await until(async () => {
      const s = await status();
      const o = s.services.find((x) => x.id === 'ollama');
      return o?.status === 'running' && o.pid && s.gpu.gpus.length ? o : null;
    }, 30_000);
    const pid = serverPid(h.child.pid!);
    expect(fdCount(pid)).toBeLessThan(NOFILE - 40);

    // nvidia-smi's loop now exits at its next interval, so the sampler spawns it again every 2 s.
    fs.writeFileSync(path.join(dir, 'gpu.exit'), '1');
    // Fill the table: 20 connections per loopback address (under the per-source cap), until the
    // server holds NOFILE descriptors and the kernel queues the rest.
    let full = false;
    for (let src = 10; src < 60 && !full; src++) {
      await Promise.all(
        Array.from(
          { length: 20 },
          () =>
            new Promise<void>((resolve) => {
              // Half on the control port, half on the front door's (the public LLM port the phone calls).
              const s = net.connect({
                port: src % 2 ? h.port : ollamaPort,
                host: '127.0.0.1',
                localAddress: `127.0.1.${src}`,
              });
              sockets.push(s);
              s.on('error', () => resolve());
              s.on('connect', () => resolve());
            }),
        ),
      );
      await new Promise((r) => setTimeout(r, 50));
      full = fdCount(pid) >= NOFILE - 1;
    }
    expect(full).toBe(true);
    // Hold it past several GPU samples (2 s cadence) and health checks: each spawn fails with EMFILE.
    const heldUntil = Date.now() + 7_000;
    while (Date.now() < heldUntil) {
      expect(alive(pid)).toBe(true);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(h.child.exitCode).toBeNull();

    for (const s of sockets.splice(0)) s.destroy();
    fs.rmSync(path.join(dir, 'gpu.exit'));
    const after = await until(async () => {
      try {
        const s = await status();
        const o = s.services.find((x) => x.id === 'ollama');
        return o?.status === 'running' ? o : null;
      } catch {
        return null;
      }
    }, 30_000);
    expect(alive(pid)).toBe(true);
    expect(after.pid).toBe(before.pid);
    expect(alive(before.pid!)).toBe(true);
    // The front door forwards again, to the same program.
    await until(
      async () =>
        (await fetch(`http://127.0.0.1:${ollamaPort}/api/tags`).catch(() => null))?.status === 200
          ? true
          : null,
      15_000,
    );
    // GPU telemetry comes back too (the sampler's failed spawns were reported, not thrown).
    await until(async () => ((await status()).gpu.gpus.length ? true : null), 15_000);
  });
});
