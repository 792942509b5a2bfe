// The GPU inventory (vendor, model, total VRAM, unified memory), read once and on demand through
// systeminformation's graphics() and mem(). Those run synchronous helpers (execFileSync nvidia-smi
// without a timeout, execSync dmidecode, ~8 PowerShell calls on Windows), so they run in a short-lived
// child process that is killed, with its whole process group, when it overstays.

import { createRequire } from 'node:module';
import { runTool, spawnOwned } from '../util/child/index.js';
import { appleGpuCeiling, type UnifiedCeiling } from './unified.js';

/** What systeminformation reports, trimmed to what we read (the child sends these fields). */
export interface RawController {
  vendor?: string;
  model?: string;
  /** nvidia-smi's name, merged in by systeminformation. */
  name?: string;
  vram?: number | null;
  vramDynamic?: boolean;
  /** nvidia-smi's memory.total (MiB), merged in by systeminformation. */
  memoryTotal?: number;
  bus?: string;
  busAddress?: string;
  pciBus?: string;
  cores?: number | string | null;
}

export interface RawInventory {
  platform: string;
  arch: string;
  controllers: RawController[];
  memTotalBytes: number;
  /** macOS `sysctl iogpu.wired_limit_mb` (0 = system default), when read. */
  wiredLimitMB?: number | null;
}

export interface InventoryGpu {
  name: string;
  vendor: string;
  /** null when unknown (e.g. only the PCI aperture size is known). */
  vramTotalMB: number | null;
  unified: boolean;
  busAddress?: string;
}

export interface Inventory {
  platform: string;
  arch: string;
  ramTotalMB: number;
  appleSilicon: boolean;
  /** Apple silicon: how much of RAM the GPU may use. */
  unifiedCeiling: UnifiedCeiling | null;
  gpus: InventoryGpu[];
}

const MiB = 1024 * 1024;

export function normalizeVendor(raw: string | undefined, model = ''): string {
  const s = `${raw ?? ''} ${model}`.toLowerCase();
  if (s.includes('nvidia')) return 'NVIDIA';
  if (s.includes('apple')) return 'Apple';
  if (s.includes('advanced micro') || /\bamd\b|\bati\b|radeon/.test(s)) return 'AMD';
  if (s.includes('intel')) return 'Intel';
  return (raw ?? '').trim() || 'Unknown';
}

/** Pure: systeminformation's view → ours. */
export function summarizeInventory(raw: RawInventory): Inventory {
  const ramTotalMB = Math.round(raw.memTotalBytes / MiB);
  const controllers = raw.controllers ?? [];
  const appleSilicon =
    raw.platform === 'darwin' &&
    (raw.arch === 'arm64' ||
      controllers.some((c) => normalizeVendor(c.vendor, c.model) === 'Apple'));
  const unifiedCeiling = appleSilicon ? appleGpuCeiling(ramTotalMB, raw.wiredLimitMB) : null;

  const gpus: InventoryGpu[] = [];
  for (const c of controllers) {
    const vendor = normalizeVendor(c.vendor, c.model);
    const name = (c.name || c.model || vendor).trim();
    if (appleSilicon && vendor === 'Apple') {
      gpus.push({
        name: name.startsWith('Apple') ? name : `Apple ${name}`,
        vendor,
        vramTotalMB: unifiedCeiling!.mb,
        unified: true,
      });
      continue;
    }
    let vram: number | null = null;
    if (typeof c.memoryTotal === 'number' && c.memoryTotal > 0) vram = c.memoryTotal;
    // On Linux `vram` is lspci's largest BAR (the aperture, often 256 MB), not the card's memory.
    else if (raw.platform !== 'linux' && typeof c.vram === 'number' && c.vram > 0 && !c.vramDynamic)
      vram = c.vram;
    gpus.push({
      name,
      vendor,
      vramTotalMB: vram,
      unified: false,
      ...(c.busAddress ? { busAddress: c.busAddress } : {}),
    });
  }
  if (appleSilicon && !gpus.some((g) => g.unified)) {
    gpus.push({
      name: 'Apple silicon GPU',
      vendor: 'Apple',
      vramTotalMB: unifiedCeiling!.mb,
      unified: true,
    });
  }
  return { platform: raw.platform, arch: raw.arch, ramTotalMB, appleSilicon, unifiedCeiling, gpus };
}

// ---- IO: run systeminformation in a child ----

const siPath = createRequire(import.meta.url).resolve('systeminformation');

/** The controller fields the inventory keeps (the Electron worker uses the same list). */
export const INVENTORY_KEYS = [
  'vendor',
  'model',
  'name',
  'vram',
  'vramDynamic',
  'memoryTotal',
  'bus',
  'busAddress',
  'pciBus',
  'cores',
];

