// Shared by the supervisor's integration tests and bench: a CoreContext over a temp data dir,
// free ports, the fake services' command lines, and process-table checks.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoreContext } from '../../main/core/context.js';
import type { ServiceSettings } from '../../main/core/settings/schema.js';
import {
  createSupervisor,
  type SupervisorCapability,
  type SupervisorOptions,
} from '../../main/core/supervisor/index.js';
import { listProcesses } from '../../main/core/util/child/procs.js';
import {
  createHibernation,
  supervisedServices,
  type Hibernation,
} from '../../main/core/hibernation/index.js';
import { NullPowerBlocker } from '../../main/core/power/index.js';
import { freePort } from '../helpers/ports.js';
import { testContext } from '../helpers/core-context.js';

export const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

export function tempDir(prefix = 'unamentis-sup-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export { freePort };

type Knobs = Record<string, string | number>;
const knobEnv = (k: Knobs = {}) =>
  Object.fromEntries(Object.entries(k).map(([n, v]) => [`FAKE_${n}`, String(v)]));

/** Settings for fake-ollama on `port` (the supervisor sets OLLAMA_HOST itself). */
export function fakeOllama(
  port: number,
  knobs?: Knobs,
  extra: ServiceSettings = {},
): ServiceSettings {
  return {
    command: process.execPath,
    args: [path.join(fixtures, 'fake-ollama.mjs'), 'serve'],
    port,
    env: knobEnv(knobs),
    ...extra,
  };
}

export function fakeVibevoice(
  port: number,
  knobs?: Knobs,
  extra: ServiceSettings = {},
): ServiceSettings {
  return {
    command: process.execPath,
    args: [
      path.join(fixtures, 'fake-vibevoice.mjs'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--device',
      'cpu',
      '--model-path',
      'fake',
    ],
    port,
    env: knobEnv({ LOAD_DELAY_MS: 50, ...knobs }),
    ...extra,
  };
}

export function fakePiper(
  port: number,
  knobs?: Knobs,
  extra: ServiceSettings = {},
): ServiceSettings {
  return {
    command: process.execPath,
    args: [
      path.join(fixtures, 'fake-piper.mjs'),
      '-m',
      'en_US-amy-medium',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    port,
    env: knobEnv(knobs),
    ...extra,
  };
}

export interface Harness {
  ctx: CoreContext;
  sup: SupervisorCapability;
  /** With `hibernation: true`: hibernation over this supervisor (it loads the models on ready). */
  hibernation: Hibernation | null;
  dataDir: string;
  /** Starts the supervisor, then hibernation where there is one. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Fast timings for tests: restarts after 50 ms, hung after 3 × 150 ms, stop timeout 1 s. */
export const FAST: NonNullable<SupervisorOptions['timings']> = {
  policy: { initialDelayMs: 50, maxDelayMs: 400, stableAfterMs: 5000 },
  stopTimeoutMs: 1000,
  healthIntervalMs: 150,
  startPollMs: 30,
  healthTimeoutMs: 300,
  hungAfterFailures: 3,
  externalGraceMs: 300,
};

export function makeHarness(opts: {
  services: Record<string, ServiceSettings>;
  dataDir?: string;
  supervisor?: Record<string, number>;
  preload?: string[];
  options?: SupervisorOptions;
  /** Add hibernation (it starts after the supervisor and stops first, as in the core). */
  hibernation?: boolean;
}): Harness {
  const dataDir = opts.dataDir ?? tempDir();
  // Presets not under test are disabled so nothing real is looked for.
  const services: Record<string, ServiceSettings> = {
    ollama: { enabled: false },
    vibevoice: { enabled: false },
    piper: { enabled: false },
    whisper: { enabled: false },
    ...opts.services,
  };
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      serveOnLan: false,
      services,
      models: { preload: opts.preload ?? [] },
      discovery: { advertise: false, interfaces: [] },
      ...(opts.supervisor ? { supervisor: opts.supervisor } : {}),
    }),
  );
  const ctx = testContext({ dataDir });
  const sup = createSupervisor(ctx, { timings: FAST, ...opts.options });
  const hibernation = opts.hibernation
    ? createHibernation({
        store: ctx.store,
        settings: ctx.settings,
        commands: ctx.commands,
        logger: ctx.logger,
        clock: ctx.clock,
        isReady: () => ctx.isReady(),
        services: supervisedServices(sup),
        power: new NullPowerBlocker('test'),
      })
    : null;
  return {
    ctx,
    sup,
    hibernation,
    dataDir,
    async start() {
      await sup.start();
      hibernation?.start();
    },
    async close() {
      await hibernation?.stop();
      await sup.stop('quit');
    },
  };
}

/** Polls `fn` until it returns something truthy, and returns that. */
export async function until<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  stepMs = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Live (non-zombie) pids among `pids`. */
export async function alive(pids: number[]): Promise<number[]> {
  const procs = await listProcesses();
  return pids.filter((p) => procs.some((x) => x.pid === p));
}

export async function fakeState(port: number): Promise<{
  pid: number;
  runners: number[];
  loaded?: string[];
  env?: Record<string, string | null>;
}> {
  const res = await fetch(`http://127.0.0.1:${port}/__fake/state`, {
    signal: AbortSignal.timeout(2000),
  });
  return (await res.json()) as { pid: number; runners: number[] };
}

export async function post(port: number, p: string, body?: unknown): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? '' : JSON.stringify(body),
    signal: AbortSignal.timeout(3000),
  });
}
