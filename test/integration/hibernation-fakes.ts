// Settings that point Ollama, VibeVoice and Piper at the fake servers in test/fixtures, for the
// hibernation integration test and bench. Test-only.

import path from 'node:path';
import { repoRoot } from '../helpers/headless.js';
import { freePort } from '../helpers/ports.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures');
export const fakeOllama = path.join(fixtures, 'fake-ollama.mjs');
export const fakeVibevoice = path.join(fixtures, 'fake-vibevoice.mjs');
export const fakePiper = path.join(fixtures, 'fake-piper.mjs');

export { freePort };

export interface FakePorts {
  ollama: number;
  vibevoice: number;
  piper: number;
}

export async function freePorts(): Promise<FakePorts> {
  return { ollama: await freePort(), vibevoice: await freePort(), piper: await freePort() };
}

/** The `services` settings block running the fakes (knobs as FAKE_* env per service). */
export function fakeServices(
  ports: FakePorts,
  env: Partial<Record<keyof FakePorts, Record<string, string>>> = {},
) {
  const node = process.execPath;
  // Generous start timeouts: an accelerated clock must not make a slow machine's start look hung.
  const startTimeoutSeconds = 3600;
  return {
    ollama: {
      command: node,
      args: [fakeOllama, 'serve'],
      port: ports.ollama,
      startTimeoutSeconds,
      env: { ...env.ollama },
    },
    vibevoice: {
      command: node,
      args: [
        fakeVibevoice,
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
      startTimeoutSeconds,
      cwd: fixtures,
      options: { script: fakeVibevoice },
      env: { ...env.vibevoice },
    },
    piper: {
      command: node,
      args: [
        fakePiper,
        '-m',
        'en_US-amy-medium',
        '--host',
        '127.0.0.1',
        '--port',
        String(ports.piper),
      ],
      port: ports.piper,
      startTimeoutSeconds,
      env: { ...env.piper },
    },
    whisper: { enabled: false },
  };
}

export async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}

export async function until<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 15_000,
  everyMs = 25,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
