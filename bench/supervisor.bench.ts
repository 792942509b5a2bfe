// Supervisor figures, against the real fake services (test/fixtures):
// - crash → respawned and healthy (default back-off and polling; no start delay on the fake)
// - stop-all of three running services (Ollama with a loaded model and its runner, VibeVoice, Piper)
// - the supervisor's own CPU while three healthy services idle (default 2 s health checks)

import { median, type BenchRow } from './types.js';
import {
  fakeOllama,
  fakePiper,
  fakeVibevoice,
  freePort,
  makeHarness,
  post,
  until,
} from '../test/integration/supervisor-helpers.js';

const SAMPLES = 7;

async function crashToHealthy(): Promise<number[]> {
  const port = await freePort();
  // Default timings, except "stable" after 0.5 s so every sample is a first crash (in real use:
  // 30 s), and no crash-loop stop during the series.
  const h = makeHarness({
    services: { ollama: fakeOllama(port) },
    supervisor: {
      crashLoopCount: 100,
      crashLoopWindowSeconds: 60,
      stopTimeoutSeconds: 5,
      hungAfterFailures: 3,
      healthIntervalSeconds: 2,
    },
    options: { timings: { policy: { stableAfterMs: 500 } } },
  });
  const times: number[] = [];
  try {
    await h.sup.start();
    if (!(await h.sup.waitReady('ollama', 10_000))) throw new Error('fake-ollama did not come up');
    for (let i = 0; i < SAMPLES; i++) {
      await new Promise((r) => setTimeout(r, 700)); // a stable run between crashes
      const before = h.sup.get('ollama')!.pid;
      const t0 = performance.now();
      await post(port, '/__fake/crash');
      await until(
        () => {
          const e = h.sup.get('ollama')!;
          return e.status === 'running' && e.pid !== before && e.health?.ok === true;
        },
        10_000,
        2,
      );
      times.push(performance.now() - t0);
    }
  } finally {
    await h.close();
  }
  return times;
}

/** With `hibernation`, it loads the model on each start (the supervisor loads none itself). */
async function threeServices(hibernation = false) {
  const [o, v, p] = [await freePort(), await freePort(), await freePort()];
  return makeHarness({
    services: { ollama: fakeOllama(o), vibevoice: fakeVibevoice(v), piper: fakePiper(p) },
    preload: ['mistral:7b'],
    hibernation,
    supervisor: {
      crashLoopCount: 5,
      crashLoopWindowSeconds: 60,
      stopTimeoutSeconds: 5,
      hungAfterFailures: 3,
      healthIntervalSeconds: 2,
    },
    options: { timings: {} },
  });
}

async function allReady(h: Awaited<ReturnType<typeof threeServices>>): Promise<void> {
  for (const id of ['ollama', 'vibevoice', 'piper']) {
    if (!(await h.sup.waitReady(id, 10_000))) throw new Error(`${id} did not come up`);
  }
}

async function stopAllTimes(): Promise<number[]> {
  const h = await threeServices(true);
  const times: number[] = [];
  try {
    await h.start();
    for (let i = 0; i < 5; i++) {
      await allReady(h);
      await until(
        () => h.sup.logs('ollama', 200).some((l) => l.text === 'preloaded mistral:7b'),
        10_000,
      );
      const t0 = performance.now();
      await h.sup.stopAll();
      times.push(performance.now() - t0);
      await h.sup.startAll();
    }
  } finally {
    await h.close();
  }
  return times;
}

async function idleCpu(seconds: number): Promise<number> {
  const h = await threeServices();
  try {
    await h.sup.start();
    await allReady(h);
    await new Promise((r) => setTimeout(r, 1000));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const c = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    return ((c.user + c.system) / 1000 / wall) * 100;
  } finally {
    await h.close();
  }
}

export async function bench(): Promise<BenchRow[]> {
  const crash = await crashToHealthy();
  const stops = await stopAllTimes();
  const cpu = await idleCpu(10);
  const crashMed = median(crash);
  return [
    {
      name: `crash → respawned and healthy (median of ${crash.length})`,
      value: crashMed,
      unit: 'ms',
      goal: '≤ 1000 ms',
      pass: crashMed <= 1000,
      note: `min ${Math.min(...crash).toFixed(0)}, max ${Math.max(...crash).toFixed(0)}; first back-off 250 ms`,
    },
    {
      name: `stop-all of 3 services (median of ${stops.length})`,
      value: median(stops),
      unit: 'ms',
      note: 'Ollama with a loaded model + runner, VibeVoice, Piper; SIGTERM, graceful exit',
    },
    {
      name: 'supervisor CPU while 3 healthy services idle (10 s)',
      value: cpu,
      unit: '% of a core',
      note: 'health checks every 2 s; includes the bench harness process',
    },
  ];
}
