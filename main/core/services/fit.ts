// Pure fit advice: does the configured stack (preloaded Ollama models + VibeVoice) fit in this GPU,
// and will a model about to be loaded or pulled fit? Numbers from the reference guide
// (server-infrastructure-guide.md §2–3) and from what this host really reports (/api/tags sizes,
// /api/ps sizes, measured per-service VRAM). Calibration notes: main/core/gpu/README.md. In the kernel,
// so the GPU view and setup's tier choice share one set of rules.

import type { FitAdvice } from '../contract.js';
import type { PsModel, TagModel } from './ollama.js';

const MiB = 1024 * 1024;
/** Model sizes in the guide and in Ollama are decimal GB; card VRAM is binary (12 GB = 12288 MiB). */
const GB = 1e9;

/**
 * VRAM the driver, the CUDA/Metal context and the desktop keep for themselves. Ollama reserves
 * about the same before placing layers (457 MiB CUDA minimum; +512 MiB on Metal, ollama PR #4068).
 */
const RESERVE_MB = 512;

/** §2.1/§2.2 of the guide: VRAM each model needs on a GPU, in decimal GB (low–high). */
export const REFERENCE_MODELS: Readonly<Record<string, readonly [number, number]>> = {
  'mistral:7b': [5, 6],
  'llama3.2:3b': [2.5, 3.5],
  'qwen2.5:7b': [5, 6],
  'qwen2.5:14b': [10.5, 11.5],
  'qwen2.5:32b': [22, 24],
};

/** Ollama's `:latest` tags that are one of the above. */
const ALIASES: Readonly<Record<string, string>> = {
  'mistral:latest': 'mistral:7b',
  'llama3.2:latest': 'llama3.2:3b',
  'qwen2.5:latest': 'qwen2.5:7b',
};

/** VibeVoice-Realtime-0.5B: ~2–3 GB (guide §2.1). */
const VIBEVOICE_GB: readonly [number, number] = [2, 3];

export interface FitItem {
  name: string;
  /** Expected MiB (what the message adds up). */
  mb: number;
  lowMB: number;
  highMB: number;
  source: 'loaded' | 'measured' | 'installed' | 'reference' | 'estimate' | 'unknown';
}

export interface FitBudget {
  /** Usable VRAM: the sum over GPUs, or the unified-memory ceiling on Apple silicon. */
  totalMB: number;
  unified: boolean;
  gpuCount: number;
  /** The largest single GPU (a model split over two cards is slower). */
  largestMB: number;
  /** VRAM other programs (not our services) hold right now, when known. */
  otherUsedMB?: number | null;
}

export interface FitInputs {
  /** null: no GPU found. */
  budget: FitBudget | null;
  installed: readonly TagModel[];
  loaded: readonly PsModel[];
  /** Always resident next to the models (VibeVoice when enabled), already sized. */
  companions: readonly FitItem[];
}

export type FitResult = FitAdvice & { items: FitItem[]; lowMB: number; highMB: number };

function normalizeModelName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.includes(':') ? n : `${n}:latest`;
}

const mb = (bytes: number) => Math.round(bytes / MiB);

function ranged(name: string, expectedBytes: number, source: FitItem['source']): FitItem {
  const tol = Math.max(0.5 * GB, expectedBytes * 0.04);
  return {
    name,
    mb: mb(expectedBytes),
    lowMB: mb(expectedBytes - tol),
    highMB: mb(expectedBytes + tol),
    source,
  };
}

/** From the download size: weights × 1.1 plus ~0.9 GB of KV cache and buffers at the default context. */
export function vramFromDiskBytes(diskBytes: number): number {
  return diskBytes * 1.1 + 0.9 * GB;
}

/** How much VRAM `model` needs: what Ollama reports once loaded, else an estimate (best source first). */
export function estimateModel(
  model: string,
  installed: readonly TagModel[],
  loaded: readonly PsModel[],
): FitItem {
  const key = normalizeModelName(model);
  const isIt = (n: string) => normalizeModelName(n) === key;
  const ps = loaded.find((m) => isIt(m.name));
  if (ps && ps.sizeBytes > 0) {
    const v = mb(ps.sizeBytes);
    return { name: model, mb: v, lowMB: v, highMB: v, source: 'loaded' };
  }
  const tag = installed.find((m) => isIt(m.name));
  if (tag && tag.sizeBytes > 0) return ranged(model, vramFromDiskBytes(tag.sizeBytes), 'installed');
  const ref = REFERENCE_MODELS[ALIASES[key] ?? key];
  if (ref) {
    const [lo, hi] = ref;
    return {
      name: model,
      mb: mb(((lo + hi) / 2) * GB),
      lowMB: mb(lo * GB),
      highMB: mb(hi * GB),
      source: 'reference',
    };
  }
  // "name:14b", "name:70b-instruct-q4_K_M": Q4_K_M weighs about 0.62 GB per billion parameters.
  const params = /:(?:[a-z]*-)?(\d+(?:\.\d+)?)b\b/.exec(key);
  if (params) return ranged(model, vramFromDiskBytes(Number(params[1]) * 0.62 * GB), 'estimate');
  return { name: model, mb: 0, lowMB: 0, highMB: 0, source: 'unknown' };
}

