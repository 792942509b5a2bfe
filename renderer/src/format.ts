// Small formatters shared by the panels. Pure.

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const r = s % 60;
    return r && m < 10 ? `${m} min ${r} s` : `${m} min`;
  }
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  return h ? `${d} d ${h} h` : `${d} d`;
}

/** Megabytes as "7.7 GB" (or "512 MB" below one GB). */
export function formatMB(mb: number | null | undefined): string {
  if (mb === null || mb === undefined || !Number.isFinite(mb)) return '—';
  if (Math.abs(mb) < 1024) return `${Math.round(mb)} MB`;
  return `${(mb / 1024).toFixed(1)} GB`;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 || v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** "12:04:05" in the viewer's time zone. */
export function formatClock(iso: string | number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
}

/** "3 s ago", "5 min ago". */
export function formatAgo(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return 'never';
  if (seconds < 1.5) return 'just now';
  return `${formatDuration(seconds)} ago`;
}

export function percent(part: number, whole: number): number {
  if (!(whole > 0) || !Number.isFinite(part)) return 0;
  return Math.min(100, Math.max(0, (part / whole) * 100));
}

export const STATE_LABEL: Record<string, string> = {
  active: 'Active',
  warm: 'Warm',
  cool: 'Cool',
  cold: 'Cold',
  dormant: 'Dormant',
};

export const STATE_MEANING: Record<string, string> = {
  active: 'everything loaded',
  warm: 'everything loaded; slower polling',
  cool: 'voice model (VibeVoice) stopped',
  cold: 'all models unloaded',
  dormant: 'every supervised service stopped',
};

/**
 * How old the GPU figures are, when that matters: null while they are fresher than the sampling
 * interval (plus a few seconds for a slow nvidia-smi); otherwise a sentence. Cold and dormant
 * sample only on demand, so their figures are as old as the last request.
 */
export function gpuStaleness(
  gpu: { sampledAt: string | null; intervalSeconds?: number; onDemand?: boolean },
  now: number,
): string | null {
  if (!gpu.sampledAt) return null;
  const age = Math.max(0, (now - Date.parse(gpu.sampledAt)) / 1000);
  const limit = (gpu.intervalSeconds ?? 2) + 5;
  if (!gpu.onDemand && age <= limit) return null;
  if (gpu.onDemand && age <= 5) return null;
  const when = `These figures are from ${formatAgo(age)}`;
  return gpu.onDemand
    ? `${when}: while the server sleeps the GPU is read only on request (polling would keep a laptop's GPU awake).`
    : `${when}, older than the ${formatDuration(gpu.intervalSeconds ?? 2)} sampling interval: the GPU is not answering in time.`;
}
