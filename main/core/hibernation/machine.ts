// The idle state machine (CONTRACT §4), pure: step(state, event, config) → [state, effects].
// Time arrives with the event (`now`); nothing here reads a clock, sets a timer or touches a
// process. The runner (runner.ts) feeds it events and executes the effects it returns.
//
// Model: the level is a function of idle time (now − lastActivity) against the thresholds,
// raised by a manual "hibernate now" floor and pinned to `active` by "keep awake". What a level
// removes is reconciled against what hibernation has already removed (`stopped`, `unloaded`),
// so each action runs once however the level was reached (ticks, a 3 h clock jump, a manual
// choice, a settings change), and waking undoes exactly what hibernation did.

import { HIBERNATION_STATES, type HibernationState } from '../contract.js';

export type Level = HibernationState;
export const LEVELS: readonly Level[] = HIBERNATION_STATES;

export function depth(level: Level): number {
  return LEVELS.indexOf(level);
}

/** Idle time (ms) at which each level begins; `active` begins at 0. */
export interface Thresholds {
  warm: number;
  cool: number;
  cold: number;
  dormant: number;
}

/** What hibernation may do to one service, and what it can do right now. */
export interface ServicePlan {
  id: string;
  /** The level from which the service is stopped; null = never. */
  stopAt: Level | null;
  /** The level from which its models are unloaded (services with models only); null = never. */
  unloadAt: Level | null;
  /** It has models to unload and preload (Ollama). */
  models: boolean;
  /** We own it and it is up (starting, running, unhealthy, backoff): stopping it means something. */
  canStop: boolean;
  /** Its API answers (ours and running, or external): unload and preload can reach it. */
  reachable: boolean;
}

export interface IdleConfig {
  enabled: boolean;
  after: Thresholds;
  /** Keep the OS awake while active or warm. */
  preventSleep: boolean;
  services: ServicePlan[];
}

export interface Idle {
  state: Level;
  /** When `state` was entered (ms). */
  since: number;
  lastActivity: number;
  /** "Keep awake": pinned to active until `until` (ms) or, when null, until turned off. */
  keepAwake: { until: number | null } | null;
  /** "Hibernate now": the level stays at least this deep until the next activity. */
  floor: Level | null;
  /** Services hibernation stopped (sorted), to start again on wake. */
  stopped: string[];
  /** Services whose models hibernation unloaded (sorted), to preload again on wake. */
  unloaded: string[];
  /** OS sleep is currently blocked. */
  awake: boolean;
  /** Id of the last batch of IO effects issued. */
  batch: number;
  /** The batch still in flight (not yet `settled`), or null. */
  busy: number | null;
}

export type IdleEvent =
  | { type: 'tick'; now: number }
  | { type: 'activity'; now: number; source: string }
  | { type: 'wake'; now: number; source: string }
  | { type: 'hibernate'; now: number; state: Level }
  | { type: 'keepAwake'; now: number; on: boolean; until?: number | null }
  | { type: 'settled'; now: number; batch: number }
  /** The supervisor reports `service` ready (any start: ours, the user's, after a crash, adopted). Not use. */
  | { type: 'ready'; now: number; service: string };

export type Effect =
  | { type: 'transition'; from: Level; to: Level; reason: string }
  /** Abandon the batch in flight (and any queued): a wake supersedes a deeper transition. */
  | { type: 'cancel' }
  | { type: 'start'; service: string }
  /**
   * Load the models. `ready`: after the service came up by itself (not restored by hibernation), with
   * its own keep-alive as a request would; otherwise keep_alive -1 (hibernation unloads them).
   */
  | { type: 'preload'; service: string; ready?: true }
  | { type: 'unload'; service: string }
  | { type: 'stop'; service: string }
  | { type: 'power'; awake: boolean };

export type IoEffect = Extract<Effect, { type: 'start' | 'preload' | 'unload' | 'stop' }>;

export function isIo(e: Effect): e is IoEffect {
  return e.type === 'start' || e.type === 'preload' || e.type === 'unload' || e.type === 'stop';
}

export function initialIdle(now: number): Idle {
  return {
    state: 'active',
    since: now,
    lastActivity: now,
    keepAwake: null,
    floor: null,
    stopped: [],
    unloaded: [],
    awake: false,
    batch: 0,
    busy: null,
  };
}

function threshold(level: Level, after: Thresholds): number {
  return level === 'active' ? 0 : after[level];
}