/** VibeVoice as a companion: measured VRAM when the sampler saw its processes, else the guide's range. */
export function vibeVoiceItem(measuredMB?: number | null): FitItem {
  if (measuredMB && measuredMB > 0)
    return {
      name: 'VibeVoice',
      mb: measuredMB,
      lowMB: measuredMB,
      highMB: measuredMB,
      source: 'measured',
    };
  const [lo, hi] = VIBEVOICE_GB;
  return {
    name: 'VibeVoice',
    mb: mb(((lo + hi) / 2) * GB),
    lowMB: mb(lo * GB),
    highMB: mb(hi * GB),
    source: 'reference',
  };
}

/** "8.4", "12", "0.5": GiB with at most one decimal, as Task Manager and nvidia-smi users read it. */
export function fmtGB(mib: number): string {
  const g = Math.round((mib / 1024) * 10) / 10;
  return Number.isInteger(g) ? String(g) : g.toFixed(1);
}

/**
 * The verdict for a set of items sharing the budget:
 *  ok      — even the high estimate fits with the reserve left over (the matrix's "Yes");
 *  tight   — the low estimate fits, the high one may not (the matrix's "Tight"; may spill to the CPU);
 *  too-big — even the low estimate does not fit: part of it would run on the CPU, slowly;
 *  unknown — no GPU, or nothing to size.
 */
export function judge(items: readonly FitItem[], budget: FitBudget | null): FitResult {
  const names = items.map((i) => i.name).join(' + ') || 'nothing';
  const neededMB = items.reduce((s, i) => s + i.mb, 0);
  const lowMB = items.reduce((s, i) => s + i.lowMB, 0);
  const highMB = items.reduce((s, i) => s + i.highMB, 0);
  const warnings: string[] = [];
  for (const i of items)
    if (i.source === 'unknown')
      warnings.push(
        `The size of ${i.name} is unknown (not installed, not in the reference list); it is not counted.`,
      );

  if (!budget || budget.totalMB <= 0) {
    return {
      fits: false,
      level: 'unknown',
      message: `${names}: no GPU found, so models run on the CPU (slow; fine for testing only).`,
      neededMB,
      availableMB: 0,
      warnings,
      items: [...items],
      lowMB,
      highMB,
    };
  }
  const total = budget.totalMB;
  const of = `${fmtGB(neededMB)} of ${fmtGB(total)} GB${budget.unified ? ' (unified memory the GPU may use)' : ''}`;
  const sized = items.filter((i) => i.source !== 'unknown');
  let level: FitAdvice['level'];
  if (sized.length === 0) level = 'unknown';
  else if (highMB + RESERVE_MB <= total) level = 'ok';
  else if (lowMB <= total) level = 'tight';
  else level = 'too-big';

  const tail =
    level === 'tight'
      ? ' — tight: it may not all stay on the GPU'
      : level === 'too-big'
        ? ' — too big: part of it would run on the CPU and be slow'
        : '';
  if (budget.gpuCount > 1 && neededMB > budget.largestMB && level !== 'too-big') {
    warnings.push(
      `Needs more than one GPU holds (${fmtGB(budget.largestMB)} GB); Ollama will split models across ${budget.gpuCount} GPUs, which is slower.`,
    );
  }
  if (
    budget.otherUsedMB &&
    budget.otherUsedMB >= 1024 &&
    neededMB + budget.otherUsedMB > total - RESERVE_MB
  ) {
    warnings.push(
      `Other programs hold ${fmtGB(budget.otherUsedMB)} GB of VRAM right now; close them or the models will spill to the CPU.`,
    );
  }
  return {
    fits: level === 'ok' || level === 'tight',
    level,
    message: `${names}: ${of}${tail}`,
    neededMB,
    availableMB: total,
    warnings,
    items: [...items],
    lowMB,
    highMB,
  };
}

/** Does the configured stack fit: every preloaded model plus the companions (VibeVoice). */
export function stackAdvice(preload: readonly string[], inputs: FitInputs): FitResult {
  const models = dedupe(preload).map((m) => estimateModel(m, inputs.installed, inputs.loaded));
  return judge([...models, ...inputs.companions], inputs.budget);
}

/**
 * Will `model` fit when loaded next to the companions? Call before preloading or pulling. Other
 * Ollama models do not count (Ollama unloads idle ones to make room); a warning says so.
 */
export function checkModelFits(model: string, inputs: FitInputs): FitResult {
  const item = estimateModel(model, inputs.installed, inputs.loaded);
  const r = judge([item, ...inputs.companions], inputs.budget);
  const key = normalizeModelName(model);
  const others = inputs.loaded.filter((m) => normalizeModelName(m.name) !== key).map((m) => m.name);
  if (others.length && r.level !== 'unknown')
    r.warnings!.push(`Ollama may unload ${others.join(', ')} to make room.`);
  if (r.level === 'too-big' || r.level === 'tight') {
    const alt = largestFitting(inputs);
    if (alt && normalizeModelName(alt) !== key) r.warnings!.push(`${alt} fits on this GPU.`);
  }
  return r;
}

/** The largest model of the reference list that fits with room to spare next to the companions. */
export function largestFitting(inputs: FitInputs): string | null {
  let best: { name: string; mb: number } | null = null;
  for (const name of Object.keys(REFERENCE_MODELS)) {
    const item = estimateModel(name, [], []);
    const r = judge([item, ...inputs.companions], inputs.budget);
    if (r.level === 'ok' && (!best || item.mb > best.mb)) best = { name, mb: item.mb };
  }
  return best?.name ?? null;
}

function dedupe(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const n of names) {
    const k = normalizeModelName(n);
    if (!n.trim() || seen.has(k)) continue;
    seen.add(k);
    out.push(n.trim());
  }
  return out;
}
