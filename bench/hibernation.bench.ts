// Wake from dormant to ready, minus the fakes' own start time: what hibernation and the
// supervisor add on top of the services themselves. Goal ≤ 100 ms of overhead (median).
//
// Baseline: the three fakes spawned directly, in parallel, polled every 5 ms until healthy, then
// the model loaded: the fastest the services themselves can be ready.
// Wake: a real in-process core (supervisor + hibernation) in dormant, `POST /api/wake?wait=1`
// until its 200: start, health checks, preload, readiness, HTTP.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { median, type BenchRow } from './types.js';
import { createCore } from '../main/core/index.js';
import { nullLogger } from '../main/core/util/logger.js';
import { NullPowerBlocker } from '../main/core/power/index.js';
import { tempDir } from '../test/helpers/headless.js';
import {
  fakeOllama,
  fakePiper,
  fakeServices,
  fakeVibevoice,
  freePorts,
  until,
  type FakePorts,
} from '../test/integration/hibernation-fakes.js';

const RUNS = 7;
const MODEL = 'mistral:7b';
const LONG = {
  warmAfterSeconds: 3600,
  coolAfterSeconds: 7200,
  coldAfterSeconds: 10_800,
  dormantAfterSeconds: 14_400,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ok(url: string, check: (body: string) => boolean = () => true): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok && check(await res.text());
  } catch {
    return false;
  }
}

async function pollUntil(fn: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 30_000;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('baseline fake did not become ready');
    await sleep(5);
  }
}

/** The services alone: spawn, healthy, model loaded. */
async function baselineOnce(ports: FakePorts): Promise<number> {
  const node = process.execPath;
  const t0 = performance.now();
  const children: ChildProcess[] = [
    spawn(node, [fakeOllama, 'serve'], {
      env: { ...process.env, OLLAMA_HOST: `127.0.0.1:${ports.ollama}` },
      stdio: 'ignore',
    }),
    spawn(
      node,
      [fakeVibevoice, '--host', '127.0.0.1', '--port', String(ports.vibevoice), '--device', 'cpu'],
      { stdio: 'ignore' },
    ),
    spawn(
      node,
      [fakePiper, '-m', 'en_US-amy-medium', '--host', '127.0.0.1', '--port', String(ports.piper)],
      { stdio: 'ignore' },
    ),
  ];
  try {
    const o = `http://127.0.0.1:${ports.ollama}`;
    await Promise.all([
      pollUntil(() => ok(`${o}/`)).then(async () => {
        const r = await fetch(`${o}/api/generate`, {
          method: 'POST',
          body: JSON.stringify({ model: MODEL, keep_alive: -1 }),
        });
        if (!r.ok) throw new Error(`preload: ${r.status}`);
      }),
      pollUntil(() =>
        ok(`http://127.0.0.1:${ports.vibevoice}/health`, (b) => b.includes('"model_loaded":true')),
      ),
      pollUntil(() => ok(`http://127.0.0.1:${ports.piper}/info`)),
    ]);
    return performance.now() - t0;
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
  }
}

export async function bench(): Promise<BenchRow[]> {
  process.env.UNAMENTIS_MDNS_INTERFACES ??= 'lo';
  const ports = await freePorts();

  const baseline: number[] = [];
  for (let i = 0; i < RUNS; i++) baseline.push(await baselineOnce(ports));

  const dataDir = tempDir('bench-hibernation-');
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      serveOnLan: false,
      discovery: { advertise: false, interfaces: [] },
      models: { preload: [MODEL] },
      hibernation: LONG,
      gpu: { activeIntervalSeconds: 3600, warmIntervalSeconds: 3600, coldIntervalSeconds: 3600 },
      services: fakeServices(ports),
    }),
  );
  const core = createCore({
    dataDir,
    port: 0,
    bind: '127.0.0.1',
    logger: nullLogger,
    rendererDir: null,
    power: new NullPowerBlocker(),
  });
  const wakes: number[] = [];
  try {
    const { url } = await core.start();
    const ids = ['ollama', 'vibevoice', 'piper'];
    const statuses = () =>
      core.store
        .get('services')
        .filter((s) => ids.includes(s.id))
        .map((s) => s.status);
    await until(
      'services running',
      () => statuses().length === 3 && statuses().every((s) => s === 'running'),
      30_000,
    );
    for (let i = 0; i < RUNS; i++) {
      await core.commands.execute({ type: 'hibernate', state: 'dormant' });
      await core.hibernation.settled();
      await until('all stopped', () => statuses().every((s) => s === 'stopped'), 30_000);
      await sleep(200); // let the ports close and the machine go quiet
      const t0 = performance.now();
      const res = await fetch(`${url}api/wake?wait=1`, { method: 'POST' });
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`wake answered ${res.status}: ${await res.text()}`);
      wakes.push(ms);
    }
  } finally {
    await core.stop();
  }

  const overhead = median(wakes) - median(baseline);
  return [
    {
      name: `wake dormant → ready, POST /api/wake?wait=1 (median of ${RUNS})`,
      value: median(wakes),
      unit: 'ms',
    },
    {
      name: `the fakes alone: spawn → healthy + model loaded (median of ${RUNS})`,
      value: median(baseline),
      unit: 'ms',
    },
    {
      name: 'wake overhead (wake − fakes alone)',
      value: overhead,
      unit: 'ms',
      goal: '≤ 100 ms',
      pass: overhead <= 100,
      note: `wakes ${wakes.map((w) => w.toFixed(0)).join('/')} ms; fakes ${baseline.map((b) => b.toFixed(0)).join('/')} ms`,
    },
  ];
}
