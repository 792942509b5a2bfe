// Adopting and conflicts: an Ollama already on the port is `external` (watched, not owned, with a
// take-over hint), something else on the port or a missing binary is `failed` with a clear message;
// plus VibeVoice's slow port and load error, Piper old and new, Whisper's argv and load.

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  alive,
  fakeOllama,
  fakePiper,
  fakeVibevoice,
  fixtures,
  freePort,
  makeHarness,
  until,
  type Harness,
} from './supervisor-helpers.js';

let h: Harness | null = null;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await h?.close();
  h = null;
  for (const c of cleanups.splice(0)) await c();
});

function runFake(file: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [path.join(fixtures, file), ...args], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}

async function answers(port: number, p = '/'): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}

describe('adopting an external server', () => {
  it('adopts a running Ollama as external, with the desktop-app hint, and takes over when it goes away', async () => {
    const port = await freePort();
    const ext = runFake('fake-ollama.mjs', ['serve'], { OLLAMA_HOST: `127.0.0.1:${port}` });
    await until(() => answers(port));
    h = makeHarness({ services: { ollama: fakeOllama(port) } });
    await h.sup.start();
    expect(await h.sup.waitReady('ollama', 5000)).toBe(true);
    const e = h.sup.get('ollama')!;
    expect(e.status).toBe('external');
    expect(e.health?.ok).toBe(true);
    expect(e.hint).toContain('Ollama desktop app');
    expect(e.hint).toContain('about 1 s later');
    if (process.platform === 'linux') expect(e.pid).toBe(ext.pid); // the OS tells who holds the port
    // Stopping only stops watching: the external server keeps running.
    await h.sup.stopService('ollama');
    expect(h.sup.get('ollama')!.status).toBe('stopped');
    expect(h.sup.get('ollama')!.hint).toContain('keeps running');
    expect(await alive([ext.pid!])).toEqual([ext.pid]);
    await h.sup.startService('ollama');
    await until(() => h!.sup.get('ollama')!.status === 'external');
    // The external one dies: after the grace period we start our own.
    ext.kill('SIGKILL');
    await until(
      () => h!.sup.get('ollama')!.status === 'running' && h!.sup.get('ollama')!.pid !== ext.pid,
      10_000,
    );
    expect(h.sup.get('ollama')!.hint).toBeNull();
  });

  it('take over stops the external server and starts ours', async () => {
    if (process.platform !== 'linux' && process.platform !== 'darwin') {
      console.log('skipped: port-holder lookup is tested on Linux and macOS');
      return;
    }
    const port = await freePort();
    const ext = runFake('fake-ollama.mjs', ['serve'], { OLLAMA_HOST: `127.0.0.1:${port}` });
    await until(() => answers(port));
    h = makeHarness({ services: { ollama: fakeOllama(port) } });
    await h.sup.start();
    await until(() => h!.sup.get('ollama')!.status === 'external');
    const entry = await h.sup.takeOver('ollama');
    expect(['starting', 'running']).toContain(entry.status);
    expect(await h.sup.waitReady('ollama', 5000)).toBe(true);
    expect(h.sup.get('ollama')!.status).toBe('running');
    expect(h.sup.get('ollama')!.pid).not.toBe(ext.pid);
    await until(() => ext.exitCode !== null || ext.signalCode !== null);
    // Only an external service can be taken over.
    await expect(h.sup.takeOver('ollama')).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('conflicts and missing things', () => {
  it('a port held by something else is failed, naming the port and the holder', async () => {
    const srv = http.createServer((_req, res) => {
      res.writeHead(404);
      res.end('not here');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => srv.close(r)));
    const port = (srv.address() as net.AddressInfo).port;
    h = makeHarness({ services: { ollama: fakeOllama(port) } });
    await h.sup.start();
    await until(() => h!.sup.get('ollama')!.status === 'failed');
    const msg = h.sup.get('ollama')!.lastError!;
    expect(msg).toContain(`Port ${port} is already in use`);
    expect(msg).toContain('services.ollama.port');
    if (process.platform === 'linux') expect(msg).toContain(`pid ${process.pid}`);
    expect(h.ctx.store.snapshot().notices.some((n) => n.message.includes(`Port ${port}`))).toBe(
      true,
    );
    expect(await h.sup.waitReady('ollama', 1000)).toBe(false);
  });

  it('a missing binary is failed at once, saying what is missing and which setting to change', async () => {
    const port = await freePort();
    h = makeHarness({ services: { ollama: { command: '/nonexistent/ollama', port } } });
    await h.sup.start();
    await until(() => h!.sup.get('ollama')!.status === 'failed', 2000);
    expect(h.sup.get('ollama')!.lastError).toBe(
      'Ollama was not found: nothing to run at /nonexistent/ollama. Fix services.ollama.command.',
    );
    expect(h.sup.get('ollama')!.restarts).toBe(0);
  });

  it('an interpreter without the module fails with an install hint instead of crash-looping', async () => {
    const port = await freePort();
    // A "python" that prints what Python prints when piper is not installed.
    const script = `process.stderr.write("/usr/bin/python3: Error while finding module specification for 'piper.http_server' (ModuleNotFoundError: No module named 'piper')\\n"); process.exit(1)`;
    h = makeHarness({
      services: { piper: { command: process.execPath, args: ['-e', script], port } },
    });
    await h.sup.start();
    await until(() => h!.sup.get('piper')!.status === 'failed');
    const e = h.sup.get('piper')!;
    expect(e.restarts).toBe(0);
    expect(e.lastError).toContain('Piper is not installed');
    expect(e.lastError).toContain('-m pip install "piper-tts[http]"');
  });
});

describe('TTS and STT fakes', () => {
  it('VibeVoice: the port opens only after the model loads; starting until then', async () => {
    const port = await freePort();
    h = makeHarness({ services: { vibevoice: fakeVibevoice(port, { LOAD_DELAY_MS: 700 }) } });
    await h.sup.start();
    await new Promise((r) => setTimeout(r, 400));
    expect(h.sup.get('vibevoice')!.status).toBe('starting');
    expect(await h.sup.waitReady('vibevoice', 5000)).toBe(true);
    const wav = await fetch(`http://127.0.0.1:${port}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'vibevoice',
        input: 'hello',
        voice: 'en-Emma_woman',
        response_format: 'wav',
      }),
    });
    expect(wav.headers.get('content-type')).toBe('audio/wav');
    expect(
      Buffer.from(await wav.arrayBuffer())
        .subarray(0, 4)
        .toString(),
    ).toBe('RIFF');
  });

  it('VibeVoice: a failed load is unhealthy, not restarted, and the notice gives the reason from its [FATAL] line', async () => {
    // The real /health says only model_loaded: false; the reason is in the log.
    const port = await freePort();
    h = makeHarness({
      services: {
        vibevoice: fakeVibevoice(port, {
          LOAD_ERROR: 'CUDA out of memory. Tried to allocate 2.00 GiB',
        }),
      },
    });
    await h.sup.start();
    await until(() => h!.sup.get('vibevoice')!.status === 'unhealthy');
    await new Promise((r) => setTimeout(r, 700)); // several health intervals
    const e = h.sup.get('vibevoice')!;
    expect(e).toMatchObject({ status: 'unhealthy', restarts: 0, health: { ok: false } });
    expect(e.lastError).toBe(
      'VibeVoice could not load its model: CUDA out of memory. Tried to allocate 2.00 GiB',
    );
    const notices = h.ctx.store.snapshot().notices.filter((n) => /VibeVoice/.test(n.message));
    expect(notices.map((n) => [n.code, n.message])).toEqual([
      [
        'service_problem',
        'VibeVoice could not load its model: CUDA out of memory. Tried to allocate 2.00 GiB',
      ],
    ]);
  });

  it('VibeVoice: a CPU fallback (CPU-only torch) is a notice that says so', async () => {
    const port = await freePort();
    const s = fakeVibevoice(port, { CPU_FALLBACK: 1 });
    s.args = s.args!.map((a) => (a === 'cpu' ? 'cuda' : a));
    h = makeHarness({ services: { vibevoice: s } });
    await h.sup.start();
    expect(await h.sup.waitReady('vibevoice', 5000)).toBe(true);
    const n = await until(() =>
      h!.ctx.store.snapshot().notices.find((x) => x.code === 'service_problem'),
    );
    expect(n.message).toMatch(
      /^VibeVoice runs on the CPU, not on cuda as configured: speech will be slow/,
    );
  });

  it('VibeVoice started with --device cpu on purpose: no notice', async () => {
    const port = await freePort();
    h = makeHarness({ services: { vibevoice: fakeVibevoice(port) } });
    await h.sup.start();
    expect(await h.sup.waitReady('vibevoice', 5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.ctx.store.snapshot().notices.filter((x) => x.code === 'service_problem')).toEqual([]);
  });

  it('Piper 1.3–1.4 (no /info) is healthy through /voices', async () => {
    const port = await freePort();
    h = makeHarness({ services: { piper: fakePiper(port, { PIPER_VERSION: '1.4.2' }) } });
    await h.sup.start();
    expect(await h.sup.waitReady('piper', 5000)).toBe(true);
    expect(await (await fetch(`http://127.0.0.1:${port}/info`)).status).toBe(404);
  });

  it("Whisper: the preset's argv (--inference-path /v1/audio/transcriptions); port closed while the model loads; no access log", async () => {
    const port = await freePort();
    // A `whisper-server` on disk, so the preset builds the argv as for the real one.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whisper-bin-'));
    const bin = path.join(dir, 'whisper-server');
    fs.writeFileSync(
      bin,
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(fixtures, 'fake-whisper.mjs')}" "$@"\n`,
      { mode: 0o755 },
    );
    const model = path.join(dir, 'ggml-base.en.bin');
    fs.writeFileSync(model, 'x');
    h = makeHarness({
      services: {
        whisper: {
          enabled: true,
          command: bin,
          port,
          options: { model },
          env: { FAKE_LOAD_DELAY_MS: '600' },
        },
      },
    });
    await h.sup.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(
      await fetch(`http://127.0.0.1:${port}/health`).then(
        () => 'open',
        () => 'closed',
      ),
    ).toBe('closed');
    expect(h.sup.get('whisper')!.status).toBe('starting');
    expect(await h.sup.waitReady('whisper', 5000)).toBe(true);
    const form = new FormData();
    form.append('file', new Blob([Buffer.alloc(64)], { type: 'audio/wav' }), 'speech.wav');
    form.append('model', 'whisper-1');
    const res = await fetch(`http://127.0.0.1:${port}/v1/audio/transcriptions`, {
      method: 'POST',
      body: form,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { text: string }).text).toContain('Hello');
    const lines = await until(async () => {
      const l = (await h!.sup.logs('whisper', 200)).map((x) => x.text);
      return l.some((t) => t.startsWith('Received request:')) ? l : null;
    });
    expect(lines.filter((t) => /HTTP\/1\.1/.test(t))).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Whisper: a model that fails to load is one clear message, not a crash loop', async () => {
    const port = await freePort();
    h = makeHarness({
      services: {
        whisper: {
          enabled: true,
          command: process.execPath,
          args: [
            path.join(fixtures, 'fake-whisper.mjs'),
            '--host',
            '127.0.0.1',
            '--port',
            String(port),
            '-m',
            'x.bin',
          ],
          port,
          options: { model: '/m/ggml-broken.bin' },
          env: { FAKE_LOAD_ERROR: '1', FAKE_LOAD_DELAY_MS: '20' },
        },
      },
    });
    await h.sup.start();
    await until(() => h!.sup.get('whisper')!.status === 'failed');
    expect(h.sup.get('whisper')!.lastError).toMatch(
      /^whisper-server could not load the model \/m\/ggml-broken\.bin/,
    );
  });
});

describe('settings changes', () => {
  it('fixing a failed service’s setting starts it; changing the port restarts it; disabling stops it', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    h = makeHarness({ services: { ollama: { ...fakeOllama(p1), command: '/nonexistent/node' } } });
    await h.sup.start();
    await until(() => h!.sup.get('ollama')!.status === 'failed');
    const ok = h.ctx.settings.update({ services: { ollama: { command: process.execPath } } });
    expect(ok.ok).toBe(true);
    await until(() => h!.sup.get('ollama')!.status === 'running', 5000);
    const pid = h.sup.get('ollama')!.pid!;

    h.ctx.settings.update({ services: { ollama: { port: p2 } } });
    await until(
      () => h!.sup.get('ollama')!.status === 'running' && h!.sup.get('ollama')!.pid !== pid,
      5000,
    );
    expect(h.sup.get('ollama')!.port).toBe(p2);
    expect(await alive([pid])).toEqual([]);
    expect(await answers(p2, '/api/version')).toBe(true);

    h.ctx.settings.update({ services: { ollama: { enabled: false } } });
    await until(() => h!.sup.get('ollama')!.status === 'disabled', 5000);
    expect(await answers(p2)).toBe(false);
  });
});
