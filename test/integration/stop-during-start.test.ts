// A stop that comes while the core is still starting (SIGTERM to the headless server, Quit during the
// Electron app's start, core.stop()) leaves no service running: after the stop began nothing new is
// spawned, and what was spawned before it is stopped with its tree. Each fake service carries a tag
// on its argv (`--fake-tag`, ignored by the fake), so `ps` finds it even once it is orphaned.

import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CoreStoppedError, createCore, type Core } from '../../main/core/index.js';
import { createLogger } from '../../main/core/util/logger.js';
import { NullPowerBlocker } from '../../main/core/power/index.js';
import { repoRoot, tempDir } from '../helpers/headless.js';
import { fakeOllama, fakePiper, freePort, makeHarness, until } from './supervisor-helpers.js';

/** Pids whose command line carries `tag` (live ones: `ps` lists no reaped process). */
function tagged(tag: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(tag))
    .map((l) => l.trim().split(/\s+/))
    .filter(([, stat]) => !stat!.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

const leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
});

/** Waits a little (a late spawn would show by then), then says which tagged processes survive. */
async function survivors(tag: string): Promise<number[]> {
  await new Promise((r) => setTimeout(r, 1500));
  const left = tagged(tag);
  leftovers.push(...left);
  return left;
}

/** Two fake services (Ollama slow to answer, Piper) tagged with `tag`, in a settings file. */
async function settingsFor(dataDir: string, tag: string): Promise<void> {
  const tagArgs = ['--fake-tag', tag];
  const ollama = fakeOllama(await freePort(), { START_DELAY_MS: 3000 });
  const piper = fakePiper(await freePort(), { START_DELAY_MS: 3000 });
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      serveOnLan: false,
      discovery: { advertise: false, interfaces: [] },
      gpu: { activeIntervalSeconds: 3600, warmIntervalSeconds: 3600, coldIntervalSeconds: 3600 },
      hibernation: { enabled: false },
      models: { preload: [] },
      services: {
        ollama: { ...ollama, args: [...ollama.args!, ...tagArgs] },
        piper: { ...piper, args: [...piper.args!, ...tagArgs] },
        vibevoice: { enabled: false },
        whisper: { enabled: false },
      },
    }),
  );
}

type When = 'same tick' | 'api listening' | 'spawn issued' | 'health wait';

/**
 * Starts a core and calls stop() at `when`; returns what start() ended with and the survivors.
 * `spawn issued` is the supervisor's own `starting: <argv>` line, written just before the spawn.
 */
async function stopDuring(when: When): Promise<{ start: unknown; left: number[] }> {
  const tag = randomUUID();
  const dataDir = tempDir('unamentis-stopstart-');
  await settingsFor(dataDir, tag);
  let stopped: Promise<void> | null = null;
  const stopNow = () => (stopped ??= core.stop('quit'));
  const core: Core = createCore({
    dataDir,
    port: 0,
    bind: '127.0.0.1',
    power: new NullPowerBlocker('test'),
    rendererDir: null,
    supervisor: { timings: { stopTimeoutMs: 1000 } },
    logger: createLogger({
      level: 'debug',
      sink: (line) => {
        if (when === 'spawn issued' && /starting: /.test(line)) queueMicrotask(stopNow);
      },
    }),
  });
  if (when === 'api listening' || when === 'health wait')
    core.store.onChange((s) => {
      if (when === 'api listening' && s.host.port) stopNow();
      if (when === 'health wait' && s.services.some((e) => e.status === 'starting' && e.pid))
        stopNow();
    });
  const start = core.start().then(
    (r) => r,
    (err: unknown) => err,
  );
  if (when === 'same tick') stopNow();
  const result = await start;
  // Spawning and the health wait may come after start() returned (it does not wait for readiness).
  await until(() => stopped !== null, 20_000);
  await stopped;
  return { start: result, left: await survivors(tag) };
}

describe('stop during start (createCore)', () => {
  it.each(['same tick', 'api listening', 'spawn issued', 'health wait'] as const)(
    'stop() at "%s": no service survives, and start() says it was stopped',
    async (when) => {
      const { start, left } = await stopDuring(when);
      expect(left).toEqual([]);
      // Up to the last capability the start is cut short; a later stop finds it done.
      if (when === 'same tick' || when === 'api listening')
        expect(start).toBeInstanceOf(CoreStoppedError);
    },
  );
});

describe('stop during start (supervisor)', () => {
  it('stop() while start() still awaits the process table: nothing is spawned after it', async () => {
    const tag = randomUUID();
    const port = await freePort();
    const ollama = fakeOllama(port);
    const h = makeHarness({
      services: { ollama: { ...ollama, args: [...ollama.args!, '--fake-tag', tag] } },
    });
    const starting = h.sup.start();
    await h.sup.stop('quit');
    await starting;
    expect(await survivors(tag)).toEqual([]);
    expect(h.sup.get('ollama')?.status).toBe('stopped');
  });

  it('after stop() began, a start, restart or take-over (wake, front door, setup) is refused', async () => {
    const tag = randomUUID();
    const ollama = fakeOllama(await freePort());
    const h = makeHarness({
      services: { ollama: { ...ollama, args: [...ollama.args!, '--fake-tag', tag] } },
      options: { autoStart: false },
    });
    await h.sup.start();
    await h.sup.stop('quit');
    await expect(h.sup.startService('ollama')).rejects.toThrow(/stopping/);
    await expect(h.sup.restartService('ollama')).rejects.toThrow(/stopping/);
    await h.ctx.commands.execute({ type: 'services.startAll' });
    expect(await survivors(tag)).toEqual([]);
    // Started again, it starts services again.
    await h.sup.start();
    await h.sup.startService('ollama');
    await until(() => tagged(tag).length > 0);
    await h.close();
    expect(await survivors(tag)).toEqual([]);
  });
});

describe('SIGTERM during start (headless)', () => {
  it('SIGTERM as soon as a service is spawned: exit 0, nothing left running', async () => {
    const tag = randomUUID();
    const dataDir = tempDir('unamentis-stopstart-');
    await settingsFor(dataDir, tag);
    const tsx = path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const child = spawn(
      process.execPath,
      [tsx, path.join(repoRoot, 'main/headless.ts'), '--data-dir', dataDir, '--port', '0'],
      { env: { ...process.env, UNAMENTIS_MDNS_INTERFACES: 'lo' }, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // The fakes answer only after 3 s: the first spawn is seen while the server is starting.
      await until(() => tagged(tag).length > 0, 30_000, 5);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await survivors(tag)).toEqual([]);
  });
});
