// The IO side of hibernation: feeds the pure machine (machine.ts) with ticks from the injected
// clock, with activity (API, user commands, Ollama's /api/ps, TTS request logs) and with the
// supervisor's ready reports, executes the effects it returns through the injected services and
// power blocker, and writes the `hibernation` section of the snapshot. It is the only code that
// decides which models are in memory (load, unload, keep-alive): every load it issues is its own,
// so none is ever read back as use.
//
// Time: idle thresholds, keep-awake and the snapshot cadence run on `clock` (so an accelerated
// clock compresses hours); IO deadlines (HTTP waits, the /api/ps poll cadence) run on wall time,
// because they bound real requests to real processes.

import {
  ANSWERING_STATUSES,
  UP_STATUSES,
  type HibernationSection,
  type HibernationState,
} from '../contract.js';
import type { Activity, ActivityFeed, Capability } from '../context.js';
import type { CommandBus, CommandName } from '../commands.js';
import type { StateStore } from '../state/store.js';
import type { SettingsStore } from '../settings/store.js';
import type { Logger } from '../util/logger.js';
import { ollamaKeepAlive } from '../services/command.js';
import type { Clock } from '../util/clock.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import { deadline } from '../util/deadline.js';
import type { PowerBlocker } from '../context.js';
import {
  initialIdle,
  isIo,
  LEVELS,
  nextStep,
  step,
  type Idle,
  type IdleConfig,
  type IdleEvent,
  type IoEffect,
  type Level,
} from './machine.js';
import { idleConfig } from './policy.js';
import { ollamaUse, requestInLog, type SeenModel } from './signals.js';
import type { HibernationServices, PreloadOutcome } from './services.js';

export interface HibernationOptions {
  /** Clock ms between snapshot refreshes of idleSeconds when nothing happens (default 15 s). */
  refreshMs?: number;
  /** Wall ms between /api/ps polls, by level (default active 2 s, warm 5 s, deeper 10 s). */
  pollMs?: Partial<Record<Level, number>>;
  /** Transitions kept in the snapshot (default 20). */
  historySize?: number;
  /** Wall ms to wait for a service's models to leave memory (default 60 s). */
  unloadTimeoutMs?: number;
  /** Wall ms to wait for a restarted service before preloading (default 120 s). */
  startTimeoutMs?: number;
}

export interface HibernationDeps {
  store: StateStore;
  /** `view()`: read on every tick and poll, so never the deep copy `get()` makes. */
  settings: Pick<SettingsStore, 'view' | 'onChange'>;
  commands: CommandBus;
  logger: Logger;
  clock: Clock;
  /** CONTRACT /health `ready`. */
  isReady(): boolean;
  services: HibernationServices;
  power: PowerBlocker;
  options?: HibernationOptions;
  /**
   * True for a service whose every request passes the front door, which reports it as activity:
   * its access-log lines and Ollama's /api/ps are then not read as guesses of use.
   */
  seenByFrontDoor?: (id: string) => boolean;
  /** The Ollama models hibernation loads (default `models.preload`; the front door's learned list). */
  preloadModels?: () => string[];
}

export interface Transition {
  at: string;
  from: HibernationState;
  to: HibernationState;
  reason: string;
}

/** What the API, the tray and the dashboard use. */
export interface HibernationControl {
  section(): HibernationSection;
  /** Counts as use: resets the idle clock; from cool or deeper, restores what was removed. */
  activity(source: string): void;
  /** Back to active, restoring everything and preloading models; returns the state after. Coalesces. */
  wake(source: string): HibernationState;
  /** wake(), then resolves true once nothing is in flight and every enabled service is ready. */
  wakeAndWait(source: string, timeoutMs?: number, giveUp?: () => boolean): Promise<boolean>;
  /** What hibernation itself stopped and unloaded (it undoes exactly that on the next activity). */
  removed(): { stopped: readonly string[]; unloaded: readonly string[] };
  /** "Hibernate now": go to `state` at once (it stays at least that deep until the next activity). */
  hibernateNow(state: HibernationState): void;
  /** "Keep awake": pin active until turned off (minutes null) or for `minutes`. */
  keepAwake(on: boolean, minutes?: number | null): void;
  /** Re-evaluate now (e.g. when the OS resumes from sleep). */
  tick(): void;
  /** Resolves once no hibernation action is in flight. */
  settled(): Promise<void>;
  onTransition(listener: (t: Transition) => void): Unsubscribe;
}

