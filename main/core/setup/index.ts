// First-run setup (issue 18): one card per service (Ollama, Piper, VibeVoice), each run by the
// user's click, its phases resumable, cancellable and explained; the model tier from the GPU;
// and the phone step, which turns green at the first request from another device. Nothing here
// runs on its own: every install starts with a POST from the user.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Capability, CoreContext } from '../context.js';
import { answersHealthy, serviceMissing, type SetupView, type StepView } from '../contract.js';
import { CoreError } from '../errors.js';
import type { Supervisor } from '../context.js';
import { createSetupIO, type SetupIO } from './io.js';
import { phoneFromSource, phoneRequest, type OwnAddresses } from './phone.js';
import { SOURCES, type Sources } from './sources.js';
import { OUTPUT_LINES, SetupStateFile, STEP_IDS, type StepId } from './state.js';
import { STEPS, type PhaseContext } from './steps.js';
import { chooseTier, type Tier } from './tier.js';

export { serviceMissing } from '../contract.js';
export { type Sources } from './sources.js';

export interface SetupDeps {
  supervisor: Pick<Supervisor, 'get' | 'onLog' | 'waitReady'>;
  /** The app created its settings on this start: a first start opens the setup view. */
  firstStart: boolean;
  io?: SetupIO;
  /** Tests point the URL table at a loopback server. */
  sources?: Partial<Sources>;
  platform?: NodeJS.Platform;
  arch?: string;
  env?: Record<string, string | undefined>;
  home?: string;
  /** This host's own addresses (requests from them are not the phone); default: every interface's. */
  ownAddresses?: () => Set<string>;
  /** This host's LAN addresses for the phone step; default: non-internal IPv4 addresses. */
  lanAddresses?: () => string[];
}

export interface Setup extends Capability {
  view(): SetupView;
  run(id: StepId): void;
  cancel(id: StepId): void;
  dismiss(): void;
  /** The front door's activity source for a request that did work (the phone step watches it). */
  requestSeen(source: string): void;
}

const STEP_NAMES: Record<StepId, string> = {
  ollama: 'Ollama',
  piper: 'Piper',
  vibevoice: 'VibeVoice',
};

function readOwn(): Set<string> {
  const own = new Set(['127.0.0.1', '::1']);
  for (const list of Object.values(os.networkInterfaces()))
    for (const a of list ?? []) own.add(a.address.replace(/%.*$/, ''));
  return own;
}

/**
 * This host's addresses, read again only for an address not among them. Until the phone is seen,
 * every front-door request asks (twice); os.networkInterfaces() on each was the largest cost of a
 * small request in the core's profile (bench/frontdoor.bench.ts). A new address of this host is
 * still recognised: it is not in the cache, so the interfaces are read again before deciding.
 */
export function cachedOwnAddresses(read: () => Set<string> = readOwn): OwnAddresses {
  let own: Set<string> | null = null;
  return {
    has(address) {
      if (own?.has(address)) return true;
      own = read();
      return own.has(address);
    },
  };
}

function defaultLan(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  return out;
}

