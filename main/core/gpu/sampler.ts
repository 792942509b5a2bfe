// The GPU sampler: reads the inventory once (and on demand), then samples live usage on a cadence
// that follows hibernation, and writes the snapshot's `gpu` section. All IO is injected; one sample
// at a time (a call while one runs joins it); nothing here blocks the event loop.

import {
  PROCESS_STATUSES,
  type GpuHistoryPoint,
  type GpuInfo,
  type GpuSection,
  type HibernationState,
  type ServiceEntry,
} from '../contract.js';
import type { CoreContext } from '../context.js';
import type { Supervisor } from '../context.js';
import type { DeepReadonly, Settings } from '../settings/index.js';
import { ollamaBaseUrl, type RequestOptions } from '../services/ollama.js';
import { presetFor } from '../services/presets.js';
import { sampleIntervalMs, historyCapacity, shouldRefresh, type RefreshMark } from './cadence.js';
import { History } from './history.js';
import { summarizeInventory, type Inventory, type RawInventory } from './inventory.js';
import { OneShotQuery, ToolRunner, type GpuQuery, type RunResult } from './nvidia-smi.js';
import {
  APPS_QUERY_ARGS,
  GPU_QUERY_ARGS,
  parseComputeApps,
  parseGpuQuery,
  type SmiGpu,
} from './smi-parse.js';
import {
  attribute,
  modelUsage,
  splitVram,
  type PsModel,
  type ServiceVram,
  type TagModel,
} from './usage.js';
import {
  checkModelFits,
  fmtGB,
  largestFitting,
  stackAdvice,
  vibeVoiceItem,
  type FitBudget,
  type FitInputs,
  type FitItem,
  type FitResult,
} from '../services/fit.js';

export interface OllamaReader {
  listLoaded(baseUrl: string, opts?: RequestOptions): Promise<PsModel[]>;
  listInstalled(baseUrl: string, opts?: RequestOptions): Promise<TagModel[]>;
}

export interface SmiRunner {
  run(args: readonly string[]): Promise<RunResult>;
}

export interface GpuSamplerDeps {
  ctx: Pick<CoreContext, 'store' | 'settings' | 'logger' | 'clock'>;
  /** Raw inventory (default in index.ts: systeminformation in a child process). */
  readInventory: (signal: AbortSignal) => Promise<RawInventory>;
  /** Finds nvidia-smi; null when there is none. */
  locateSmi: () => Promise<string | null>;
  /** Makes the runner for a located nvidia-smi (default: ToolRunner with a 3 s timeout). */
  smiRunner?: (file: string) => SmiRunner;
  /** Makes the `--query-gpu` reader (index.ts: one looping nvidia-smi; default: a one-shot run per sample). */
  gpuQuery?: (file: string) => GpuQuery;
  smiTimeoutMs?: number;
  ollama?: OllamaReader | null;
  /** The supervisor, once there is one (process trees for attribution, Ollama's URL). */
  supervisor?: () => Pick<Supervisor, 'processTree' | 'baseUrl'> | null;
  /**
   * What another reader last saw in /api/ps (index.ts: hibernation's poll, every 5 s while active).
   * A change re-reads /api/ps at once: loading a model that spills to the CPU, or any model on a
   * fake or unreadable GPU, moves no VRAM figure for the sampler to notice.
   */
  modelsHint?: () => string;
  /** Apple silicon: the GPU's share of memory as Metal reports it (Ollama's "inference compute" line), when seen. */
  metalTotalMB?: () => number | null;
}

/** Statuses in which a service has processes worth matching against nvidia-smi's list. */
/**
 * The compute-apps list is re-read when VRAM in use moves or our processes change; otherwise only this
 * often, as a safety net. Each read starts nvidia-smi, which costs 20-600 ms of CPU (more on Windows):
 * every 30 s, that alone would be most of the idle budget.
 */
