// The hibernation runner against fake services, a manual clock and a recording power blocker:
// effects reach the services in the right order, the snapshot section and its cadence, wake
// coalescing and ?wait semantics, a wake during an unload, and every activity signal.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { StateStore } from '../../main/core/state/store.js';
import { CommandBus } from '../../main/core/commands.js';
import { defaultSettings, type Settings } from '../../main/core/settings/schema.js';
import { Emitter } from '../../main/core/util/emitter.js';
import type { Logger } from '../../main/core/util/logger.js';
import { ManualClock } from '../helpers/manual-clock.js';
import type { ServiceEntry, ServiceStatus } from '../../main/core/contract.js';
import { NullPowerBlocker } from '../../main/core/power/index.js';
import { Hibernation, type HibernationServices } from '../../main/core/hibernation/index.js';
import type { SeenModel } from '../../main/core/hibernation/signals.js';

const T0 = Date.UTC(2026, 0, 1);
const S = 1000;
const MIN = 60 * S;

const flush = () => new Promise<void>((r) => setImmediate(r));

interface Gate {
  promise: Promise<void>;
  open: () => void;
}
function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Services that behave like the supervisor + Ollama, recording every call. */
class FakeServices implements HibernationServices {
  calls: string[] = [];
  status = new Map<string, ServiceStatus>([
    ['ollama', 'running'],
    ['piper', 'running'],
    ['vibevoice', 'running'],
  ]);
  loaded = new Map<string, string>([['mistral:7b', '2026-01-01T00:05:00.000Z']]);
  readonly logs = new Emitter<{ line: { service: string; text: string } }>();
  /** The supervisor's ready report (it fires on every start, as the real one does). */
  readonly readyEvents = new Emitter<{ ready: string }>();
  /** Lines hibernation added to a service's log. */
  notes: string[] = [];
  /** When set, a load waits for it: a big model on a slow disk. */
  loadGate: Gate | null = null;
  /** When set, the load request gives up (an error) while the model still lands once the gate opens. */
  loadTimesOut = false;
  /** Models not installed (the load answers 404). */
  notInstalled = new Set<string>();
  /** When set, unloadModels waits for it (or for its abort signal). */
  unloadGate: Gate | null = null;
  /** When set, the unload lands after the next preload (a late keep_alive 0). */
  lateUnload = false;
  neverReady = new Set<string>();
  pids = new Map<string, number>();
  failStop = new Set<string>();

