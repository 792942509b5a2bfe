// Pure parsers for nvidia-smi's CSV output (`--format=csv,noheader,nounits`). No IO here.
// Rules: "0" reads 0 (never "missing"); `N/A`, `[N/A]`, `[Not Supported]` and the other bracketed
// driver messages read null; anything else that is not a number makes the line unusable.

/** The two queries the sampler runs (argv, no shell). */
const GPU_QUERY_FIELDS = [
  'index',
  'name',
  'memory.total',
  'memory.used',
  'utilization.gpu',
  'temperature.gpu',
  'power.draw',
] as const;
export const GPU_QUERY_ARGS = [
  `--query-gpu=${GPU_QUERY_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];
export const APPS_QUERY_ARGS = [
  '--query-compute-apps=pid,used_memory',
  '--format=csv,noheader,nounits',
];

export interface SmiGpu {
  index: number;
  name: string;
  totalMB: number | null;
  usedMB: number | null;
  utilizationPct: number | null;
  temperatureC: number | null;
  powerW: number | null;
}

export interface SmiApp {
  pid: number;
  /** null when the driver cannot say (e.g. Windows WDDM reports `[N/A]` per process). */
  usedMB: number | null;
}

export type Parsed<T> = { ok: true; value: T; skipped: string[] } | { ok: false; why: string };

/** A number, null for a value the driver says it does not have, or undefined for garbage. */
export function readField(raw: string | undefined): number | null | undefined {
  if (raw === undefined) return undefined;
  const t = raw.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^\[.*\]$/.test(t) || /^N\/A$/i.test(t)) return null;
  return undefined;
}

function lines(stdout: string): string[] {
  return stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

function preview(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 80 ? one.slice(0, 77) + '...' : one;
}

/** Parses the `--query-gpu=index,name,memory.total,...` answer: one line per GPU. */
export function parseGpuQuery(stdout: string): Parsed<SmiGpu[]> {
  const all = lines(stdout);
  if (all.length === 0) return { ok: false, why: 'nvidia-smi printed nothing' };
  const gpus: SmiGpu[] = [];
  const skipped: string[] = [];
  for (const line of all) {
    const f = line.split(',');
    const n = GPU_QUERY_FIELDS.length;
    if (f.length < n) {
      skipped.push(`expected ${n} fields: "${preview(line)}"`);
      continue;
    }
    // A name with a comma in it: everything between the index and the last five fields.
    const name = f
      .slice(1, f.length - 5)
      .join(',')
      .trim();
    const [total, used, util, temp, power] = f.slice(f.length - 5).map(readField);
    const index = readField(f[0]);
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || !name) {
      skipped.push(`no GPU index or name: "${preview(line)}"`);
      continue;
    }
    if ([total, used, util, temp, power].some((v) => v === undefined)) {
      skipped.push(`unreadable value: "${preview(line)}"`);
      continue;
    }
    gpus.push({
      index,
      name,
      totalMB: total ?? null,
      usedMB: used ?? null,
      utilizationPct: util ?? null,
      temperatureC: temp ?? null,
      powerW: power ?? null,
    });
  }
  if (gpus.length === 0)
    return { ok: false, why: `unexpected nvidia-smi output: "${preview(all[0]!)}"` };
  gpus.sort((a, b) => a.index - b.index);
  return { ok: true, value: gpus, skipped };
}

/** Parses `--query-compute-apps=pid,used_memory`: one line per process using the GPU (none = empty). */
export function parseComputeApps(stdout: string): Parsed<SmiApp[]> {
  const all = lines(stdout).filter((l) => !/^no running (compute )?processes found/i.test(l));
  const apps: SmiApp[] = [];
  const skipped: string[] = [];
  for (const line of all) {
    const f = line.split(',');
    const pid = readField(f[0]);
    const used = readField(f[f.length - 1]);
    if (
      f.length < 2 ||
      typeof pid !== 'number' ||
      !Number.isInteger(pid) ||
      pid <= 0 ||
      used === undefined
    ) {
      skipped.push(`unreadable process line: "${preview(line)}"`);
      continue;
    }
    apps.push({ pid, usedMB: used });
  }
  if (all.length > 0 && apps.length === 0)
    return { ok: false, why: `unexpected nvidia-smi output: "${preview(all[0]!)}"` };
  return { ok: true, value: apps, skipped };
}