/** The deepest level whose threshold the idle time has reached (edges belong to the deeper level). */
export function levelFor(idleMs: number, after: Thresholds): Level {
  let level: Level = 'active';
  for (const l of LEVELS) if (idleMs >= threshold(l, after)) level = l;
  return level;
}

const deeper = (a: Level, b: Level): Level => (depth(a) >= depth(b) ? a : b);
const reached = (at: Level | null, level: Level): boolean =>
  at !== null && depth(level) >= depth(at);

export function step(s: Idle, e: IdleEvent, cfg: IdleConfig): [Idle, Effect[]] {
  const now = e.now;
  const n: Idle = { ...s, stopped: [...s.stopped], unloaded: [...s.unloaded] };
  // A clock that went backwards must not freeze the idle clock for the size of the jump.
  if (now < n.lastActivity) n.lastActivity = now;
  if (n.keepAwake && n.keepAwake.until !== null && now >= n.keepAwake.until) {
    // Idle time counts from the end of the pin, not from the last activity before it.
    n.lastActivity = Math.max(n.lastActivity, n.keepAwake.until);
    n.keepAwake = null;
  }

  let reason: string | null = null;
  let wake = false;
  switch (e.type) {
    case 'tick':
    case 'ready':
      break;
    case 'settled':
      if (n.busy === e.batch) n.busy = null;
      break;
    case 'activity':
    case 'wake':
      n.lastActivity = now;
      n.floor = null;
      wake = e.type === 'wake';
      reason = `${e.type} (${e.source})`;
      break;
    case 'keepAwake': {
      n.floor = null;
      n.lastActivity = now;
      const until = e.until ?? null;
      if (e.on && (until === null || until > now)) {
        n.keepAwake = { until };
        wake = true;
        reason =
          until === null
            ? 'keep awake (until turned off)'
            : `keep awake (until ${new Date(until).toISOString()})`;
      } else {
        n.keepAwake = null;
        reason = 'keep awake turned off';
      }
      break;
    }
    case 'hibernate': {
      n.keepAwake = null;
      if (e.state === 'active') {
        n.lastActivity = now;
        n.floor = null;
        wake = true;
      } else {
        n.floor = e.state;
        // Going shallower than the idle time says (dormant → cool): restart the idle clock at
        // that level's threshold, so the next tick does not put it straight back.
        if (depth(levelFor(now - n.lastActivity, cfg.after)) > depth(e.state)) {
          n.lastActivity = now - threshold(e.state, cfg.after);
        }
      }
      reason = `hibernate now (${e.state})`;
      break;
    }
  }

  const idleLevel = cfg.enabled ? levelFor(now - n.lastActivity, cfg.after) : 'active';
  const level: Level = n.keepAwake ? 'active' : deeper(n.floor ?? 'active', idleLevel);

  const fx: Effect[] = [];
  if (level !== n.state) {
    fx.push({
      type: 'transition',
      from: n.state,
      to: level,
      reason: reason ?? idleReason(n, level, now, cfg),
    });
    n.state = level;
    n.since = now;
  }

  const wantAwake = cfg.preventSleep && depth(level) <= depth('warm');
  if (wantAwake !== n.awake) {
    fx.push({ type: 'power', awake: wantAwake });
    n.awake = wantAwake;
  }

  const io = reconcile(n, level, cfg, wake);
  if (e.type === 'ready') io.effects.push(...loadOnReady(n, level, cfg, e.service, io.effects));
  if (io.restores && n.busy !== null) fx.push({ type: 'cancel' });
  fx.push(...io.effects);
  if (io.effects.length) {
    n.batch += 1;
    n.busy = n.batch;
  }
  return [n, fx];
}