/** User commands that count as activity (besides hibernation's own). Stopping does not. */
const USER_ACTIVITY_COMMANDS: ReadonlySet<CommandName> = new Set([
  'service.start',
  'service.restart',
  'service.takeOver',
  'services.startAll',
]);

const POWER_REASON = 'UnaMentis Server is serving (active or warm)';
/**
 * /api/ps reads. Active and warm alike: a use seen up to 5 s late only moves the next step (30 s
 * away at the soonest) by as much, and every 2 s was the largest share of the steady core's CPU.
 */
const DEFAULT_POLL: Record<Level, number> = {
  active: 5000,
  warm: 5000,
  cool: 10_000,
  cold: 10_000,
  dormant: 10_000,
};

/** Who moved the idle clock: the reporter's own words for activity and wakes. */
function activitySource(e: IdleEvent): string {
  if (e.type === 'activity' || e.type === 'wake') return e.source;
  if (e.type === 'hibernate') return `hibernate now (${e.state})`;
  return e.type === 'keepAwake' ? 'keep awake' : 'keep awake ended';
}

export class Hibernation implements Capability, HibernationControl, ActivityFeed {
  readonly name = 'hibernation';
  #s: Idle;
  #started = false;
  #timer: unknown = null;
  #pollTimer: NodeJS.Timeout | null = null;
  readonly #queue: { batch: number; effects: IoEffect[] }[] = [];
  #current: AbortController | null = null;
  #running = false;
  #drainWaiters: (() => void)[] = [];
  /** Bumped whenever our own actions may change /api/ps: readings from another epoch are not compared. */
  #epoch = 0;
  readonly #seen = new Map<string, { epoch: number; pid: number | null; models: SeenModel[] }>();
  /**
   * Models we asked a service to load and have not seen loaded (their request failed or timed out
   * while Ollama may still be loading): when they appear in /api/ps, that is our load, not use.
   */
  readonly #asked = new Map<string, Set<string>>();
  /** Services whose preload (in the batch in flight) is waiting for them to be ready. */
  readonly #awaitingReady = new Set<string>();
  /** Ready reports that came before start() (the supervisor starts first). */
  readonly #readyBeforeStart = new Set<string>();
  #history: Transition[] = [];
  /** Server start: the dashboard's timeline begins here, not 2 h back. */
  readonly #since: number;
  #unsubs: Unsubscribe[] = [];
  readonly #events = new Emitter<{ transition: Transition; activity: Activity }>();
  /** When the last `activity` event was dispatched (its own throttle: a wake must not swallow the next second's use). */
  #lastActivityEvent = -Infinity;
  /** The latest report the throttle held back, dispatched with its own time when its second is over. */
  #heldActivity: { now: number; source: string } | null = null;
  #heldActivityTimer: unknown = null;
  readonly #log: Logger;
  readonly #opts: Required<Omit<HibernationOptions, 'pollMs'>> & { pollMs: Record<Level, number> };

  constructor(private readonly deps: HibernationDeps) {
    this.#s = initialIdle(deps.clock.now());
    this.#since = deps.clock.now();
    this.#log = deps.logger.child('hibernation');
    const o = deps.options ?? {};
    this.#opts = {
      refreshMs: o.refreshMs ?? 15_000,
      pollMs: { ...DEFAULT_POLL, ...o.pollMs },
      historySize: o.historySize ?? 20,
      unloadTimeoutMs: o.unloadTimeoutMs ?? 60_000,
      startTimeoutMs: o.startTimeoutMs ?? 120_000,
    };
    const { commands } = deps;
    // From construction: a service may become ready between the supervisor's start and ours.
    deps.services.onReady((id) => {
      if (this.#started) this.#ready(id);
      else this.#readyBeforeStart.add(id);
    });
    commands.register('activity', ({ source }) => this.activity(source));
    commands.register('wake', ({ source }) => ({ state: this.wake(source) }));
    commands.register('hibernate', ({ state }) => {
      this.hibernateNow(parseLevel(state));
      return this.section();
    });
    commands.register('keepAwake', ({ on, minutes }) => {
      this.keepAwake(on, minutes ?? null);
      return this.section();
    });
  }