const APPS_MAX_AGE_MS = 5 * 60_000;
/** How often the installed-model list (/api/tags) is re-read. */
const INSTALLED_TTL_MS = 60_000;
/** History points carried in every snapshot (the rest: GET /api/gpu/history). */
const RECENT_POINTS = 10;

export class GpuSampler {
  readonly name = 'gpu';
  readonly #d: GpuSamplerDeps;
  readonly #history: History;
  #inventory: Inventory | null = null;
  #inventoryError: string | null = null;
  #inventoryRun: Promise<void> | null = null;
  #smi: { file: string | null; runner: SmiRunner | null; query: GpuQuery | null } | null = null;
  #installed: TagModel[] = [];
  #installedAt = -Infinity;
  #installedKey = '';
  #loaded: PsModel[] = [];
  #serviceVram: ServiceVram[] | null = null;
  #appsMark: RefreshMark | null = null;
  #psMark: RefreshMark | null = null;
  #budget: FitBudget | null = null;
  #companions: FitItem[] = [];
  #inflight: Promise<void> | null = null;
  #timer: unknown = null;
  /** A sample started by the timer is in flight (it schedules the next one when done). */
  #timedRun = false;
  #lastSampleAt = -Infinity;
  #state: HibernationState = 'active';
  #started = false;
  #stopped = false;
  #abort = new AbortController();
  #unsubscribe: (() => void)[] = [];
  readonly #tooBig = new Set<string>();