/** Mutates n.stopped / n.unloaded to match `level`; returns the IO effects, restores first. */
function reconcile(
  n: Idle,
  level: Level,
  cfg: IdleConfig,
  wake: boolean,
): { effects: IoEffect[]; restores: boolean } {
  const plans = new Map(cfg.services.map((p) => [p.id, p]));
  const wantStopped = new Set(
    cfg.services.filter((p) => reached(p.stopAt, level)).map((p) => p.id),
  );
  // Stopping unloads; a service we cannot stop (external) still gets its models unloaded.
  const stopsInstead = (p: ServicePlan) =>
    wantStopped.has(p.id) && (p.canStop || n.stopped.includes(p.id));
  const wantUnloaded = new Set(
    cfg.services
      .filter((p) => p.models && reached(p.unloadAt, level) && !stopsInstead(p))
      .map((p) => p.id),
  );
  const starts: IoEffect[] = [];
  const preloads: IoEffect[] = [];
  const unloads: IoEffect[] = [];
  const stops: IoEffect[] = [];
  const stopped = new Set(n.stopped);
  const unloaded = new Set(n.unloaded);

  // Undo what this level no longer removes. A service that left the settings is forgotten.
  for (const id of n.stopped) {
    if (wantStopped.has(id)) continue;
    stopped.delete(id);
    const plan = plans.get(id);
    if (!plan) continue;
    starts.push({ type: 'start', service: id });
    // A fresh start has nothing loaded: either it stays unloaded, or it gets its models back.
    if (plan.models && wantUnloaded.has(id)) unloaded.add(id);
    else if (plan.models) preloads.push({ type: 'preload', service: id });
  }
  for (const id of n.unloaded) {
    if (wantUnloaded.has(id) || wantStopped.has(id)) continue;
    unloaded.delete(id);
    if (plans.has(id)) preloads.push({ type: 'preload', service: id });
  }
  const restores = starts.length + preloads.length > 0;
  // An explicit wake also makes sure the models are loaded, unless a wake is already in flight.
  if (wake && (n.busy === null || restores)) {
    for (const p of cfg.services) {
      if (!p.models || !p.reachable || stopped.has(p.id) || unloaded.has(p.id)) continue;
      if (preloads.some((x) => x.service === p.id)) continue;
      preloads.push({ type: 'preload', service: p.id });
    }
  }

  // Do what this level removes and has not been done. Stopping implies unloading.
  for (const id of wantUnloaded) {
    if (unloaded.has(id) || stopped.has(id) || !plans.get(id)!.reachable) continue;
    unloads.push({ type: 'unload', service: id });
    unloaded.add(id);
  }
  for (const id of wantStopped) {
    if (stopped.has(id) || !plans.get(id)!.canStop) continue;
    stops.push({ type: 'stop', service: id });
    stopped.add(id);
    unloaded.delete(id);
  }

  n.stopped = [...stopped].sort();
  n.unloaded = [...unloaded].sort();
  return { effects: [...starts, ...preloads, ...unloads, ...stops], restores };
}

/** True when `level` keeps the plan's models in memory (neither unloaded nor stopped there). */
export function keepsModels(plan: ServicePlan, level: Level): boolean {
  return plan.models && !reached(plan.unloadAt, level) && !reached(plan.stopAt, level);
}

/**
 * A service came up (any start): it has nothing loaded. Where this level keeps its models and
 * hibernation has not removed them, load them; deeper (by default cold and dormant) it stays empty.
 */
function loadOnReady(
  n: Idle,
  level: Level,
  cfg: IdleConfig,
  id: string,
  planned: IoEffect[],
): IoEffect[] {
  const plan = cfg.services.find((p) => p.id === id);
  if (!plan || !keepsModels(plan, level) || n.stopped.includes(id) || n.unloaded.includes(id))
    return [];
  if (planned.some((x) => x.type === 'preload' && x.service === id)) return [];
  return [{ type: 'preload', service: id, ready: true }];
}

function idleReason(n: Idle, level: Level, now: number, cfg: IdleConfig): string {
  if (n.keepAwake) return 'keep awake';
  if (!cfg.enabled && depth(level) < depth(n.state)) return 'hibernation disabled';
  const idle = now - n.lastActivity;
  if (depth(level) < depth(n.state)) {
    return `idle ${formatDuration(idle)} is below the ${n.state} threshold again (the clock went back or the thresholds changed)`;
  }
  const skipped = LEVELS.filter((l) => depth(l) > depth(n.state) && depth(l) < depth(level));
  const base = `idle ${formatDuration(idle)} (${level} after ${formatDuration(threshold(level, cfg.after))})`;
  return skipped.length
    ? `${base}; skipped ${skipped.join(', ')}: the clock jumped or the machine slept`
    : base;
}

/** The next deeper level and when it begins, or null when none will come by itself. */
export function nextStep(
  s: Idle,
  cfg: IdleConfig,
  now: number,
): { state: Level; at: number } | null {
  if (!cfg.enabled) return null;
  let from = s.lastActivity;
  let current = s.state;
  if (s.keepAwake) {
    if (s.keepAwake.until === null) return null;
    from = Math.max(from, s.keepAwake.until);
    current = 'active';
  }
  const i = depth(current);
  if (i >= LEVELS.length - 1) return null;
  const next = LEVELS[i + 1]!;
  return { state: next, at: Math.max(now, from + threshold(next, cfg.after)) };
}

/** "1h 5m", "5m 0s", "42s": for logs and reasons. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}
