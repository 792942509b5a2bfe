// Pure: who uses the GPU. Per model from Ollama's /api/ps, per supervised service from nvidia-smi's
// compute apps matched against each service's process tree.

import type { ModelUsage } from '../contract.js';
import type { PsModel } from '../services/ollama.js';

export type { PsModel, TagModel } from '../services/ollama.js';
import type { SmiApp } from './smi-parse.js';

const MiB = 1024 * 1024;

function toMB(bytes: number): number {
  return Math.round(bytes / MiB);
}

/**
 * VRAM/CPU split of each loaded model. `size - size_vram > 0` means part of the model runs on the
 * CPU (it did not fit) and answers will be slow: `spilled`.
 */
export function modelUsage(ps: readonly PsModel[], service = 'ollama'): ModelUsage[] {
  return ps
    .filter((m) => m && typeof m.name === 'string' && Number.isFinite(m.sizeBytes))
    .map((m) => {
      const size = Math.max(0, m.sizeBytes);
      const vram = Math.max(0, Math.min(Number.isFinite(m.vramBytes) ? m.vramBytes : 0, size));
      const spillBytes = size - vram;
      return {
        name: m.name,
        service,
        vramMB: toMB(vram),
        sizeMB: toMB(size),
        cpuMB: toMB(spillBytes),
        spilled: spillBytes > 0,
        expiresAt: m.expiresAt ?? null,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface ServiceVram {
  service: string;
  vramMB: number;
  /** GPU processes of this service whose usage the driver does not report (Windows WDDM: `[N/A]`). */
  unmeasured?: number;
}

/**
 * Sums each service's GPU memory over the pids in its process tree. A pid in no tree is someone
 * else's (a game, another app) and counts towards `otherMB`.
 */
export function attribute(
  apps: readonly SmiApp[],
  trees: ReadonlyMap<string, readonly number[]>,
): { services: ServiceVram[]; otherMB: number } {
  const owner = new Map<number, string>();
  for (const [service, pids] of trees)
    for (const pid of pids) if (!owner.has(pid)) owner.set(pid, service);
  const by = new Map<string, ServiceVram>();
  let otherMB = 0;
  for (const app of apps) {
    const service = owner.get(app.pid);
    if (!service) {
      otherMB += app.usedMB ?? 0;
      continue;
    }
    const e = by.get(service) ?? { service, vramMB: 0 };
    if (app.usedMB === null) e.unmeasured = (e.unmeasured ?? 0) + 1;
    else e.vramMB += app.usedMB;
    by.set(service, e);
  }
  return { services: [...by.values()].sort((a, b) => a.service.localeCompare(b.service)), otherMB };
}

/**
 * One split of the VRAM in use between our services and other programs, used by the snapshot, the
 * dashboard's by-service bar and the fit advice alike (so the advice cannot blame other programs for
 * what the bar shows as ours).
 *
 * Each service starts from its per-pid figure; a service without one whose models Ollama reports
 * (`size_vram` in /api/ps) holds that much. That covers Windows (WDDM), where nvidia-smi prints `[N/A]` for
 * every process's `used_memory` (XuehaiPan/nvitop#55: NVML cannot report it under WDDM), and a
 * runner nvidia-smi did not list. `otherMB` is null (unknown) while one of our live services still
 * has no figure: the rest of the VRAM may be that service's, so nobody is told to close programs.
 */
export function splitVram(input: {
  usedMB: number | null;
  /** Per-pid attribution, or null when the process list was not read. */
  attributed: readonly ServiceVram[] | null;
  models: readonly ModelUsage[];
  /** Our services that have processes (a pid) now. */
  live: readonly string[];
}): { services: ServiceVram[]; otherMB: number | null } {
  const by = new Map<string, ServiceVram>(
    (input.attributed ?? []).map((e) => [e.service, { ...e }]),
  );
  const fromModels = new Map<string, number>();
  for (const m of input.models)
    fromModels.set(m.service, (fromModels.get(m.service) ?? 0) + m.vramMB);
  for (const [service, mb] of fromModels) {
    if (mb <= 0) continue;
    const e = by.get(service);
    // A per-pid figure is the truth (it includes the CUDA context); Ollama's own report stands in
    // where there is none.
    if (e && !e.unmeasured) continue;
    by.set(service, { service, vramMB: Math.max(e?.vramMB ?? 0, mb) });
  }
  const services = [...by.values()]
    .filter((e) => e.vramMB > 0 || e.unmeasured)
    .sort((a, b) => a.service.localeCompare(b.service));
  // Ollama with no model loaded holds no VRAM (its runner starts with the first load).
  const unknown = input.attributed
    ? services.some((e) => e.unmeasured)
    : input.live.some((id) => id !== 'ollama' && !fromModels.has(id));
  const ours = services.reduce((s, e) => s + e.vramMB, 0);
  const otherMB = input.usedMB === null || unknown ? null : Math.max(0, input.usedMB - ours);
  return { services, otherMB };
}