export function createSetup(ctx: CoreContext, deps: SetupDeps): Setup {
  const own = cachedOwnAddresses(deps.ownAddresses);
  const { store, logger: parentLogger, commands, settings } = ctx;
  const logger = parentLogger.child('setup');
  const io = deps.io ?? createSetupIO(deps.env);
  const sources: Sources = { ...SOURCES, ...deps.sources };
  const platform = deps.platform ?? process.platform;
  const arch = deps.arch ?? process.arch;
  const env = deps.env ?? process.env;
  const home = deps.home ?? os.homedir();
  const state = new SetupStateFile(ctx.dataDir);
  // An install that predates setup (settings existed, no setup state) opens it only for a missing service.
  if (state.fresh && !deps.firstStart) state.get().dismissed = true;
  const running = new Map<StepId, AbortController>();
  let stopping = false;
  let uvLock: Promise<unknown> = Promise.resolve();
  let lastSave = 0;
  let unsubLog: (() => void) | null = null;

  const save = (force = true) => {
    const now = Date.now();
    if (!force && now - lastSave < 1000) return;
    lastSave = now;
    try {
      state.save();
    } catch (err) {
      logger.warn('could not save the setup state', { error: (err as Error).message });
    }
  };

  // Kept from the first start on: quitting before a click still opens setup next time.
  if (state.fresh) save();

  const tierNow = (): Tier | null => {
    const g = store.get('gpu');
    if (g.sampledAt === null && !g.gpus.length && !g.error) return null;
    return chooseTier(g.gpus);
  };

  function stepView(id: StepId, tier: Tier | null): StepView {
    const rec = state.step(id);
    const e = store.get('services').find((s) => s.id === id);
    const healthy = answersHealthy(e);
    return {
      ...rec,
      output: rec.output.slice(-OUTPUT_LINES),
      name: STEP_NAMES[id],
      phases: STEPS[id].phases.map((p) => ({
        key: p.key,
        label: p.label,
        // Phases that run every time (look, start) are not recorded; a finished step did them all.
        done: rec.state === 'done' || rec.done.includes(p.key),
      })),
      service: e ? { status: e.status, healthy, lastError: e.lastError } : null,
      ready: healthy && (rec.state === 'done' || (rec.state === 'todo' && healthy)),
      missing: serviceMissing(e),
      optional:
        id === 'vibevoice' && tier && !tier.vibevoice
          ? `Not needed on this GPU: VibeVoice does not fit next to ${tier.model}, so Piper speaks. It can still be installed.`
          : null,
    };
  }

  function view(): SetupView {
    const tier = tierNow();
    const steps = STEP_IDS.map((id) => stepView(id, tier));
    const missing = steps.filter((s) => s.missing);
    const d = state.get();
    const host = store.get('host');
    const reason = missing.length
      ? `${missing.map((s) => s.name).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not installed`
      : !d.dismissed
        ? 'first start'
        : null;
    return {
      needed: reason !== null,
      reason,
      tier,
      steps,
      phone: {
        // What discovery advertises (pair's "what to type in the app"), else every LAN IPv4 address.
        addresses: host.addresses?.filter((a) => !a.startsWith('127.')).length
          ? host.addresses.filter((a) => !a.startsWith('127.'))
          : (deps.lanAddresses ?? defaultLan)(),
        hostname: os.hostname(),
        sharedName: host.sharedName?.name ?? null,
        model: tier?.model ?? null,
        seen: d.phone,
      },
    };
  }

  async function startService(id: string, timeoutMs: number, changed: boolean): Promise<void> {
    const e = deps.supervisor.get(id);
    const healthy = answersHealthy(e);
    if (!(healthy && !changed) && e?.status !== 'external') {
      // Restart is queued behind the restart a settings change may have started: it runs with the new settings.
      await commands.execute({ type: 'service.restart', id });
    }
    if (!(await deps.supervisor.waitReady(id, timeoutMs))) {
      const now = deps.supervisor.get(id);
      throw new Error(
        `${now?.name ?? id} did not become ready (${now?.status ?? 'unknown'}): ${now?.lastError ?? 'no error was reported; see its log in Services'}`,
      );
    }
  }

  async function runStep(id: StepId, ctl: AbortController): Promise<void> {
    const rec = state.step(id);
    const def = STEPS[id];
    const tier = tierNow() ?? chooseTier([]);
    let changed = false;
    const c: PhaseContext = {
      io,
      sources,
      dataDir: ctx.dataDir,
      platform,
      arch,
      home,
      env,
      signal: ctl.signal,
      tier,
      gpuVendors: store.get('gpu').gpus.map((g) => g.vendor),
      facts: rec.facts,
      progress: (label, received, total) => {
        rec.progress = { label, received, total };
        save(false);
      },
      line: (text) => {
        rec.output.push(text.slice(0, 500));
        if (rec.output.length > OUTPUT_LINES * 2)
          rec.output.splice(0, rec.output.length - OUTPUT_LINES);
        logger.debug(`${id}: ${text}`);
      },
      settings: () => settings.get(),
      updateSettings: (patch) => {
        const before = JSON.stringify([settings.view().services, settings.view().models]);
        const r = settings.update(patch);
        if (!r.ok) throw new Error(`settings refused ${r.problem.field}: ${r.problem.message}`);
        // "Check again" on a working service writes the same values: no restart for that.
        if (JSON.stringify([r.settings.services, r.settings.models]) !== before) changed = true;
      },
      service: (sid) => deps.supervisor.get(sid),
      startService: (sid, ms) => startService(sid, ms, changed),
    };
    let phase = def.phases[0]!;
    try {
      for (const p of def.phases) {
        if (!p.always && rec.done.includes(p.key)) continue;
        phase = p;
        rec.phase = p.label;
        rec.progress = null;
        save();
        logger.info(`${def.name}: ${p.label}`);
        if (p.key === 'uv') {
          // Piper and VibeVoice may both need uv: one download, not two into the same file.
          const next = uvLock.then(() => p.run(c));
          uvLock = next.catch(() => {});
          await next;
        } else {
          await p.run(c);
        }
        if (!p.always && !rec.done.includes(p.key)) rec.done.push(p.key);
      }
      rec.state = 'done';
      rec.phase = null;
      rec.progress = null;
      rec.error = null;
      rec.manual = null;
      // The service's old "not found" notices, and this step's failed tries, are answered now.
      for (const n of store.snapshot().notices) {
        if (
          n.message.startsWith(`${def.name}: `) ||
          (n.code === 'setup_failed' && n.message.startsWith(`Setting up ${def.name} failed`))
        ) {
          store.dismissNotice(n.id);
        }
      }
      store.notify({
        level: 'info',
        code: 'setup_done',
        message: `${def.name} is set up and running.`,
      });
      if (
        STEP_IDS.every(
          (s) => state.step(s).state === 'done' || (s === 'vibevoice' && tier.vibevoice === false),
        )
      ) {
        state.get().dismissed = true;
        clearSetupNeeded();
      }
    } catch (err) {
      rec.progress = null;
      if (ctl.signal.aborted) {
        rec.state = stopping ? 'interrupted' : 'cancelled';
        rec.error = stopping
          ? 'Stopped when the app quit. Press Resume: it continues where it stopped.'
          : 'Cancelled. Press Resume to continue where it stopped.';
        rec.manual = null;
      } else {
        const message = (err as Error).message;
        rec.state = 'failed';
        rec.error = `${phase.label} failed: ${message}`;
        try {
          rec.manual = phase.manual(c);
        } catch {
          rec.manual = null;
        }
        logger.warn(`${def.name}: ${phase.label} failed`, { error: message });
        store.notify({
          level: 'error',
          code: 'setup_failed',
          message: `Setting up ${def.name} failed: ${message}`,
        });
      }
    } finally {
      running.delete(id);
      save();
    }
  }

  function clearSetupNeeded(): void {
    for (const n of store.snapshot().notices)
      if (n.code === 'setup_needed') store.dismissNotice(n.id);
  }

  function phoneSeen(service: string, from: string, how: string): void {
    state.get().phone = { at: new Date(ctx.clock.now()).toISOString(), from, service };
    save();
    logger.info('first request from another device', { from, service, how });
    const name = (STEP_NAMES as Record<string, string>)[service] ?? service;
    store.notify({
      level: 'info',
      code: 'phone_seen',
      message: `The phone reached ${name} (from ${from}).`,
    });
  }

  return {
    name: 'setup',
    start() {
      stopping = false;
      // On the first start the Electron app shows only its tray icon: a notice (a desktop
      // notification whose click opens #setup) says where to begin.
      if (!state.get().dismissed) {
        store.notify({
          level: 'info',
          code: 'setup_needed',
          message:
            'Set up this computer for the UnaMentis app: open Setup and press each card’s button.',
        });
      }
      unsubLog = deps.supervisor.onLog(({ service, line }) => {
        if (state.get().phone || !(STEP_IDS as readonly string[]).includes(service)) return;
        const seen = phoneRequest(line.text, own);
        if (!seen) return;
        state.get().phone = {
          at: new Date(ctx.clock.now()).toISOString(),
          from: seen.from,
          service,
        };
        save();
        logger.info('first request from another device', {
          from: seen.from,
          service,
          path: seen.path,
        });
        store.notify({
          level: 'info',
          code: 'phone_seen',
          message: `The phone reached ${STEP_NAMES[service as StepId]} (from ${seen.from}).`,
        });
      });
    },
    async stop() {
      stopping = true;
      unsubLog?.();
      unsubLog = null;
      const waits = [...running.values()].map((ctl) => {
        ctl.abort();
        return new Promise<void>((r) => {
          const t = setInterval(() => {
            if (![...running.values()].includes(ctl)) {
              clearInterval(t);
              r();
            }
          }, 20);
        });
      });
      await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 5000))]);
      save();
    },
    view,
    requestSeen(source) {
      if (state.get().phone) return;
      const seen = phoneFromSource(source, own);
      if (seen) phoneSeen(seen.service, seen.from, 'through the front door');
    },
    run(id) {
      if (running.has(id))
        throw new CoreError('conflict', `${STEP_NAMES[id]} is being set up already.`);
      const ctl = new AbortController();
      running.set(id, ctl);
      const rec = state.step(id);
      rec.state = 'running';
      rec.error = null;
      rec.manual = null;
      rec.updatedAt = new Date(ctx.clock.now()).toISOString();
      save();
      void runStep(id, ctl);
    },
    cancel(id) {
      const ctl = running.get(id);
      if (!ctl) throw new CoreError('conflict', `${STEP_NAMES[id]} is not being set up.`);
      ctl.abort();
    },
    dismiss() {
      state.get().dismissed = true;
      save();
      clearSetupNeeded();
    },
  };
}

/** UNAMENTIS_SETUP_SOURCES: a JSON file that overrides entries of the URL table (a mirror, or a test's loopback server). */
export function sourcesFromEnv(
  env: Record<string, string | undefined> = process.env,
): Partial<Sources> | undefined {
  const file = env.UNAMENTIS_SETUP_SOURCES;
  if (!file) return undefined;
  return JSON.parse(fs.readFileSync(path.resolve(file), 'utf8')) as Partial<Sources>;
}
