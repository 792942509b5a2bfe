// Hibernation end to end with real fake services, in a real core on an accelerated clock
// (×20: cool at 0.5 s, cold at 1.5 s, dormant at 4.5 s of wall time): cool stops VibeVoice; cold
// unloads every model (the fake's /api/ps is empty and its runner grandchildren are gone); dormant
// stops everything; a wake restores everything and preloads the models; a request to
// fake-ollama's /api/generate counts as activity.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { acceleratedClock } from '../../main/core/util/clock.js';
import { createLogger } from '../../main/core/util/logger.js';
import { NullPowerBlocker } from '../../main/core/power/index.js';
import type { ServiceEntry, Snapshot } from '../../main/core/contract.js';
import { tempDir } from '../helpers/headless.js';
import {
  alive,
  fakeServices,
  freePorts,
  getJson,
  until,
  type FakePorts,
} from './hibernation-fakes.js';

const FACTOR = 20;
const SHORT = {
  warmAfterSeconds: 2,
  coolAfterSeconds: 10,
  coldAfterSeconds: 30,
  dormantAfterSeconds: 90,
};
const LONG = {
  warmAfterSeconds: 30,
  coolAfterSeconds: 600,
  coldAfterSeconds: 1800,
  dormantAfterSeconds: 7200,
};
const MODELS = ['mistral:7b', 'llama3.2:1b'];

let core: Core;
let base: string;
let ports: FakePorts;
const logLines: string[] = [];
const power = new NullPowerBlocker('test');

const service = (id: string): ServiceEntry => core.store.get('services').find((s) => s.id === id)!;
const state = () => core.store.get('hibernation').state;
const ollamaUrl = () => `http://127.0.0.1:${ports.ollama}`;
const ps = () => getJson<{ models: { name: string }[] }>(`${ollamaUrl()}/api/ps`);
const fakeState = () =>
  getJson<{ pid: number; runners: number[]; loaded: string[] }>(`${ollamaUrl()}/__fake/state`);

beforeAll(async () => {
  process.env.UNAMENTIS_MDNS_INTERFACES ??= 'lo';
  ports = await freePorts();
  const dataDir = tempDir('unamentis-hib-fakes-');
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      serveOnLan: false,
      discovery: { advertise: false, interfaces: [] },
      // The configured list, not the front door's learned one (the first test asks for one model).
      models: { preload: MODELS, learnedPreload: 0 },
      // Start with hibernation off, so nothing hibernates while the fakes come up.
      hibernation: { enabled: false, ...LONG },
      gpu: { activeIntervalSeconds: 3600, warmIntervalSeconds: 3600, coldIntervalSeconds: 3600 },
      services: fakeServices(ports),
    }),
  );
  core = createCore({
    dataDir,
    port: 0,
    bind: '127.0.0.1',
    clock: acceleratedClock(FACTOR),
    power,
    rendererDir: null,
    logger: createLogger({ sink: (l) => logLines.push(l), level: 'info' }),
    // /api/ps is polled on wall time: fast enough to see a request before the next state arrives.
    hibernation: { pollMs: { active: 100, warm: 100, cool: 100, cold: 100, dormant: 100 } },
  });
  const { url } = await core.start();
  base = url.replace(/\/$/, '');
  await until(
    'every service running',
    () => ['ollama', 'vibevoice', 'piper'].every((id) => service(id)?.status === 'running'),
    30_000,
  );
  await until(
    'both models preloaded',
    async () => (await ps()).models.length === MODELS.length,
    30_000,
  );
});

afterAll(async () => {
  await core?.stop();
  if (process.env.HIBERNATION_TEST_LOG) console.log(logLines.join('\n'));
});

const settle = (patch: Record<string, unknown>) => {
  const r = core.settings.update({ hibernation: patch });
  if (!r.ok) throw new Error(`${r.problem.field} ${r.problem.message}`);
};

