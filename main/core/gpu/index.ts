// GPU telemetry: inventory, live VRAM per GPU / model / service, history, and fit advice.
// createGpu() wires the real IO (systeminformation in a child, nvidia-smi, Ollama); the decisions
// live in pure modules (smi-parse, usage, fit, cadence, unified). See ./README.md.

import type { CoreContext, Capability } from '../context.js';
import { listInstalled, listLoaded } from '../services/ollama.js';
import { readInventory, type InventoryLauncher } from './inventory.js';
import { LoopQuery, ToolRunner, locateNvidiaSmi } from './nvidia-smi.js';
import { GPU_QUERY_ARGS } from './smi-parse.js';
import { GpuSampler, type GpuSamplerDeps } from './sampler.js';

export { GpuSampler } from './sampler.js';

/** The sampler as the core sees it: a capability with a few questions it can answer. */
export type GpuMonitor = Capability &
  Pick<
    GpuSampler,
    | 'sampleNow'
    | 'refreshInventory'
    | 'history'
    | 'inventory'
    | 'checkModelFits'
    | 'fitInputs'
    | 'intervalMs'
  >;

export interface CreateGpuOptions extends Partial<Omit<GpuSamplerDeps, 'ctx'>> {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  /** How the inventory child is started (the shell: an Electron utility process). */
  inventoryLauncher?: InventoryLauncher;
}

/** The real thing: systeminformation inventory, nvidia-smi on PATH (or where Windows keeps it), Ollama's API. */
export function createGpu(ctx: CoreContext, opts: CreateGpuOptions = {}): GpuSampler {
  const { platform = process.platform, env = process.env, inventoryLauncher, ...deps } = opts;
  const timeoutMs = deps.smiTimeoutMs ?? 3000;
  return new GpuSampler({
    // Whatever the caller gave (supervisor, modelsHint, ...) passes through; the rest gets a default.
    ...deps,
    ctx: { ...ctx, logger: ctx.logger.child('gpu') },
    readInventory:
      deps.readInventory ??
      ((signal) =>
        readInventory({
          env,
          platform,
          signal,
          ...(inventoryLauncher ? { launch: inventoryLauncher } : {}),
        })),
    locateSmi: deps.locateSmi ?? (() => locateNvidiaSmi({ platform, env })),
    smiRunner:
      deps.smiRunner ?? ((file) => new ToolRunner(file, { label: 'nvidia-smi', timeoutMs, env })),
    // One looping nvidia-smi for the per-sample query (see LoopQuery); one-shot for the process list.
    gpuQuery:
      deps.gpuQuery ??
      ((file) => new LoopQuery(file, GPU_QUERY_ARGS, { label: 'nvidia-smi', timeoutMs, env })),
    smiTimeoutMs: timeoutMs,
    ollama: deps.ollama === undefined ? { listLoaded, listInstalled } : deps.ollama,
  });
}