  constructor(deps: GpuSamplerDeps) {
    this.#d = deps;
    this.#history = new History(historyCapacity(deps.ctx.settings.get().gpu));
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopped = false;
    this.#abort = new AbortController();
    const { store, settings } = this.#d.ctx;
    this.#state = store.get('hibernation').state;
    this.#unsubscribe.push(
      store.onChange((s) => {
        if (s.hibernation.state !== this.#state) {
          this.#state = s.hibernation.state;
          this.#reschedule();
        }
      }),
      settings.onChange(({ next, prev }) => {
        if (JSON.stringify(next.gpu) !== JSON.stringify(prev.gpu)) {
          this.#history.resize(historyCapacity(next.gpu));
          this.#reschedule();
        }
      }),
    );
    // Inventory in the background: the first samples do not wait for it.
    void this.refreshInventory();
    this.#schedule(0);
  }

  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#stopped = true;
    this.#abort.abort();
    if (this.#timer !== null) this.#d.ctx.clock.clearTimeout(this.#timer);
    this.#timer = null;
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#smi?.query?.stop();
  }

  /** Milliseconds between samples in the current hibernation state. */
  intervalMs(): number {
    return sampleIntervalMs(this.#state, this.#d.ctx.settings.view().gpu);
  }

  inventory(): { inventory: Inventory | null; error: string | null } {
    return { inventory: this.#inventory, error: this.#inventoryError };
  }

  /** Re-reads the inventory (and re-locates nvidia-smi); then samples once. */
  refreshInventory(): Promise<void> {
    if (this.#inventoryRun) return this.#inventoryRun;
    const signal = this.#abort.signal;
    this.#inventoryRun = (async () => {
      try {
        const raw = await this.#d.readInventory(signal);
        this.#inventory = summarizeInventory(raw);
        this.#inventoryError = null;
      } catch (err) {
        this.#inventoryError = (err as Error).message;
        this.#d.ctx.logger.warn('GPU inventory failed', { err: this.#inventoryError });
      }
      this.#smi?.query?.stop();
      this.#smi = null;
      this.#installedAt = -Infinity;
    })().finally(() => {
      this.#inventoryRun = null;
    });
    return this.#inventoryRun.then(async () => {
      if (!this.#stopped && !signal.aborted) await this.sampleNow();
    });
  }

  /** Takes one sample now (joins the one in flight, if any). */
  sampleNow(): Promise<void> {
    if (!this.#inflight) {
      this.#inflight = this.#sample()
        .catch((err: unknown) => this.#d.ctx.logger.error('GPU sample failed', { err }))
        .finally(() => {
          this.#inflight = null;
        });
    }
    return this.#inflight;
  }

  history(since?: number): {
    intervalSeconds: number;
    capacity: number;
    points: GpuHistoryPoint[];
  } {
    return {
      intervalSeconds: this.intervalMs() / 1000,
      capacity: this.#history.max,
      points: this.#history.points(since),
    };
  }

  /** What the fit checks use now: budget, installed and loaded models, companions. */
  fitInputs(): FitInputs {
    return {
      budget: this.#budget,
      installed: this.#installed,
      loaded: this.#loaded,
      companions: this.#companions,
    };
  }

  /** Will `model` fit next to what must stay loaded? For the dashboard, before a preload or pull. */
  checkModelFits(model: string): FitResult {
    return checkModelFits(model, this.fitInputs());
  }

  // ---- scheduling ----

  /** True in cold and dormant: no timer and no looping nvidia-smi; samples only on demand. */
  onDemand(): boolean {
    return onDemandIn(this.#state);
  }

  #schedule(delayMs: number): void {
    if (!this.#started) return;
    const { clock } = this.#d.ctx;
    if (this.#timer !== null) clock.clearTimeout(this.#timer);
    this.#timer = null;
    if (this.onDemand()) return;
    this.#timer = clock.setTimeout(
      () => {
        this.#timer = null;
        this.#timedRun = true;
        void this.sampleNow().then(() => {
          this.#timedRun = false;
          this.#schedule(this.intervalMs());
        });
      },
      Math.max(0, delayMs),
    );
  }

  /** A new cadence applies at once, measured from the last sample. */
  #reschedule(): void {
    if (!this.#started) return;
    if (this.onDemand()) {
      // Any nvidia-smi query wakes the discrete GPU of an Optimus laptop, and a looping one keeps it
      // awake (20-25 W): stop it until someone asks or the server wakes.
      this.#smi?.query?.stop();
      this.#schedule(0);
      // Say so now (the dashboard explains old figures); reading the GPU to say it would wake it.
      const { store } = this.#d.ctx;
      if (!this.#stopped && !store.get('gpu').onDemand)
        store.update('gpu', (g) => ({
          ...g,
          onDemand: true,
          intervalSeconds: this.intervalMs() / 1000,
        }));
      return;
    }
    // A timed sample in flight schedules the next itself; otherwise (back from on-demand) start here.
    if (this.#timedRun) return;
    const since = this.#d.ctx.clock.now() - this.#lastSampleAt;
    this.#schedule(Math.max(0, this.intervalMs() - since));
  }

  // ---- one sample ----

  async #sample(): Promise<void> {
    const { store, settings: settingsStore, clock, logger } = this.#d.ctx;
    const settings = settingsStore.view(); // read-only: no copy of all the settings per sample
    const services = store.get('services');
    const inv = this.#inventory;
    const sup = this.#d.supervisor?.() ?? null;

    const smi = await this.#locate();
    const live = services.filter((s) => PROCESS_STATUSES.has(s.status) && s.pid !== null);

    // NVIDIA usage first: whether the slower sources need re-reading depends on it.
    // On demand (cold, dormant): one nvidia-smi that exits, never the loop.
    const query =
      this.onDemand() && smi.runner ? new OneShotQuery(smi.runner, GPU_QUERY_ARGS) : smi.query;
    const gpuRes = query && !inv?.appleSilicon ? await query.read(this.intervalMs()) : null;
    let smiGpus: SmiGpu[] | null = null;
    let error: string | null = null;
    if (gpuRes) {
      const parsed = gpuRes.ok ? parseGpuQuery(gpuRes.stdout) : gpuRes;
      if (parsed.ok) {
        smiGpus = parsed.value;
        if (parsed.skipped.length)
          logger.debug('nvidia-smi lines skipped', { skipped: parsed.skipped });
      } else error = `unavailable: ${parsed.why}`;
    } else if (!inv?.appleSilicon && inv?.gpus.some((g) => g.vendor === 'NVIDIA')) {
      error = 'unavailable: nvidia-smi not found (is the NVIDIA driver installed?)';
    } else if (!inv && this.#inventoryError && !smi.file) {
      error = `unavailable: ${this.#inventoryError}`;
    }
    const usedMB =
      smiGpus && smiGpus.every((g) => g.usedMB !== null)
        ? smiGpus.reduce((t, g) => t + g.usedMB!, 0)
        : null;

    // The process list and /api/ps change when VRAM in use does (or our services do): re-read them
    // only then, or after 5 min (the process list) and 30 s (/api/ps), to save a process spawn and
    // an HTTP request on most samples. /api/ps is also re-read when hibernation's poll saw the
    // loaded models change (`modelsHint`).
    const t = clock.now();
    const appsMark: RefreshMark = {
      at: t,
      usedMB,
      key: live.map((s) => `${s.id}:${s.pid}`).join(','),
    };
    const wantApps =
      !!(smi.runner && smiGpus && sup && live.length > 0) &&
      shouldRefresh(this.#appsMark, appsMark, APPS_MAX_AGE_MS);
    const ollamaUrl = this.#ollamaUrl(services, settings, sup);
    const ollamaEntry = services.find((s) => s.id === 'ollama');
    const psMark: RefreshMark = {
      at: t,
      usedMB,
      key: `${ollamaUrl}|${this.#state}|${ollamaEntry?.status}:${ollamaEntry?.pid}|${this.#d.modelsHint?.() ?? ''}`,
    };
    const wantPs = !!(ollamaUrl && this.#d.ollama) && shouldRefresh(this.#psMark, psMark);
    const [appsRes, treeMap, ps] = await Promise.all([
      wantApps ? smi.runner!.run(APPS_QUERY_ARGS) : null,
      wantApps ? this.#trees(sup!, live) : null,
      wantPs ? this.#d.ollama!.listLoaded(ollamaUrl!, { timeoutMs: 2000 }).catch(() => null) : null,
    ]);
    const now = clock.now();

    // Per-service attribution (kept from the last read while nothing changed).
    if (!smiGpus || live.length === 0 || !sup) {
      this.#serviceVram = null;
      this.#appsMark = null;
    } else if (wantApps) {
      const parsed = appsRes && (appsRes.ok ? parseComputeApps(appsRes.stdout) : appsRes);
      if (parsed?.ok && treeMap) {
        this.#serviceVram = attribute(parsed.value, treeMap).services;
        this.#appsMark = appsMark;
      } else {
        if (parsed && !parsed.ok)
          logger.debug('nvidia-smi compute apps unreadable', { why: parsed.why });
        this.#serviceVram = null;
        this.#appsMark = null;
      }
    }

    // Per model (Ollama).
    if (!ollamaUrl || !this.#d.ollama) {
      this.#loaded = [];
      this.#psMark = null;
    } else if (wantPs && ps) {
      this.#loaded = ps;
      this.#psMark = psMark;
    } else if (wantPs) {
      // Unanswered: Ollama ≥ 0.32.10 holds /api/ps while a model loads. Keep the last list (the
      // panel must not empty) and ask again next sample.
      this.#psMark = null;
    }
    const models = modelUsage(this.#loaded);
    // One split for the bar, the snapshot and the advice (usage.ts splitVram).
    const split = splitVram({
      usedMB,
      attributed: this.#serviceVram,
      models,
      live: live.map((s) => s.id),
    });
    const serviceVram = split.services.length ? split.services : undefined;
    const otherMB = split.otherMB;
    await this.#refreshInstalled(ollamaUrl, now);

    const gpus = this.#gpus(inv, smiGpus, models);
    const section: GpuSection = {
      sampledAt: new Date(now).toISOString(),
      gpus,
      models,
      error,
      ...(serviceVram ? { services: serviceVram } : {}),
      otherMB,
      intervalSeconds: this.intervalMs() / 1000,
      ...(this.onDemand() ? { onDemand: true } : {}),
      advice: null,
      recent: [],
    };

    // Fit advice: once we know what GPU there is (or that there is none).
    this.#budget = budgetOf(gpus, otherMB);
    this.#companions = this.#vibeVoiceOn(services, settings)
      ? [vibeVoiceItem(this.#serviceVram?.find((s) => s.service === 'vibevoice')?.vramMB)]
      : [];
    const known = gpus.length > 0 || inv !== null || this.#inventoryError !== null;
    if (known) {
      section.advice = stackAdvice(settings.models.preload, this.fitInputs());
      this.#notifyTooBig(settings);
    }

    this.#history.push({
      t: now,
      usedMB: gpus.map((g) => g.vramUsedMB),
      utilPct: gpus.map((g) => g.utilizationPct ?? null),
    });
    section.recent = this.#history.points(-Infinity, RECENT_POINTS);
    this.#lastSampleAt = now;
    // A sample that was in flight when the sampler stopped does not write any more.
    if (!this.#stopped) store.set('gpu', section);
  }

  async #locate(): Promise<{
    file: string | null;
    runner: SmiRunner | null;
    query: GpuQuery | null;
  }> {
    if (this.#smi) return this.#smi;
    const file = await this.#d.locateSmi().catch(() => null);
    const make =
      this.#d.smiRunner ??
      ((f: string) =>
        new ToolRunner(f, { label: 'nvidia-smi', timeoutMs: this.#d.smiTimeoutMs ?? 3000 }));
    const runner = file ? make(file) : null;
    const query =
      file && runner
        ? (this.#d.gpuQuery?.(file) ?? new OneShotQuery(runner, GPU_QUERY_ARGS))
        : null;
    this.#smi = { file, runner, query };
    return this.#smi;
  }

  async #trees(
    sup: Pick<Supervisor, 'processTree'>,
    live: ServiceEntry[],
  ): Promise<Map<string, number[]>> {
    const entries = await Promise.all(
      live.map(async (s) => {
        try {
          return [s.id, await sup.processTree(s.id)] as const;
        } catch {
          return [s.id, s.pid !== null ? [s.pid] : []] as const;
        }
      }),
    );
    return new Map(entries.map(([id, pids]) => [id, [...pids]]));
  }

  /** Ollama's URL when it may be up: its entry is live, or there is no supervisor view yet. */
  #ollamaUrl(
    services: ServiceEntry[],
    settings: DeepReadonly<Settings>,
    sup: Pick<Supervisor, 'baseUrl'> | null,
  ): string | null {
    const entry = services.find((s) => s.id === 'ollama');
    if (entry && (!entry.enabled || !PROCESS_STATUSES.has(entry.status))) return null;
    const port = entry?.port ?? settings.services.ollama?.port ?? presetFor('ollama')?.port;
    return ollamaBaseUrl({ supervisor: sup?.baseUrl('ollama'), port });
  }

  async #refreshInstalled(url: string | null, now: number): Promise<void> {
    if (!url || !this.#d.ollama) return;
    // Also re-read when the loaded set changes (a pull or a first load just happened).
    const key = this.#loaded
      .map((m) => m.name)
      .sort()
      .join(',');
    if (now - this.#installedAt < INSTALLED_TTL_MS && key === this.#installedKey) return;
    this.#installedKey = key;
    this.#installedAt = now;
    try {
      this.#installed = await this.#d.ollama.listInstalled(url, { timeoutMs: 2000 });
    } catch {
      // keep the last list
    }
  }

  #vibeVoiceOn(services: ServiceEntry[], settings: DeepReadonly<Settings>): boolean {
    const entry = services.find((s) => s.id === 'vibevoice');
    if (entry) return entry.enabled;
    return settings.services.vibevoice?.enabled ?? presetFor('vibevoice')?.enabled ?? false;
  }

  #gpus(
    inv: Inventory | null,
    smiGpus: SmiGpu[] | null,
    models: ReturnType<typeof modelUsage>,
  ): GpuInfo[] {
    if (inv?.appleSilicon) {
      // Unified memory: the used figure is what Ollama has in GPU memory (nothing else reports it).
      const used = models.reduce((s, m) => s + m.vramMB, 0);
      // What Metal reports beats the share rule; a user's iogpu.wired_limit_mb is what Metal reports too.
      const metal = this.#d.metalTotalMB?.() ?? null;
      return inv.gpus
        .filter((g) => g.unified)
        .map((g) => ({
          name: g.name,
          vendor: g.vendor,
          vramTotalMB: metal ?? g.vramTotalMB ?? 0,
          vramUsedMB: used,
          unified: true,
          unifiedMemoryMB: inv.ramTotalMB,
        }));
    }
    const out: GpuInfo[] = [];
    const invNvidia = inv?.gpus.filter((g) => g.vendor === 'NVIDIA') ?? [];
    if (smiGpus) {
      for (const g of smiGpus) {
        out.push({
          name: g.name,
          vendor: 'NVIDIA',
          vramTotalMB: g.totalMB ?? invNvidia[g.index]?.vramTotalMB ?? 0,
          vramUsedMB: g.usedMB,
          unified: false,
          index: g.index,
          utilizationPct: g.utilizationPct,
          temperatureC: g.temperatureC,
          powerW: g.powerW,
        });
      }
    } else {
      invNvidia.forEach((g, index) =>
        out.push({
          name: g.name,
          vendor: g.vendor,
          vramTotalMB: g.vramTotalMB ?? 0,
          vramUsedMB: null,
          unified: false,
          index,
        }),
      );
    }
    // AMD cards Ollama can use (ROCm): inventory only, no live usage.
    for (const g of inv?.gpus ?? []) {
      if (g.vendor === 'AMD' && (g.vramTotalMB ?? 0) >= 2048)
        out.push({
          name: g.name,
          vendor: g.vendor,
          vramTotalMB: g.vramTotalMB!,
          vramUsedMB: null,
          unified: false,
        });
    }
    return out;
  }

  /** A notice (code `model_too_big`) the first time a preloaded model will not fit; again only after it did. */
  #notifyTooBig(settings: DeepReadonly<Settings>): void {
    if (!this.#budget) return;
    const inputs = this.fitInputs();
    const still = new Set<string>();
    for (const model of settings.models.preload) {
      const r = checkModelFits(model, inputs);
      if (r.level !== 'too-big') continue;
      const key = `${model}|${this.#budget.totalMB}`;
      still.add(key);
      if (this.#tooBig.has(key)) continue;
      this.#tooBig.add(key);
      const alt = largestFitting(inputs);
      const sum = `${r.items.map((i) => i.name).join(' + ')}: ${fmtGB(r.neededMB ?? 0)} of ${fmtGB(r.availableMB ?? 0)} GB`;
      this.#d.ctx.store.notify({
        level: 'warning',
        code: 'model_too_big',
        message:
          `${model} is too big for this GPU (${sum}). It would run partly on the CPU and answer slowly.` +
          (alt ? ` ${alt} fits: choose it in Settings → Models.` : ''),
      });
    }
    for (const k of [...this.#tooBig]) if (!still.has(k)) this.#tooBig.delete(k);
  }
}

/** Hibernation states in which the GPU is read only on demand (no timer, no looping nvidia-smi). */
function onDemandIn(state: HibernationState): boolean {
  return state === 'cold' || state === 'dormant';
}

/** What the fit advice may use: all NVIDIA/AMD VRAM, or the unified ceiling. */
function budgetOf(gpus: readonly GpuInfo[], otherUsedMB: number | null): FitBudget | null {
  const sized = gpus.filter((g) => g.vramTotalMB > 0);
  if (sized.length === 0) return null;
  return {
    totalMB: sized.reduce((s, g) => s + g.vramTotalMB, 0),
    unified: sized.some((g) => g.unified),
    gpuCount: sized.length,
    largestMB: Math.max(...sized.map((g) => g.vramTotalMB)),
    otherUsedMB,
  };
}
