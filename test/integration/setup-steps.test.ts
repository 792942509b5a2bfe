// Setup's steps through the API of a real headless core, with the download hosts on loopback
// (test/fixtures/setup-host.ts) and fake installers that put the fake services in place: a bad
// checksum fails with the manual command, a cancel and a crash resume where they stopped, and
// each step ends with its service running from what it installed.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SetupView, StepView } from '../../main/core/contract.js';
import { repoRoot, startHeadless, tempDir, type Headless } from '../helpers/headless.js';
import {
  gpuEnv,
  gpuOut,
  lspciOut,
  siOut,
  writeGpuScenario,
  type FakeGpu,
} from '../fixtures/bin/scenario.js';
import { sha256 } from '../fixtures/download-server.js';
import { startSetupHost, type SetupHost } from '../fixtures/setup-host.js';
import { freePort } from '../helpers/ports.js';

const GPU: FakeGpu = {
  index: 0,
  name: 'NVIDIA GeForce RTX 3060',
  totalMB: 12288,
  usedMB: 300,
  util: 0,
  tempC: 40,
  powerW: 20,
};

describe('setup steps (API, fake installers)', () => {
  let work: string;
  let host: SetupHost;
  let h: Headless;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let settings: Record<string, unknown>;
  const orphans: number[] = [];

  const call = async (
    method: string,
    p: string,
  ): Promise<{ status: number; body: SetupView & { error?: { message: string } } }> => {
    const res = await fetch(new URL(p, h.url), {
      method,
      headers: { authorization: `Bearer ${h.token}` },
    });
    return {
      status: res.status,
      body: (await res.json()) as SetupView & { error?: { message: string } },
    };
  };
  const step = async (id: string): Promise<StepView> =>
    (await call('GET', '/api/setup')).body.steps.find((s) => s.id === id)!;
  const until = async (id: string, states: string[], ms = 60_000): Promise<StepView> => {
    const end = Date.now() + ms;
    for (;;) {
      const s = await step(id);
      if (states.includes(s.state)) return s;
      if (Date.now() > end)
        throw new Error(
          `${id} stayed ${s.state} (${s.phase}; ${s.error}): ${s.output.slice(-5).join(' | ')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    work = tempDir('unamentis-setup-');
    host = await startSetupHost(work);
    const gpuDir = path.join(work, 'gpu');
    fs.mkdirSync(gpuDir);
    writeGpuScenario(gpuDir, {
      gpu: { out: gpuOut([GPU]) },
      si: { out: siOut([GPU]) },
      apps: { out: '' },
      lspci: lspciOut([GPU]),
    });
    const home = path.join(work, 'home');
    fs.mkdirSync(home);
    dataDir = path.join(work, 'data');
    fs.mkdirSync(dataDir);
    // An empty machine: no ollama or uv on PATH, no VibeVoice checkout in HOME, a python3 without Piper.
    env = {
      ...gpuEnv(gpuDir, { PATH: '/usr/bin:/bin' }),
      HOME: home,
      UNAMENTIS_SETUP_SOURCES: host.sourcesFile,
      FAKE_PULL_STEP_MS: '40',
      FAKE_MODEL_LOAD_MS: '20',
    };
    settings = {
      discovery: { advertise: false, interfaces: [] },
      hibernation: { preventSleep: false },
      models: { preload: [] },
      services: {
        ollama: { port: await freePort() },
        vibevoice: { port: await freePort(), env: { FAKE_LOAD_DELAY_MS: '50' } },
        piper: { port: await freePort() },
        whisper: { enabled: false },
      },
    };
    h = await startHeadless({ dataDir, env, settings });
  });

  afterAll(async () => {
    await h?.stop(20_000);
    // tsx's parent may exit before the core (its child) has stopped the services: wait for the core's lock to go.
    const end = Date.now() + 20_000;
    while (dataDir && fs.existsSync(path.join(dataDir, 'server.lock')) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    for (const pid of orphans) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    await host?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('opens for the missing services, with the tier for the 12 GB card', async () => {
    const end = Date.now() + 30_000;
    let v: SetupView;
    do {
      v = (await call('GET', '/api/setup')).body;
      if (v.steps.every((s) => s.missing) && v.tier) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < end);
    expect(v.needed).toBe(true);
    expect(v.reason).toBe('Ollama, Piper, VibeVoice are not installed');
    expect(v.tier).toMatchObject({ model: 'mistral:7b', vibevoice: true });
    expect(v.steps.map((s) => s.state)).toEqual(['todo', 'todo', 'todo']);
    // Nothing was downloaded without a click.
    expect(host.server.requests).toEqual([]);
    // Without the token: refused.
    expect((await fetch(new URL('/api/setup/ollama/run', h.url), { method: 'POST' })).status).toBe(
      401,
    );
    expect((await call('POST', '/api/setup/nope/run')).status).toBe(404);
  });

  it('Ollama: a wrong published checksum fails with the manual command; fixed, it installs, starts and pulls the tier', async () => {
    const good = host.files['/ollama/sha256sum.txt']!.body;
    host.server.set('/ollama/sha256sum.txt', {
      body: String(good).replace(/^[0-9a-f]{64}(?=\s+\.\/ollama-linux)/m, sha256('tampered')),
    });
    expect((await call('POST', '/api/setup/ollama/run')).status).toBe(202);
    const failed = await until('ollama', ['failed']);
    expect(failed.error).toMatch(/^Installing Ollama failed: .*wrong sha256 checksum/);
    expect(failed.manual).toBe('curl -fsSL https://ollama.com/install.sh | sh');
    expect(
      fs.readdirSync(path.join(dataDir, 'downloads')).filter((f) => f.startsWith('ollama-linux')),
    ).toEqual([]);

    host.server.set('/ollama/sha256sum.txt', { body: good });
    await call('POST', '/api/setup/ollama/run');
    const done = await until('ollama', ['done', 'failed']);
    expect(done.error).toBeNull();
    expect(done.state).toBe('done');
    expect(done.ready).toBe(true);
    expect(done.facts.command).toBe(path.join(dataDir, 'ollama', 'bin', 'ollama'));
    const s = JSON.parse(fs.readFileSync(path.join(dataDir, 'settings.json'), 'utf8')) as {
      services: { ollama: { command: string } };
      models: { preload: string[] };
    };
    expect(s.services.ollama.command).toBe(done.facts.command);
    expect(s.models.preload).toEqual(['mistral:7b']);
    const tags = (await (
      await fetch(
        `http://127.0.0.1:${(settings.services as { ollama: { port: number } }).ollama.port}/api/tags`,
      )
    ).json()) as { models: { name: string }[] };
    expect(tags.models.map((m) => m.name)).toContain('mistral:7b');
  });

  it("Piper: a wheel with the wrong hash fails with uv's reason and the uv command to run by hand", async () => {
    const page = host.files['/pypi/piper-tts/']!.body;
    host.server.set('/pypi/piper-tts/', {
      body: String(page).replace(/#sha256=[0-9a-f]{64}/, `#sha256=${sha256('other')}`),
      type: 'text/html',
    });
    await call('POST', '/api/setup/piper/run');
    const failed = await until('piper', ['failed']);
    host.server.set('/pypi/piper-tts/', { body: page, type: 'text/html' });
    expect(failed.error).toMatch(
      /^Installing piper-tts\[http\] failed: uv pip exited with 1: .*Hash mismatch/,
    );
    expect(failed.manual).toBe(
      `uv pip install --python ${path.join(dataDir, 'python', 'piper', 'bin', 'python')} --index-url ${host.sources.pypiIndex} piper-tts[http]`,
    );
    expect(failed.done).toEqual(['venv']);
  });

  it('Piper: cancelled during the voice download, resumed from the bytes it had; uv made the environment in the data dir', async () => {
    host.server.set('/voices/en/en_US/amy/medium/en_US-amy-medium.onnx', {
      ...host.files['/voices/en/en_US/amy/medium/en_US-amy-medium.onnx']!,
      bytesPerSecond: 100_000,
    });
    await call('POST', '/api/setup/piper/run');
    const end = Date.now() + 60_000;
    for (;;) {
      const s = await step('piper');
      if (s.progress && s.progress.label.endsWith('.onnx') && s.progress.received > 50_000) break;
      if (s.state !== 'running' || Date.now() > end)
        throw new Error(`piper: ${s.state} ${s.error} ${s.output.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await call('POST', '/api/setup/piper/cancel')).status).toBe(202);
    const cancelled = await until('piper', ['cancelled']);
    expect(cancelled.done).toEqual(['venv', 'packages']);
    const part = path.join(dataDir, 'voices', 'en_US-amy-medium.onnx.part');
    const had = fs.statSync(part).size;
    expect(had).toBeGreaterThan(50_000);

    host.server.set(
      '/voices/en/en_US/amy/medium/en_US-amy-medium.onnx',
      host.files['/voices/en/en_US/amy/medium/en_US-amy-medium.onnx']!,
    );
    await call('POST', '/api/setup/piper/run');
    const done = await until('piper', ['done', 'failed']);
    expect(done.error).toBeNull();
    expect(done.ready).toBe(true);
    const ranges = host.server.requests.filter((r) => r.path.endsWith('.onnx')).map((r) => r.range);
    expect(ranges.at(-1)).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(ranges.at(-1)!)![0])).toBeGreaterThanOrEqual(had);
    expect(done.facts.uv).toBe(path.join(dataDir, 'tools', 'uv'));
    expect(done.facts.python).toBe(path.join(dataDir, 'python', 'piper', 'bin', 'python'));
    expect(fs.existsSync(path.join(dataDir, 'python', 'interpreters'))).toBe(true);
    expect(done.output.join('\n')).toContain('+ piper-tts==1.3.0');
  });

  it('VibeVoice: CUDA torch on the NVIDIA card; a crash midway is resumed after a restart; the model is checked', async () => {
    host.server.set('/hf/files/model.safetensors', {
      ...host.files['/hf/files/model.safetensors']!,
      bytesPerSecond: 300_000,
    });
    await call('POST', '/api/setup/vibevoice/run');
    const end = Date.now() + 60_000;
    for (;;) {
      const s = await step('vibevoice');
      if (s.progress?.label === 'VibeVoice model' && s.progress.received > 500_000) break;
      if (s.state !== 'running' || Date.now() > end)
        throw new Error(`vibevoice: ${s.state} ${s.error} ${s.output.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // A crash: the core itself (tsx's child, the pid in server.lock) is killed, no goodbye. Its
    // services are orphaned, as in a real crash; the next start reaps them from their PID files.
    const corePid = Number(fs.readFileSync(path.join(dataDir, 'server.lock'), 'utf8'));
    // The GPU sampler's `nvidia-smi -lms` child is not among the services the next start reaps: end it here.
    const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(corePid)], {
      encoding: 'utf8',
    }).stdout;
    orphans.push(
      ...ps
        .split('\n')
        .filter((l) => l.includes('nvidia-smi'))
        .map((l) => Number(l.trim().split(/\s+/)[0])),
    );
    const exited = new Promise((r) => h.child.once('exit', r));
    process.kill(corePid, 'SIGKILL');
    await exited;
    host.server.set('/hf/files/model.safetensors', host.files['/hf/files/model.safetensors']!);
    h = await startHeadless({ dataDir, env });
    const after = await step('vibevoice');
    expect(after.state).toBe('interrupted');
    expect(after.error).toMatch(/continues where it stopped/);
    expect(after.done).toEqual(['source', 'venv', 'torch', 'requirements']);
    await call('POST', '/api/setup/vibevoice/run');
    const done = await until('vibevoice', ['done', 'failed'], 90_000);
    expect(done.error).toBeNull();
    expect(done.ready).toBe(true);
    const py = JSON.parse(
      fs.readFileSync(path.join(dataDir, 'python', 'vibevoice', 'fake-site-packages.json'), 'utf8'),
    ) as Record<string, { from: string }>;
    expect(py.torch!.from).toBe(host.sources.torchCudaIndex);
    const modelRanges = host.server.requests
      .filter((r) => r.path === '/hf/files/model.safetensors')
      .map((r) => r.range);
    expect(modelRanges.at(-1)).toMatch(/^bytes=\d+-$/);
    const v = (await call('GET', '/api/setup')).body;
    expect(v.needed).toBe(false);
    expect(v.steps.every((s) => s.ready)).toBe(true);
  });

  it('npm run setup: the same steps from a terminal, through the running server', async () => {
    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [
          path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
          path.join(repoRoot, 'main', 'setup-cli.ts'),
          '--data-dir',
          dataDir,
          '--port',
          String(h.port),
          ...args,
        ],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
    // A health check may fail once under load (the service is then "unhealthy" for a moment): wait for all three.
    await expect
      .poll(async () => (await call('GET', '/api/setup')).body.steps.every((x) => x.ready), {
        timeout: 30_000,
      })
      .toBe(true);
    const status = cli();
    expect(status.status, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toContain(
      'Model tier for NVIDIA GeForce RTX 3060, 12 GB: mistral:7b with VibeVoice',
    );
    expect(status.stdout).toMatch(/Ollama\s+ready\n\s+Piper\s+ready\n\s+VibeVoice\s+ready/);
    expect(status.stdout).toContain('Everything is set up.');
    const piperPid = async () =>
      (
        (await (await fetch(`${h.url}api/status`)).json()) as {
          services: { id: string; pid: number | null }[];
        }
      ).services.find((x) => x.id === 'piper')!.pid;
    const pid = await piperPid();
    const again = cli('piper');
    expect(again.stdout).toContain('Piper: done, running.');
    expect(again.status).toBe(0);
    // Checking a working service again changes nothing, so it is not restarted.
    expect(await piperPid()).toBe(pid);
    expect(cli('nonsense').status).toBe(2);
  });
});

describe('setup: an Ollama already there is adopted, not installed again', () => {
  let work: string;
  let host: SetupHost;
  let h: Headless;

  beforeAll(async () => {
    work = tempDir('unamentis-setup-adopt-');
    host = await startSetupHost(work);
    // `ollama` on PATH (as Ollama's installers leave it): here, a shim that runs the fake.
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'ollama'),
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(repoRoot, 'test', 'fixtures', 'fake-ollama.mjs')}" "$@"\n`,
      { mode: 0o755 },
    );
    h = await startHeadless({
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        HOME: work,
        UNAMENTIS_SETUP_SOURCES: host.sourcesFile,
        FAKE_PULL_STEP_MS: '20',
      },
      settings: {
        discovery: { advertise: false, interfaces: [] },
        hibernation: { preventSleep: false },
        models: { preload: [] },
        services: {
          ollama: { port: await freePort() },
          vibevoice: { enabled: false },
          piper: { enabled: false },
          whisper: { enabled: false },
        },
      },
    });
  });

  afterAll(async () => {
    await h?.stop(20_000);
    const end = Date.now() + 20_000;
    while (h && fs.existsSync(path.join(h.dataDir, 'server.lock')) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    await host?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('uses the running Ollama, downloads nothing, and pulls the tier', async () => {
    const get = async () => {
      const res = await fetch(new URL('/api/setup', h.url), {
        headers: { authorization: `Bearer ${h.token}` },
      });
      return ((await res.json()) as SetupView).steps.find((x) => x.id === 'ollama')!;
    };
    await expect.poll(async () => (await get()).service?.healthy, { timeout: 30_000 }).toBe(true);
    expect((await get()).ready).toBe(true);
    await fetch(new URL('/api/setup/ollama/run', h.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}` },
    });
    await expect.poll(async () => (await get()).state, { timeout: 30_000 }).toBe('done');
    const s = await get();
    expect(s.facts.adopted).toBe('the Ollama this app runs');
    expect(s.output.join('\n')).toMatch(/Using the Ollama this app runs/);
    expect(host.server.requests.filter((r) => r.path.startsWith('/ollama/'))).toEqual([]);
    // No GPU here: the CPU tier.
    expect(s.output.join('\n')).toContain('llama3.2:3b is installed');
  });
});

describe('setup: the Ollama desktop app already running is adopted', () => {
  let work: string;
  let host: SetupHost;
  let h: Headless;
  let desktop: import('node:child_process').ChildProcess;

  beforeAll(async () => {
    work = tempDir('unamentis-setup-desktop-');
    host = await startSetupHost(work);
    const port = await freePort();
    // The desktop app installs the ollama program too (found on PATH, or where the preset looks).
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'ollama'),
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(repoRoot, 'test', 'fixtures', 'fake-ollama.mjs')}" "$@"\n`,
      { mode: 0o755 },
    );
    // The desktop app's own `ollama serve` on 127.0.0.1 (reference/unamentis-app.md), started before us.
    desktop = spawn(
      process.execPath,
      [path.join(repoRoot, 'test', 'fixtures', 'fake-ollama.mjs'), 'serve'],
      { env: { ...process.env, OLLAMA_HOST: `127.0.0.1:${port}` }, stdio: 'ignore' },
    );
    for (
      let end = Date.now() + 15_000;
      Date.now() < end;
      await new Promise((r) => setTimeout(r, 100))
    ) {
      if (
        (await fetch(`http://127.0.0.1:${port}/api/version`).then(
          (r) => r.status,
          () => 0,
        )) === 200
      )
        break;
    }
    h = await startHeadless({
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        HOME: work,
        UNAMENTIS_SETUP_SOURCES: host.sourcesFile,
        FAKE_PULL_STEP_MS: '20',
      },
      settings: {
        discovery: { advertise: false, interfaces: [] },
        hibernation: { preventSleep: false },
        models: { preload: [] },
        services: {
          ollama: { port },
          vibevoice: { enabled: false },
          piper: { enabled: false },
          whisper: { enabled: false },
        },
      },
    });
  });

  afterAll(async () => {
    await h?.stop(20_000);
    const end = Date.now() + 20_000;
    while (h && fs.existsSync(path.join(h.dataDir, 'server.lock')) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    desktop?.kill('SIGTERM');
    await host?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('uses it as it is: no download, no second ollama serve; pulls the tier into it', async () => {
    const get = async () => {
      const res = await fetch(new URL('/api/setup', h.url), {
        headers: { authorization: `Bearer ${h.token}` },
      });
      return ((await res.json()) as SetupView).steps.find((x) => x.id === 'ollama')!;
    };
    await expect
      .poll(async () => (await get()).service?.status, { timeout: 30_000 })
      .toBe('external');
    expect((await get()).missing).toBe(false);
    await fetch(new URL('/api/setup/ollama/run', h.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}` },
    });
    await expect.poll(async () => (await get()).state, { timeout: 30_000 }).toBe('done');
    const s = await get();
    expect(s.error).toBeNull();
    expect(s.facts.adopted).toBe('the Ollama already running on this machine');
    expect(s.service?.status).toBe('external');
    expect(host.server.requests).toEqual([]);
  });
});
