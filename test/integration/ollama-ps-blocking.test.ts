// Ollama ≥ 0.32.10 does not answer GET /api/ps while a model loads (fake-ollama's
// /api/ps blocks during a load, as the real one does). An unload that starts during a load must wait for it, not fail.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unloadAllModels, listLoaded, isTimeout } from '../../main/core/services/ollama.js';
import { fixtures, freePort, until } from './supervisor-helpers.js';

const children: ChildProcess[] = [];
afterEach(async () => {
  // SIGTERM: the fake (like Ollama) stops its runners on a graceful stop; SIGKILL would orphan them.
  for (const c of children.splice(0)) {
    if (c.exitCode !== null) continue;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await gone;
  }
});

async function startFake(knobs: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(fixtures, 'fake-ollama.mjs'), 'serve'], {
    env: { ...process.env, OLLAMA_HOST: `127.0.0.1:${port}`, ...knobs },
    stdio: 'ignore',
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(url).catch(() => null))?.ok, 15_000);
  return url;
}

describe('/api/ps held while a model loads', () => {
  it('the fake holds /api/ps during a load, like Ollama ≥ 0.32.10', async () => {
    const url = await startFake({ FAKE_MODEL_LOAD_MS: '2500' });
    void fetch(`${url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'mistral:7b', prompt: '' }),
    });
    await new Promise((r) => setTimeout(r, 200));
    const err = await listLoaded(url, { timeoutMs: 500 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isTimeout(err)).toBe(true);
    expect((await listLoaded(url, { timeoutMs: 10_000 })).map((m) => m.name)).toEqual([
      'mistral:7b',
    ]);
  });

  it('an unload asked during a load waits for it and unloads that model too', async () => {
    const url = await startFake({
      FAKE_MODEL_LOAD_MS: '2000',
      FAKE_UNLOAD_DELAY_MS: '50',
    });
    void fetch(`${url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'mistral:7b', prompt: '', keep_alive: -1 }),
    });
    await new Promise((r) => setTimeout(r, 200));
    // Each /api/ps read gives up after 500 ms (the real default is 5 s; loads take longer than that).
    const r = await unloadAllModels(url, { timeoutMs: 15_000, requestTimeoutMs: 500, pollMs: 50 });
    expect(r).toEqual({ ok: true, unloaded: ['mistral:7b'], remaining: [] });
  });
});