describe('hibernation with the fake services', () => {
  it('a request to fake-ollama /api/generate counts as activity (seen by the front door)', async () => {
    await fetch(`${base}/api/activity`, { method: 'POST' });
    settle({ enabled: true });
    await until('warm', () => state() === 'warm', 10_000);
    const res = await fetch(`${ollamaUrl()}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'mistral:7b',
        prompt: 'Hello',
        stream: false,
        keep_alive: '30m',
      }),
    });
    expect(res.status).toBe(200);
    await until('active again', () => state() === 'active', 5000);
    expect(core.store.get('hibernation').history!.at(-1)).toMatchObject({
      from: 'warm',
      to: 'active',
      reason: 'activity (ollama request from 127.0.0.1)',
    });
  });

  it('a speech request to fake VibeVoice counts as activity (seen in its uvicorn access log)', async () => {
    await until('warm', () => state() === 'warm', 10_000);
    const res = await fetch(`http://127.0.0.1:${ports.vibevoice}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'vibevoice',
        input: 'Hello',
        voice: 'en-Carter_man',
        response_format: 'wav',
      }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await until('active again', () => state() === 'active', 5000);
    expect(core.store.get('hibernation').history!.at(-1)).toMatchObject({
      from: 'warm',
      to: 'active',
      reason: 'activity (vibevoice: request in its log)',
    });
  });

  it('walks down: cool stops VibeVoice, cold unloads every model, dormant stops everything', async () => {
    const fake = await fakeState();
    expect(fake.runners).toHaveLength(MODELS.length);
    const runners = fake.runners;
    expect(runners.every(alive)).toBe(true);
    const ollamaPid = service('ollama').pid!;

    // Seen at each transition: what was running when a state was entered.
    const seen: { to: string; services: Record<string, string> }[] = [];
    const off = core.hibernation.onTransition((t) =>
      seen.push({
        to: t.to,
        services: Object.fromEntries(core.store.get('services').map((s) => [s.id, s.status])),
      }),
    );
    settle(SHORT);

    await until('VibeVoice stopped', () => service('vibevoice').status === 'stopped', 10_000);
    expect(['cool', 'cold', 'dormant']).toContain(state());
    expect(seen.find((s) => s.to === 'cool')?.services).toMatchObject({
      ollama: 'running',
      piper: 'running',
    });

    await until('cold', () => ['cold', 'dormant'].includes(state()), 10_000);
    await until('/api/ps empty', async () => (await ps()).models.length === 0, 3000);
    await until('runner grandchildren gone', () => runners.every((pid) => !alive(pid)), 3000);
    await until('Piper stopped', () => service('piper').status === 'stopped', 3000);
    if (state() === 'cold') expect(service('ollama').status).toBe('running'); // cold unloads, it does not stop Ollama

    await until('dormant', () => state() === 'dormant', 15_000);
    await until(
      'everything stopped',
      () => ['ollama', 'vibevoice', 'piper'].every((id) => service(id).status === 'stopped'),
      10_000,
    );
    await until('ollama process gone', () => !alive(ollamaPid), 5000);
    off();

    // The control API stays up in dormant, and says so.
    const health = await getJson<{ state: string; ready: boolean }>(`${base}/health`);
    expect(health).toMatchObject({ state: 'dormant', ready: false });
    expect(power.held).toBe(false);
    const history = core.store.get('hibernation').history!.map((t) => `${t.from}>${t.to}`);
    expect(history.slice(-4)).toEqual(['active>warm', 'warm>cool', 'cool>cold', 'cold>dormant']);
    expect(
      logLines.some((l) =>
        /\[[^\]]*hibernation\] cool → cold: idle \d+s \(cold after 30s\)/.test(l),
      ),
    ).toBe(true);
  });

  it('wake restores everything and preloads the models; ?wait=1 answers once ready', async () => {
    // Slow the staircase again so the woken state holds while we look at it. Raising the
    // thresholds alone would bring the host back up; "hibernate now" holds it in dormant.
    await core.commands.execute({ type: 'hibernate', state: 'dormant' });
    settle(LONG);
    await new Promise((r) => setTimeout(r, 200));
    expect(state()).toBe('dormant');
    expect(['ollama', 'vibevoice', 'piper'].map((id) => service(id).status)).toEqual([
      'stopped',
      'stopped',
      'stopped',
    ]);
    const t = Date.now();
    const res = await fetch(`${base}/api/wake?wait=1`, { method: 'POST' });
    const ms = Date.now() - t;
    expect(res.status).toBe(200);
    const snap = (await res.json()) as Snapshot;
    expect(snap.hibernation.state).toBe('active');
    for (const id of ['ollama', 'vibevoice', 'piper'])
      expect(snap.services.find((s) => s.id === id)).toMatchObject({
        status: 'running',
        health: { ok: true },
      });
    const loaded = (await ps()).models.map((m) => m.name).sort();
    expect(loaded).toEqual([...MODELS].sort());
    expect((await fakeState()).runners.every(alive)).toBe(true);
    expect(power.held).toBe(true);
    expect(core.store.get('hibernation').history!.at(-1)).toMatchObject({
      from: 'dormant',
      to: 'active',
      reason: 'wake (api 127.0.0.1)',
    });
    console.log(`wake from dormant → ready (wait=1): ${ms} ms`);
  });
});