  list(): ServiceEntry[] {
    return [...this.status].map(([id, status]) => ({
      id,
      name: id,
      enabled: true,
      status,
      port: 1,
      pid: status === 'running' ? (this.pids.get(id) ?? 1) : null,
      restarts: 0,
      uptimeSeconds: 0,
      health: status === 'running' ? { ok: true, latencyMs: 1 } : null,
      lastError: null,
    }));
  }
  async start(id: string) {
    this.calls.push(`start ${id}`);
    this.status.set(id, 'starting');
    await flush();
    if (!this.neverReady.has(id)) this.status.set(id, 'running');
    this.onStatus();
    if (!this.neverReady.has(id)) this.readyEvents.emit('ready', id);
  }
  async stop(id: string) {
    this.calls.push(`stop ${id}`);
    if (this.failStop.has(id)) throw new Error('permission denied');
    if (id === 'ollama') this.loaded.clear();
    this.status.set(id, 'stopped');
    this.onStatus();
  }
  onStatus: () => void = () => {};
  async waitReady(id: string, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.status.get(id) === 'running') return true;
      await new Promise((r) => setTimeout(r, 2));
    }
    return false;
  }
  hasModels(id: string) {
    return id === 'ollama';
  }
  async unloadModels(id: string, opts: { timeoutMs: number; signal: AbortSignal }) {
    this.calls.push(`unload ${id}`);
    if (this.unloadGate) {
      const g = this.unloadGate;
      await new Promise<void>((resolve, reject) => {
        void g.promise.then(resolve);
        opts.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
    }
    if (!this.lateUnload) this.loaded.clear();
    return { ok: true, remaining: [] };
  }
  /** Ollama ≥ 0.32.10 while a model loads: /api/ps does not answer (the reader's deadline fires). */
  psBlocked = false;
  async listLoaded(): Promise<SeenModel[]> {
    if (this.psBlocked)
      throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    return [...this.loaded].map(([name, expiresAt]) => ({ name, expiresAt }));
  }
  async preloadModels(
    id: string,
    models: string[],
    opts: { keepAlive: string | number | undefined },
  ) {
    this.calls.push(`preload ${id} ${models.join(',')} keep_alive=${opts.keepAlive}`);
    const installed = models.filter((m) => !this.notInstalled.has(m));
    const land = () => {
      for (const m of installed) this.loaded.set(m, '2318-01-01T00:00:00.000Z');
    };
    if (this.loadGate && this.loadTimesOut) {
      void this.loadGate.promise.then(land);
      return models.map((model) => ({
        model,
        ok: false,
        error: 'The operation was aborted due to timeout',
      }));
    }
    if (this.loadGate) await this.loadGate.promise;
    land();
    if (this.lateUnload) {
      this.lateUnload = false;
      this.loaded.clear(); // the cancelled unload lands after the load
    }
    return models.map((model) =>
      this.notInstalled.has(model)
        ? {
            model,
            ok: false,
            error: `model "${model}" not found, try pulling it first`,
            missing: true,
          }
        : { model, ok: true },
    );
  }
  onLog(listener: (e: { service: string; text: string }) => void) {
    return this.logs.on('line', listener);
  }
  onReady(listener: (id: string) => void) {
    return this.readyEvents.on('ready', listener);
  }
  note(id: string, text: string) {
    this.notes.push(`${id}: ${text}`);
  }
  /** The supervisor restarted `id` after a crash (a new pid, nothing loaded) and reports it ready. */
  crashRestart(id: string, pid: number) {
    if (id === 'ollama') this.loaded.clear();
    this.pids.set(id, pid);
    this.readyEvents.emit('ready', id);
  }
}

function settingsStub(patch: (s: Settings) => void = () => {}) {
  const s = defaultSettings(
    { platform: 'linux', hostname: 'test' },
    { hostId: '00000000-0000-0000-0000-000000000000', token: 'x'.repeat(32) },
  );
  patch(s);
  const events = new Emitter<{ change: { next: Settings; prev: Settings } }>();
  let current = s;
  return {
    view: () => current,
    onChange: (l: (e: { next: Settings; prev: Settings }) => void) => events.on('change', l),
    set(fn: (s: Settings) => void) {
      const prev = current;
      current = structuredClone(current);
      fn(current);
      events.emit('change', { next: current, prev });
    },
  };
}

function recordingLogger(lines: string[]): Logger {
  const l: Logger = {
    debug: () => {},
    info: (m) => lines.push(m),
    warn: (m) => lines.push(`WARN ${m}`),
    error: (m) => lines.push(`ERROR ${m}`),
    child: () => l,
  };
  return l;
}

let live: Hibernation[] = [];
afterEach(async () => {
  for (const h of live) await h.stop();
  live = [];
});

function setup(opts: { settings?: (s: Settings) => void; pollMs?: number } = {}) {
  const clock = new ManualClock(T0);
  const services = new FakeServices();
  const store = new StateStore(
    {
      host: { id: 'h', name: 'h', platform: 'linux', role: 'primary', prio: 200, serving: true },
      hibernation: { state: 'active', idleSeconds: 0, next: null },
      services: [],
      gpu: { sampledAt: null, gpus: [], models: [] },
      peers: [],
    },
    () => clock.now(),
  );
  const syncServices = () => store.set('services', services.list());
  services.onStatus = syncServices;
  syncServices();
  const settings = settingsStub(opts.settings);
  const commands = new CommandBus();
  const power = new NullPowerBlocker('test');
  const logs: string[] = [];
  const h = new Hibernation({
    store,
    settings,
    commands,
    logger: recordingLogger(logs),
    clock,
    isReady: () => store.get('services').every((s) => s.status === 'running'),
    services,
    power,
    options: {
      pollMs: {
        active: opts.pollMs ?? 3_600_000,
        warm: opts.pollMs ?? 3_600_000,
        cool: opts.pollMs ?? 3_600_000,
        cold: opts.pollMs ?? 3_600_000,
        dormant: opts.pollMs ?? 3_600_000,
      },
    },
  });
  live.push(h);
  return { clock, services, store, settings, commands, power, logs, h };
}

describe('hibernation runner', () => {
  it('walks the staircase on the injected clock, acting through the services and the power blocker', async () => {
    const { clock, services, store, power, logs, h } = setup();
    h.start();
    expect(power.calls).toEqual(['acquire']);
    expect(store.get('hibernation')).toMatchObject({
      state: 'active',
      idleSeconds: 0,
      next: { state: 'warm', inSeconds: 30 },
      keepAwake: null,
      busy: false,
    });

    await clock.advance(30 * S);
    expect(store.get('hibernation')).toMatchObject({
      state: 'warm',
      next: { state: 'cool', inSeconds: 270 },
    });
    expect(services.calls).toEqual([]);

    await clock.advance(270 * S);
    await h.settled();
    expect(services.calls).toEqual(['stop vibevoice']);
    expect(power.calls).toEqual(['acquire', 'release']);

    await clock.advance(25 * MIN);
    await h.settled();
    expect(services.calls).toEqual(['stop vibevoice', 'unload ollama', 'stop piper']);
    expect(services.loaded.size).toBe(0);

    await clock.advance(90 * MIN);
    await h.settled();
    expect(services.calls.slice(3)).toEqual(['stop ollama']);
    const section = store.get('hibernation');
    expect(section).toMatchObject({ state: 'dormant', idleSeconds: 7200, next: null, busy: false });
    expect(section.history!.map((t) => `${t.from}>${t.to}`)).toEqual([
      'active>warm',
      'warm>cool',
      'cool>cold',
      'cold>dormant',
    ]);
    expect(section.history![2]!.reason).toBe('idle 30m 0s (cold after 30m 0s)');
    expect(logs).toContain('cool → cold: idle 30m 0s (cold after 30m 0s)');
  });

  it('after a 3 h jump with no timer firing, goes straight to dormant and stops each service once', async () => {
    const { clock, services, store, h } = setup();
    h.start();
    clock.jump(3 * 60 * MIN);
    h.tick(); // what the shell does on an OS resume; the next timer would do the same
    await h.settled();
    expect([...services.calls].sort()).toEqual(['stop ollama', 'stop piper', 'stop vibevoice']);
    const history = store.get('hibernation').history!;
    expect(history).toHaveLength(1);
    expect(history[0]!.reason).toMatch(/skipped warm, cool, cold/);
  });

  it('wake from dormant starts everything, preloads the configured models (keep_alive -1), and ?wait resolves when ready', async () => {
    const { clock, services, store, h } = setup({
      settings: (s) => (s.models.preload = ['mistral:7b', 'llama3.2:1b']),
    });
    h.start();
    await clock.advance(2 * 60 * MIN);
    await h.settled();
    services.calls = [];
    const ready = await h.wakeAndWait('api', 5000);
    expect(ready).toBe(true);
    expect(services.calls.slice(0, 3).sort()).toEqual([
      'start ollama',
      'start piper',
      'start vibevoice',
    ]);
    expect(services.calls.slice(3)).toEqual([
      'preload ollama mistral:7b,llama3.2:1b keep_alive=-1',
    ]);
    expect([...services.loaded.keys()]).toEqual(['mistral:7b', 'llama3.2:1b']);
    expect(store.get('hibernation')).toMatchObject({
      state: 'active',
      idleSeconds: 0,
      busy: false,
    });
  });

  it('concurrent wakes coalesce into one restore', async () => {
    const { clock, services, h } = setup();
    h.start();
    await clock.advance(2 * 60 * MIN);
    await h.settled();
    services.calls = [];
    const results = await Promise.all([
      h.wakeAndWait('a', 5000),
      h.wakeAndWait('b', 5000),
      h.wakeAndWait('c', 5000),
    ]);
    expect(results).toEqual([true, true, true]);
    expect(services.calls.filter((c) => c.startsWith('start'))).toHaveLength(3);
    expect(services.calls.filter((c) => c.startsWith('preload'))).toHaveLength(1);
  });

  it('?wait gives up (false) at its deadline when a service never becomes ready', async () => {
    const { clock, services, h } = setup();
    h.start();
    await clock.advance(2 * 60 * MIN);
    await h.settled();
    services.neverReady.add('piper');
    const t = Date.now();
    expect(await h.wakeAndWait('api', 300)).toBe(false);
    expect(Date.now() - t).toBeLessThan(2000);
  });

  it('a wake during the cold unload cancels it, then restores; a late unload is caught and the model reloaded', async () => {
    const { clock, services, store, h, logs } = setup();
    h.start();
    await clock.advance(5 * MIN);
    await h.settled();
    services.unloadGate = gate(); // the unload "polls until empty" forever
    services.lateUnload = true;
    await clock.advance(25 * MIN);
    await flush();
    expect(services.calls).toEqual(['stop vibevoice', 'unload ollama']);
    expect(store.get('hibernation')).toMatchObject({ state: 'cold', busy: true });

    const ready = await h.wakeAndWait('api', 5000);
    expect(ready).toBe(true);
    // piper's stop (queued after the unload) never ran; VibeVoice came back; models loaded twice.
    expect(services.calls.slice(2)).toEqual([
      'start vibevoice',
      'preload ollama mistral:7b keep_alive=-1',
      'preload ollama mistral:7b keep_alive=-1',
    ]);
    expect(services.loaded.has('mistral:7b')).toBe(true);
    expect(services.status.get('piper')).toBe('running');
    expect(logs.some((l) => /unload ollama: cancelled/.test(l))).toBe(true);
    expect(store.get('hibernation')).toMatchObject({ state: 'active', busy: false });
  });

  it('hibernate now and keep awake, through the command bus', async () => {
    const { clock, services, store, commands, h } = setup();
    h.start();
    await commands.execute({ type: 'hibernate', state: 'cold' });
    await h.settled();
    expect(services.calls).toEqual(['unload ollama', 'stop piper', 'stop vibevoice']);
    expect(store.get('hibernation').history!.at(-1)!.reason).toBe('hibernate now (cold)');
    await expect(commands.execute({ type: 'hibernate', state: 'sleepy' })).rejects.toThrow(
      /state must be one of active, warm, cool, cold, dormant/,
    );

    await commands.execute({ type: 'keepAwake', on: true, minutes: 90 });
    await h.settled();
    expect(store.get('hibernation')).toMatchObject({
      state: 'active',
      keepAwake: { until: new Date(T0 + 90 * MIN).toISOString() },
      next: { state: 'warm', inSeconds: 90 * 60 + 30 },
    });
    await clock.advance(89 * MIN);
    expect(store.get('hibernation').state).toBe('active');
    await clock.advance(MIN + 30 * S);
    expect(store.get('hibernation')).toMatchObject({ state: 'warm', keepAwake: null });

    await commands.execute({ type: 'keepAwake', on: true, minutes: null });
    expect(store.get('hibernation')).toMatchObject({
      state: 'active',
      keepAwake: { until: null },
      next: null,
    });
    await clock.advance(10 * 60 * MIN);
    expect(store.get('hibernation').state).toBe('active');
    await commands.execute({ type: 'keepAwake', on: false });
    expect(store.get('hibernation')).toMatchObject({
      keepAwake: null,
      next: { state: 'warm', inSeconds: 30 },
    });
  });

  it('counts user commands, TTS request log lines and Ollama use seen in /api/ps as activity', async () => {
    const { clock, services, store, commands, h } = setup({ pollMs: 5 });
    commands.register('service.start', () => null);
    h.start();
    await clock.advance(40 * S);
    expect(store.get('hibernation').state).toBe('warm');

    await commands.execute({ type: 'service.start', id: 'piper' });
    expect(store.get('hibernation')).toMatchObject({ state: 'active', idleSeconds: 0 });
    expect(store.get('hibernation').history!.at(-1)!.reason).toBe('activity (user: service.start)');

    await clock.advance(40 * S);
    services.logs.emit('line', {
      service: 'piper',
      text: '127.0.0.1 - - [01/Jan/2026 00:00:00] "GET /voices HTTP/1.1" 200 -',
    });
    expect(store.get('hibernation').state).toBe('warm'); // a probe is not use
    services.logs.emit('line', {
      service: 'vibevoice',
      text: 'INFO:     127.0.0.1:5555 - "POST /v1/audio/speech HTTP/1.1" 200 OK',
    });
    expect(store.get('hibernation').history!.at(-1)!.reason).toBe(
      'activity (vibevoice: request in its log)',
    );

    await clock.advance(40 * S);
    await new Promise((r) => setTimeout(r, 30)); // a few polls: the baseline
    expect(store.get('hibernation').state).toBe('warm');
    services.loaded.set('mistral:7b', '2026-01-01T00:30:00.000Z'); // a request reset its keep-alive
    for (let i = 0; i < 100 && store.get('hibernation').state !== 'active'; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(store.get('hibernation').history!.at(-1)!.reason).toBe(
      'activity (ollama: mistral:7b was used (expires_at moved))',
    );
  });

  it("a crash-restart of Ollama while warm: one preload by hibernation (Ollama's keep-alive), never use however long it loads", async () => {
    // Wall time is fake too: the load takes 45 s (the old 30 s window for "the supervisor's own
    // preload" would have run out) while /api/ps is polled every second.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const { clock, services, store, h } = setup({ pollMs: 1000 });
      h.start();
      await clock.advance(40 * S);
      expect(store.get('hibernation').state).toBe('warm');
      await vi.advanceTimersByTimeAsync(3000); // baseline readings of the running process
      const before = store.get('hibernation').history!.length;

      services.loadGate = gate();
      services.crashRestart('ollama', 4242); // the supervisor restarted it and reports it ready
      await vi.advanceTimersByTimeAsync(45_000);
      expect(services.calls).toEqual(['preload ollama mistral:7b keep_alive=1860s']);
      expect(store.get('hibernation').busy).toBe(true);
      services.loadGate.open();
      await vi.advanceTimersByTimeAsync(1000);
      await h.settled();
      await vi.advanceTimersByTimeAsync(5000); // readings after the load: a new baseline, not use
      expect(store.get('hibernation')).toMatchObject({ state: 'warm', busy: false });
      expect(store.get('hibernation').history!.length).toBe(before);
      expect(h.modelsSeen('ollama')).toBe('mistral:7b');
      expect(services.calls).toHaveLength(1);
      expect(services.notes).toEqual([
        'ollama: preloading mistral:7b',
        'ollama: preloaded mistral:7b',
      ]);

      // The poller still sees use in this process: a client asked for another model.
      services.loaded.set('qwen2.5:0.5b', '2026-01-01T00:10:00.000Z');
      await vi.advanceTimersByTimeAsync(3000);
      expect(store.get('hibernation').history!.at(-1)!.reason).toBe(
        'activity (ollama: qwen2.5:0.5b was loaded)',
      );
      await h.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a load that outlives its own request (it gave up, Ollama kept loading) is still ours, not use', async () => {
    const { clock, services, store, h } = setup({ pollMs: 2 });
    h.start();
    await clock.advance(40 * S);
    services.loadGate = gate();
    services.loadTimesOut = true;
    services.crashRestart('ollama', 4242);
    await h.settled();
    expect(services.calls).toEqual(['preload ollama mistral:7b keep_alive=1860s']);
    expect(store.snapshot().notices.map((n) => n.message)).toEqual([
      'Could not load model mistral:7b on ollama: The operation was aborted due to timeout',
    ]);
    await new Promise((r) => setTimeout(r, 30)); // baseline: nothing loaded yet
    const before = store.get('hibernation').history!.length;
    services.loadGate.open(); // Ollama finishes the load nobody waits for any more
    await new Promise((r) => setTimeout(r, 50));
    expect(h.modelsSeen('ollama')).toBe('mistral:7b');
    expect(store.get('hibernation')).toMatchObject({ state: 'warm' });
    expect(store.get('hibernation').history!.length).toBe(before);
    // Only that once: the same model loaded again later (a client, after an expiry) is use.
    services.loaded.clear();
    await new Promise((r) => setTimeout(r, 30));
    services.loaded.set('mistral:7b', '2026-01-01T00:10:00.000Z');
    for (let i = 0; i < 100 && store.get('hibernation').state !== 'active'; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(store.get('hibernation').history!.at(-1)!.reason).toBe(
      'activity (ollama: mistral:7b was loaded)',
    );
  });

  it('a restart of Ollama at cold loads nothing; at cool (its models are kept there) it loads', async () => {
    const cold = setup();
    cold.h.start();
    await cold.clock.advance(30 * MIN);
    await cold.h.settled();
    expect(cold.services.calls).toEqual(['stop vibevoice', 'unload ollama', 'stop piper']);
    cold.services.crashRestart('ollama', 4242);
    await cold.h.settled();
    await flush();
    expect(cold.services.calls).toEqual(['stop vibevoice', 'unload ollama', 'stop piper']);
    expect(cold.services.notes).toEqual([]);
    expect(cold.store.get('hibernation')).toMatchObject({ state: 'cold', busy: false });

    const cool = setup();
    cool.h.start();
    await cool.clock.advance(5 * MIN);
    await cool.h.settled();
    cool.services.calls = [];
    cool.services.crashRestart('ollama', 4242);
    await cool.h.settled();
    expect(cool.services.calls).toEqual(['preload ollama mistral:7b keep_alive=1860s']);
    expect(cool.store.get('hibernation').state).toBe('cool');
  });

  it("with hibernation off a restart still loads, with no keep-alive of ours (Ollama's own applies)", async () => {
    const { services, h } = setup({ settings: (s) => (s.hibernation.enabled = false) });
    h.start();
    services.crashRestart('ollama', 4242);
    await h.settled();
    expect(services.calls).toEqual(['preload ollama mistral:7b keep_alive=undefined']);
  });

  it('with no model to load a ready report issues nothing (hibernation does not turn busy)', async () => {
    const { services, store, h } = setup({ settings: (s) => (s.models.preload = []) });
    h.start();
    let busy = false;
    store.onChange(() => (busy ||= store.get('hibernation').busy === true));
    services.crashRestart('ollama', 4242);
    await h.settled();
    expect(services.calls).toEqual([]);
    expect(busy).toBe(false);
  });

  it('a ready report that comes before start() is not lost; a model that is not installed raises model_missing', async () => {
    const { services, store, h } = setup({
      settings: (s) => (s.models.preload = ['mistral:7b', 'nope:1b']),
    });
    services.notInstalled.add('nope:1b');
    services.readyEvents.emit('ready', 'ollama'); // the supervisor starts first
    services.readyEvents.emit('ready', 'piper'); // no models: nothing to load
    h.start();
    await h.settled();
    expect(services.calls).toEqual(['preload ollama mistral:7b,nope:1b keep_alive=1860s']);
    expect(services.notes).toEqual([
      'ollama: preloading mistral:7b, nope:1b',
      'ollama: preloaded mistral:7b',
      'ollama: cannot preload nope:1b: not installed',
    ]);
    expect(store.snapshot().notices.map((n) => n.code)).toEqual(['model_missing']);
  });

  it("a wake that starts Ollama loads once: the supervisor's ready report during its own start issues nothing more", async () => {
    const { clock, services, h } = setup();
    h.start();
    await clock.advance(2 * 60 * MIN);
    await h.settled();
    services.calls = [];
    let readies = 0;
    services.readyEvents.on('ready', () => readies++);
    expect(await h.wakeAndWait('api', 5000)).toBe(true);
    await h.settled();
    expect(readies).toBe(3);
    expect(services.calls.filter((c) => c.startsWith('preload'))).toEqual([
      'preload ollama mistral:7b keep_alive=-1',
    ]);
  });

  it('a model loaded while /api/ps did not answer (Ollama ≥ 0.32.10 holds it during a load) is still use', async () => {
    const { clock, services, store, h } = setup({ pollMs: 2 });
    h.start();
    await clock.advance(40 * S);
    services.loaded.clear();
    await new Promise((r) => setTimeout(r, 30)); // baseline: nothing loaded
    expect(store.get('hibernation').state).toBe('warm');
    services.psBlocked = true; // a client's request is loading a model
    await new Promise((r) => setTimeout(r, 30));
    services.loaded.set('qwen2.5:7b', '2026-01-01T00:10:00.000Z');
    services.psBlocked = false;
    for (let i = 0; i < 100 && store.get('hibernation').state !== 'active'; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(store.get('hibernation').history!.at(-1)!.reason).toBe(
      'activity (ollama: qwen2.5:7b was loaded)',
    );
  });

  it('does not take its own preload for use', async () => {
    const { clock, services, store, h } = setup({ pollMs: 2 });
    h.start();
    await clock.advance(2 * 60 * MIN);
    await h.settled();
    expect(await h.wakeAndWait('api', 5000)).toBe(true);
    await clock.advance(40 * S);
    const before = store.get('hibernation').history!.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(store.get('hibernation').state).toBe('warm');
    expect(store.get('hibernation').history!.length).toBe(before);
    expect(services.calls.filter((c) => c.startsWith('preload'))).toHaveLength(1);
  });

  it('refreshes idleSeconds on a coarse cadence, not every second', async () => {
    const { clock, store, h } = setup();
    h.start();
    await clock.advance(40 * S); // warm
    let writes = 0;
    const off = store.onChange(() => writes++);
    for (let i = 0; i < 240; i++) {
      await clock.advance(S);
    }
    off();
    // 4 minutes of warm: one change per 15 s refresh, not 240.
    expect(writes).toBeGreaterThanOrEqual(14);
    expect(writes).toBeLessThanOrEqual(18);
    expect(store.get('hibernation').idleSeconds).toBeGreaterThanOrEqual(265);
  });

  it('a failing action raises a notice and hibernation carries on', async () => {
    const { clock, services, store, h } = setup();
    services.failStop.add('vibevoice');
    h.start();
    await clock.advance(5 * MIN);
    await h.settled();
    expect(store.snapshot().notices.map((n) => n.message)).toEqual([
      'Could not stop vibevoice: permission denied',
    ]);
    await clock.advance(25 * MIN);
    await h.settled();
    expect(services.calls).toEqual(['stop vibevoice', 'unload ollama', 'stop piper']);
  });

  it('settings changes apply at once: disabling hibernation restores everything', async () => {
    const { clock, services, settings, store, h } = setup();
    h.start();
    await clock.advance(30 * MIN);
    await h.settled();
    services.calls = [];
    settings.set((s) => (s.hibernation.enabled = false));
    await h.settled();
    expect(services.calls.sort()).toEqual([
      'preload ollama mistral:7b keep_alive=-1',
      'start piper',
      'start vibevoice',
    ]);
    expect(store.get('hibernation')).toMatchObject({ state: 'active', next: null });
    expect(store.get('hibernation').history!.at(-1)!.reason).toBe('hibernation disabled');
  });

  it('stop() cancels timers, releases the power block and ignores later activity', async () => {
    const { clock, power, h, services } = setup();
    h.start();
    await h.stop();
    expect(power.calls).toEqual(['acquire', 'release']);
    expect(clock.pending()).toEqual([]);
    h.activity('late');
    await clock.advance(3 * 60 * MIN);
    expect(services.calls).toEqual([]);
  });
});