// CommonJS run with `node -e`: prints {controllers, memTotalBytes} as JSON.
const CHILD_SCRIPT = `
const si = require(${JSON.stringify(siPath)});
Promise.all([si.graphics(), si.mem()]).then(([g, m]) => {
  const keep = ${JSON.stringify(INVENTORY_KEYS)};
  const controllers = (g && g.controllers || []).map((c) => Object.fromEntries(keep.filter((k) => c[k] !== undefined).map((k) => [k, c[k]])));
  process.stdout.write(JSON.stringify({ controllers, memTotalBytes: m.total }));
}, (e) => { process.stderr.write(String(e && e.message || e)); process.exitCode = 1; });
`;

/** A running inventory child: all its output once it ends, and a way to stop it. */
export interface InventoryProcess {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill(): void;
}

/**
 * Starts the child that runs systeminformation. The default is `node -e` (plain Node, headless);
 * the Electron shell passes one built on `utilityProcess`, so release builds can turn the
 * `runAsNode` fuse off.
 */
export type InventoryLauncher = (env: NodeJS.ProcessEnv) => InventoryProcess;

export const nodeInventoryLauncher: InventoryLauncher = (env) => {
  // Its own process group on POSIX (util/child), so a hung grandchild (nvidia-smi) dies with it.
  const spawned = spawnOwned(process.execPath, ['-e', CHILD_SCRIPT], { env });
  if (!spawned.ok) throw spawned.error; // runSiChild turns it into "could not start"
  const owned = spawned.child;
  const child = owned.process;
  let stdout = '';
  let stderr = '';
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    },
  );
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return { done, kill: () => void owned.kill() };
};

export interface ReadInventoryOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  arch?: string;
  /** Aborting kills the child (the sampler does this when it stops). */
  signal?: AbortSignal;
  launch?: InventoryLauncher;
}

/** Reads the inventory in a child process. Rejects with a readable reason on failure or timeout. */
export async function readInventory(opts: ReadInventoryOptions = {}): Promise<RawInventory> {
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  const [si, wiredLimitMB] = await Promise.all([
    runSiChild(
      opts.launch ?? nodeInventoryLauncher,
      opts.timeoutMs ?? 20_000,
      opts.env ?? process.env,
      opts.signal,
    ),
    platform === 'darwin' ? readWiredLimit() : Promise.resolve(null),
  ]);
  return {
    platform,
    arch,
    controllers: si.controllers,
    memTotalBytes: si.memTotalBytes,
    wiredLimitMB,
  };
}

/** Parses what the child prints: `{controllers, memTotalBytes}` as JSON. */
export function parseInventoryOutput(out: string): {
  controllers: RawController[];
  memTotalBytes: number;
} {
  const parsed = JSON.parse(out) as { controllers: RawController[]; memTotalBytes: number };
  return {
    controllers: Array.isArray(parsed.controllers) ? parsed.controllers : [],
    memTotalBytes: Number(parsed.memTotalBytes) || 0,
  };
}

function runSiChild(
  launch: InventoryLauncher,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<{ controllers: RawController[]; memTotalBytes: number }> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('GPU inventory cancelled'));
    let child: InventoryProcess;
    try {
      // ELECTRON_RUN_AS_NODE: where process.execPath is Electron (dev runs), this makes it plain Node.
      child = launch({ ...env, ELECTRON_RUN_AS_NODE: '1' });
    } catch (e) {
      return reject(new Error(`GPU inventory could not start: ${(e as Error).message}`));
    }
    let settled = false;
    const timer = setTimeout(() => {
      child.kill();
      settle(
        new Error(
          `GPU inventory did not finish within ${Number((timeoutMs / 1000).toFixed(1))} s (a driver tool hung; stopped it)`,
        ),
      );
    }, timeoutMs);
    timer.unref?.();
    const onAbort = () => {
      child.kill();
      settle(new Error('GPU inventory cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (
      e: Error | null,
      v?: { controllers: RawController[]; memTotalBytes: number },
    ) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (e) reject(e);
      else resolve(v!);
    };
    child.done.then(
      ({ code, stdout, stderr }) => {
        if (code !== 0)
          return settle(
            new Error(`GPU inventory failed (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`),
          );
        try {
          settle(null, parseInventoryOutput(stdout));
        } catch {
          settle(new Error('GPU inventory printed unreadable output'));
        }
      },
      (e: Error) => settle(new Error(`GPU inventory could not start: ${e.message}`)),
    );
  });
}

async function readWiredLimit(): Promise<number | null> {
  // Not started (no file descriptor left), failed or too slow: no limit known.
  const r = await runTool('sysctl', ['-n', 'iogpu.wired_limit_mb'], { timeoutMs: 2000 });
  if (!r.ok) return null;
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : null;
}
