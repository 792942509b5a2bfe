// A headless core whose services are the fake Ollama / VibeVoice / Piper in test/fixtures and
// whose GPU is the fake nvidia-smi (one 12 GB card), for the dashboard tests. Test-only.

import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, startHeadless, tempDir, type Headless } from '../helpers/headless.js';
import {
  gpuEnv,
  gpuOut,
  lspciOut,
  siOut,
  writeGpuScenario,
  type FakeGpu,
} from '../fixtures/bin/scenario.js';
import { freePort } from '../helpers/ports.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures');

export { freePort };

export const GPU: FakeGpu = {
  index: 0,
  name: 'NVIDIA GeForce RTX 3060',
  totalMB: 12288,
  usedMB: 6100,
  util: 37,
  tempC: 54,
  powerW: 92.5,
};

export interface DashboardHost extends Headless {
  gpuDir: string;
  ports: { ollama: number; vibevoice: number; piper: number };
  /** Changes what the fake nvidia-smi reports as used. */
  setGpuUsed(mb: number): void;
}

export async function startDashboardHost(
  opts: {
    name: string;
    settings?: Record<string, unknown>;
    role?: 'primary' | 'fallback';
    env?: Record<string, string>;
  } = { name: 'Test Host' },
): Promise<DashboardHost> {
  const ports = { ollama: await freePort(), vibevoice: await freePort(), piper: await freePort() };
  const gpuDir = tempDir('unamentis-gpu-');
  const scenario = (used: number) => {
    const g = { ...GPU, usedMB: used };
    writeGpuScenario(gpuDir, {
      gpu: { out: gpuOut([g]) },
      si: { out: siOut([g]) },
      apps: { out: '' },
      lspci: lspciOut([g]),
    });
  };
  scenario(GPU.usedMB as number);
  const node = process.execPath;
  const h = await startHeadless({
    env: { ...gpuEnv(gpuDir), FAKE_PULL_STEP_MS: '150', FAKE_MODEL_LOAD_MS: '50', ...opts.env },
    settings: {
      displayName: opts.name,
      ...(opts.role ? { role: opts.role } : {}),
      discovery: { advertise: false, interfaces: [] },
      hibernation: { preventSleep: false },
      models: { preload: ['mistral:7b'] },
      services: {
        ollama: {
          command: node,
          args: [path.join(fixtures, 'fake-ollama.mjs'), 'serve'],
          port: ports.ollama,
        },
        vibevoice: {
          command: node,
          args: [
            path.join(fixtures, 'fake-vibevoice.mjs'),
            '--host',
            '127.0.0.1',
            '--port',
            String(ports.vibevoice),
            '--device',
            'cpu',
            '--model-path',
            'microsoft/VibeVoice-Realtime-0.5B',
          ],
          port: ports.vibevoice,
          cwd: fixtures,
          options: { script: path.join(fixtures, 'fake-vibevoice.mjs') },
          env: { FAKE_LOAD_DELAY_MS: '50' },
        },
        piper: {
          command: node,
          args: [
            path.join(fixtures, 'fake-piper.mjs'),
            '-m',
            'en_US-amy-medium',
            '--host',
            '127.0.0.1',
            '--port',
            String(ports.piper),
          ],
          port: ports.piper,
        },
        whisper: { enabled: false },
      },
      ...opts.settings,
    },
  });
  return {
    ...h,
    gpuDir,
    ports,
    setGpuUsed: (mb: number) => scenario(mb),
    async stop(ms?: number) {
      const code = await h.stop(ms);
      fs.rmSync(gpuDir, { recursive: true, force: true });
      return code;
    },
  };
}

export async function api(
  h: Headless,
  method: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(p, h.url), {
    method,
    headers: {
      authorization: `Bearer ${h.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