  // ── Capability ────────────────────────────────────────────────────────────────────────────

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#s = initialIdle(this.deps.clock.now());
    const { settings, services, commands } = this.deps;
    this.#unsubs.push(
      settings.onChange(() => this.tick()),
      commands.onExecute((cmd) => {
        if (USER_ACTIVITY_COMMANDS.has(cmd.type)) this.activity(`user: ${cmd.type}`);
      }),
      services.onLog(({ service, text }) => {
        if (this.deps.seenByFrontDoor?.(service)) return;
        if (!services.hasModels(service) && requestInLog(text))
          this.activity(`${service}: request in its log`);
      }),
    );
    this.#dispatch({ type: 'tick', now: this.deps.clock.now() });
    for (const id of this.#readyBeforeStart) this.#ready(id);
    this.#readyBeforeStart.clear();
    this.#schedulePoll();
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#readyBeforeStart.clear();
    for (const off of this.#unsubs.splice(0)) off();
    if (this.#timer !== null) this.deps.clock.clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#heldActivityTimer !== null) this.deps.clock.clearTimeout(this.#heldActivityTimer);
    this.#heldActivityTimer = null;
    this.#heldActivity = null;
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    this.#pollTimer = null;
    this.#cancel();
    // Let the action in flight end (a stop or start cannot be half done) before the supervisor stops.
    await Promise.race([this.settled(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    await this.deps.power.dispose();
  }

  // ── Control ───────────────────────────────────────────────────────────────────────────────

  section(): HibernationSection {
    return this.deps.store.get('hibernation');
  }

  activity(source: string): void {
    if (!this.#started) return;
    const now = this.deps.clock.now();
    // The iPhone, the log watcher and the poller may report many times a second: one dispatch a
    // second is enough. The last report of that second is held, not dropped: it lands with its own
    // time when the second is over, so the idle clock, and pairing's session window that follows
    // it, never read the last request up to a second early.
    if (
      this.#s.state === 'active' &&
      now - this.#lastActivityEvent < 1000 &&
      now >= this.#lastActivityEvent
    ) {
      this.#heldActivity = { now, source };
      this.#heldActivityTimer ??= this.deps.clock.setTimeout(
        () => this.#dispatchHeldActivity(),
        this.#lastActivityEvent + 1000 - now,
      );
      return;
    }
    this.#heldActivity = null; // this report is newer
    this.#lastActivityEvent = now;
    this.#dispatch({ type: 'activity', now, source });
  }

  #dispatchHeldActivity(): void {
    this.#heldActivityTimer = null;
    const held = this.#heldActivity;
    this.#heldActivity = null;
    if (!held || !this.#started) return;
    this.#lastActivityEvent = this.deps.clock.now();
    this.#dispatch({ type: 'activity', now: held.now, source: held.source });
  }

  wake(source: string): HibernationState {
    if (this.#started) this.#dispatch({ type: 'wake', now: this.deps.clock.now(), source });
    return this.#s.state;
  }

  async wakeAndWait(source: string, timeoutMs = 120_000, giveUp?: () => boolean): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    this.wake(source);
    if (!(await within(this.settled(), deadline))) return false;
    return this.#readyBy(deadline, giveUp);
  }

  removed(): { stopped: readonly string[]; unloaded: readonly string[] } {
    return { stopped: this.#s.stopped, unloaded: this.#s.unloaded };
  }

  hibernateNow(state: HibernationState): void {
    if (this.#started) this.#dispatch({ type: 'hibernate', now: this.deps.clock.now(), state });
  }

  keepAwake(on: boolean, minutes: number | null = null): void {
    if (!this.#started) return;
    const now = this.deps.clock.now();
    this.#dispatch({
      type: 'keepAwake',
      now,
      on,
      until: on && minutes ? now + minutes * 60_000 : null,
    });
  }

  tick(): void {
    if (this.#started) this.#dispatch({ type: 'tick', now: this.deps.clock.now() });
  }

  settled(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  onTransition(listener: (t: Transition) => void): Unsubscribe {
    return this.#events.on('transition', listener);
  }

  /** Each time the idle clock is reset (`lastActivityAt` moves on), with the source that did it. */
  onActivity(listener: (a: Activity) => void): Unsubscribe {
    return this.#events.on('activity', listener);
  }

  // ── Internals ─────────────────────────────────────────────────────────────────────────────

  /** A service came up, whoever started it: the machine decides whether to load its models. */
  #ready(id: string): void {
    if (!this.deps.services.hasModels(id) || this.#models().length === 0) return;
    // A preload queued, or in flight and waiting for this start, loads it once: not twice.
    if (this.#awaitingReady.has(id)) return;
    if (
      this.#queue.some((job) => job.effects.some((e) => e.type === 'preload' && e.service === id))
    )
      return;
    this.#dispatch({ type: 'ready', now: this.deps.clock.now(), service: id });
  }

  #config(): IdleConfig {
    const { settings, services } = this.deps;
    return idleConfig(settings.view(), services.list(), (id) => services.hasModels(id));
  }

  #dispatch(e: IdleEvent): void {
    if (!this.#started && e.type !== 'settled') return;
    const cfg = this.#config();
    const before = this.#s.lastActivity;
    const [next, effects] = step(this.#s, e, cfg);
    this.#s = next;
    if (next.lastActivity > before)
      this.#events.emit('activity', { at: next.lastActivity, source: activitySource(e) });
    const io: IoEffect[] = [];
    for (const fx of effects) {
      if (isIo(fx)) io.push(fx);
      else if (fx.type === 'transition') this.#record(fx.from, fx.to, fx.reason);
      else if (fx.type === 'cancel') this.#cancel();
      else if (fx.type === 'power') this.#power(fx.awake);
    }
    if (io.length) this.#enqueue(next.busy!, io);
    this.#publish(cfg);
    if (this.#started) this.#arm(cfg);
  }

  #record(from: Level, to: Level, reason: string): void {
    const t: Transition = { at: new Date(this.deps.clock.now()).toISOString(), from, to, reason };
    this.#log.info(`${from} → ${to}: ${reason}`);
    this.#history = [...this.#history, t].slice(-this.#opts.historySize);
    this.#events.emit('transition', t);
  }

  #power(awake: boolean): void {
    try {
      if (awake) this.deps.power.acquire(POWER_REASON);
      else this.deps.power.release();
    } catch (err) {
      this.#log.warn('power blocker failed', { err });
    }
  }

  #publish(cfg: IdleConfig): void {
    const now = this.deps.clock.now();
    const s = this.#s;
    const next = nextStep(s, cfg, now);
    this.deps.store.set('hibernation', {
      state: s.state,
      idleSeconds: Math.floor(Math.max(0, now - s.lastActivity) / 1000),
      next: next ? { state: next.state, inSeconds: Math.ceil((next.at - now) / 1000) } : null,
      keepAwake: s.keepAwake
        ? { until: s.keepAwake.until === null ? null : new Date(s.keepAwake.until).toISOString() }
        : null,
      history: this.#history,
      lastActivityAt: new Date(s.lastActivity).toISOString(),
      since: new Date(this.#since).toISOString(),
      busy: s.busy !== null,
    });
  }

  /**
   * One timer on the injected clock: at the next transition or keep-awake end, or after the
   * refresh cadence (so idleSeconds is at most `refreshMs` stale without a change every second).
   */
  #arm(cfg: IdleConfig): void {
    const { clock } = this.deps;
    if (this.#timer !== null) clock.clearTimeout(this.#timer);
    const now = clock.now();
    const next = nextStep(this.#s, cfg, now);
    let at = now + (next ? this.#opts.refreshMs : this.#opts.refreshMs * 4);
    if (next) at = Math.min(at, next.at);
    if (this.#s.keepAwake?.until != null) at = Math.min(at, this.#s.keepAwake.until);
    this.#timer = clock.setTimeout(
      () => {
        this.#timer = null;
        this.tick();
      },
      Math.max(1, at - now),
    );
  }

  #enqueue(batch: number, effects: IoEffect[]): void {
    this.#epoch++;
    this.#queue.push({ batch, effects });
    if (!this.#running) void this.#loop();
  }

  /** Abandons queued batches and signals the one in flight (a wake supersedes an unload). */
  #cancel(): void {
    this.#queue.length = 0;
    this.#current?.abort();
  }

  /** Batches run one at a time, in order: a wake's preload never races an unload's keep_alive 0. */
  async #loop(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length) {
        const job = this.#queue.shift()!;
        const ac = new AbortController();
        this.#current = ac;
        try {
          await this.#runBatch(job.effects, ac.signal);
        } finally {
          this.#current = null;
        }
        this.#epoch++;
        this.#dispatch({ type: 'settled', now: this.deps.clock.now(), batch: job.batch });
      }
    } finally {
      this.#running = false;
      for (const resolve of this.#drainWaiters.splice(0)) resolve();
    }
  }

  /** Restores (starts, preloads) together, then unloads, then stops. */
  async #runBatch(effects: IoEffect[], signal: AbortSignal): Promise<void> {
    const phases = [
      effects.filter((e) => e.type === 'start' || e.type === 'preload'),
      effects.filter((e) => e.type === 'unload'),
      effects.filter((e) => e.type === 'stop'),
    ];
    for (const phase of phases) {
      if (signal.aborted) return;
      await Promise.all(phase.map((e) => this.#run(e, signal)));
    }
  }

  async #run(e: IoEffect, signal: AbortSignal): Promise<void> {
    const { services } = this.deps;
    const id = e.service;
    const started = Date.now();
    try {
      // A cancelled batch may have skipped a stop the machine counted: act only where needed.
      const status = services.list().find((x) => x.id === id)?.status;
      switch (e.type) {
        case 'start':
          if (status && UP_STATUSES.has(status)) return;
          await services.start(id);
          break;
        case 'stop':
          if (status && !UP_STATUSES.has(status)) return;
          this.#asked.delete(id);
          await services.stop(id);
          break;
        case 'unload': {
          this.#asked.delete(id);
          const r = await services.unloadModels(id, {
            timeoutMs: this.#opts.unloadTimeoutMs,
            signal,
          });
          if (!r.ok && !signal.aborted) {
            this.#problem(
              `${id} still holds ${r.remaining.join(', ')} ${Math.round(this.#opts.unloadTimeoutMs / 1000)} s after being asked to unload.`,
            );
          }
          break;
        }
        case 'preload':
          await this.#preload(id, signal, e.ready === true);
          break;
      }
      this.#log.info(`${e.type} ${id}: done in ${Date.now() - started} ms`);
    } catch (err) {
      if (signal.aborted) this.#log.info(`${e.type} ${id}: cancelled (${(err as Error).message})`);
      else this.#problem(`Could not ${e.type} ${id}: ${(err as Error).message}`);
    }
  }

  /**
   * Loads the models into `id` once it is ready. After a start hibernation did not make (`ready`)
   * the request carries the service's own keep-alive, as a client's would; a restore uses -1:
   * hibernation, not Ollama's own timer, decides when they leave memory.
   */
  async #preload(id: string, signal: AbortSignal, ready: boolean): Promise<void> {
    const { services, settings } = this.deps;
    const models = this.#models();
    if (models.length === 0) return;
    this.#awaitingReady.add(id);
    let up: boolean;
    try {
      up = await Promise.race([
        services.waitReady(id, this.#opts.startTimeoutMs),
        new Promise<false>((r) => signal.addEventListener('abort', () => r(false), { once: true })),
      ]);
    } finally {
      this.#awaitingReady.delete(id);
    }
    if (signal.aborted) return;
    if (!up) {
      this.#problem(`Could not preload ${models.join(', ')}: ${id} did not become ready.`);
      return;
    }
    const opts = { keepAlive: ready ? ollamaKeepAlive(settings.view()) : -1, signal };
    services.note(id, `preloading ${models.join(', ')}`);
    let results = await this.#load(id, models, opts);
    // An unload that a wake cancelled may still land after the load: check, and load once more.
    const loaded = new Set((await services.listLoaded(id, signal)).map((m) => modelKey(m.name)));
    const missing = results
      .filter((r) => r.ok && !loaded.has(modelKey(r.model)))
      .map((r) => r.model);
    if (missing.length) {
      this.#log.info(`reloading ${missing.join(', ')}: not in memory after the preload`);
      const again = await this.#load(id, missing, opts);
      results = [...results.filter((r) => !missing.includes(r.model)), ...again];
    }
    for (const r of results) {
      if (r.ok) {
        services.note(id, `preloaded ${r.model}`);
      } else if (r.missing) {
        services.note(id, `cannot preload ${r.model}: not installed`);
        this.#log.warn(`cannot preload ${r.model} on ${id}: not installed`);
        this.deps.store.notify({
          level: 'warning',
          code: 'model_missing',
          message: `The model ${r.model} is not installed in Ollama. Pull it (ollama pull ${r.model}, or from the dashboard), or change models.preload.`,
        });
      } else {
        services.note(id, `cannot preload ${r.model}: ${r.error ?? 'unknown error'}`);
        this.#problem(`Could not load model ${r.model} on ${id}: ${r.error ?? 'unknown error'}`);
      }
    }
  }

  /** What hibernation loads: the front door's learned list, else `models.preload`. */
  #models(): string[] {
    return [...(this.deps.preloadModels?.() ?? this.deps.settings.view().models.preload)];
  }

  /** One load request per model; those not confirmed loaded stay in `#asked` (they may still land). */
  async #load(
    id: string,
    models: string[],
    opts: { keepAlive: string | number | undefined; signal: AbortSignal },
  ): Promise<PreloadOutcome[]> {
    const asked = this.#asked.get(id) ?? new Set<string>();
    this.#asked.set(id, asked);
    for (const m of models) asked.add(modelKey(m));
    const results = await this.deps.services.preloadModels(id, models, opts);
    for (const r of results) if (r.ok || r.missing) asked.delete(modelKey(r.model));
    return results;
  }

  #problem(message: string): void {
    this.#log.warn(message);
    this.deps.store.notify({ level: 'warning', code: 'hibernation_action_failed', message });
  }

  /**
   * Resolves true once every enabled service is ready, false at the deadline (wall time) or as soon
   * as `giveUp` says nothing left can come up (every service that is not ready failed).
   */
  #readyBy(deadline: number, giveUp?: () => boolean): Promise<boolean> {
    const { isReady, store } = this.deps;
    if (isReady()) return Promise.resolve(true);
    if (giveUp?.()) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        off();
        clearTimeout(timer);
        resolve(ok);
      };
      const off = store.onChange(() => {
        if (isReady()) done(true);
        else if (giveUp?.()) done(false);
      });
      const timer = setTimeout(() => done(isReady()), Math.max(0, deadline - Date.now()));
    });
  }

  // ── Ollama use, seen in /api/ps ────────────────────────────────────────────────────────────

  /**
   * The models `id` had loaded at the last /api/ps poll, as one string ('' when unknown). The GPU
   * sampler keys its own /api/ps read on it: a model loaded by anyone (our preload, the phone, a
   * pull) shows in the GPU section within one poll, without a second poller.
   */
  modelsSeen(id: string): string {
    return (this.#seen.get(id)?.models.map((m) => m.name) ?? []).sort().join(',');
  }

  #schedulePoll(): void {
    if (!this.#started) return;
    this.#pollTimer = setTimeout(() => {
      void this.#poll().finally(() => this.#schedulePoll());
    }, this.#opts.pollMs[this.#s.state]);
    this.#pollTimer.unref();
  }

  async #poll(): Promise<void> {
    const { services } = this.deps;
    for (const entry of services.list()) {
      if (!this.#started || !services.hasModels(entry.id)) continue;
      const id = entry.id;
      // Every request reaches it through the front door, which reports it: no guessing from /api/ps.
      if (this.deps.seenByFrontDoor?.(id)) {
        this.#seen.delete(id);
        continue;
      }
      if (!ANSWERING_STATUSES.has(entry.status) || this.#s.busy !== null) {
        this.#seen.delete(id);
        continue;
      }
      const epoch = this.#epoch;
      let models: SeenModel[];
      const limit = deadline(5000); // cleared after the reading (an AbortSignal.timeout would fire later, every poll)
      try {
        models = await services.listLoaded(id, limit.signal);
      } catch {
        // Keep the last reading as the baseline: Ollama ≥ 0.32.10 does not answer /api/ps while a
        // model loads, and that load must still show up as use once it answers. A restart is
        // caught by the pid check below.
        continue;
      } finally {
        limit.clear();
      }
      // Our own load or unload happened meanwhile: this reading is a new baseline, not use.
      if (epoch !== this.#epoch || this.#s.busy !== null) {
        this.#seen.delete(id);
        continue;
      }
      const prev = this.#seen.get(id);
      const sameProcess = prev !== undefined && prev.pid === entry.pid;
      this.#seen.set(id, { epoch, pid: entry.pid, models });
      // A new process is a new baseline (whatever it has loaded, nobody used it in this one).
      if (!sameProcess || prev.epoch !== epoch) continue;
      // Every load we issue runs inside a batch (a new epoch), so it is never compared; a model we
      // asked for whose request gave up before Ollama finished loading it is ours too, by name.
      let compared = models;
      const asked = this.#asked.get(id);
      if (asked?.size) {
        const known = new Set(prev.models.map((m) => m.name));
        compared = models.filter((m) => known.has(m.name) || !asked.has(modelKey(m.name)));
        for (const m of models) asked.delete(modelKey(m.name));
      }
      const why = ollamaUse(prev.models, compared);
      if (why) this.activity(`${id}: ${why}`);
    }
  }
}

export function createHibernation(deps: HibernationDeps): Hibernation {
  return new Hibernation(deps);
}

function parseLevel(value: unknown): Level {
  if (typeof value === 'string' && (LEVELS as readonly string[]).includes(value))
    return value as Level;
  throw new Error(`state must be one of ${LEVELS.join(', ')}`);
}

/** "mistral" and "mistral:latest" are the same model. */
function modelKey(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}

async function within(p: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>(
    (r) => (timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()))),
  );
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
