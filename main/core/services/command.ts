// Settings + preset → what to run (executable, argv, env, cwd, port, health check), or a message
// saying what is missing and which setting fixes it. Pure: the file system comes in as `FileProbe`,
// so this is table-tested without starting anything (as Ollama's app tests `s.cmd`).

import type { ServiceSettings, Settings } from '../settings/schema.js';
import type { DeepReadonly } from '../settings/store.js';
import {
  expandHome,
  join,
  piperVoicesDir,
  presetFor,
  type FatalOutput,
  type HealthKind,
  type Options,
  type Preset,
  type PresetContext,
} from './presets.js';

export interface HostEnv {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  home: string;
  /** The app's data folder (Piper's voices live in it). */
  appDataDir?: string;
}

export interface FileProbe {
  isFile(p: string): boolean;
  isDir(p: string): boolean;
  /** An existing file this user may run (on Windows: an existing file). */
  isExecutable(p: string): boolean;
}

/** Everything about a service that does not need the file system. */
export interface ServiceSpec {
  id: string;
  name: string;
  enabled: boolean;
  preset: Preset | null;
  health: HealthKind;
  /** The public port (what the phone uses; `services.<id>.port`). null: a user-added service without a port (ready = spawned). */
  port: number | null;
  /**
   * Where the program itself listens: the internal port the front door chose, or `port` where
   * nothing stands in front of it. Health checks, the port probe and `baseUrl` use this one.
   */
  listenPort: number | null;
  /** Address the child binds. */
  bindHost: string;
  /** Address the core uses to reach it. */
  connectHost: string;
  healthPath: string;
  startTimeoutMs: number;
  /** null = the supervisor-wide default. */
  stopTimeoutMs: number | null;
  options: Options;
  fatalOutput: FatalOutput[];
}

export interface LaunchPlan {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string | undefined;
}

export type PlanResult =
  { ok: true; plan: LaunchPlan; ctx: PresetContext } | { ok: false; problem: string };

/** The bind address for children: all interfaces when serving on the LAN, else loopback. */
export function bindHostFor(serveOnLan: boolean): string {
  return serveOnLan ? '0.0.0.0' : '127.0.0.1';
}

/** Where the core connects to reach a service bound to `bindHost`. */
export function connectHostFor(bindHost: string): string {
  if (bindHost === '0.0.0.0' || bindHost === '' || bindHost === 'localhost') return '127.0.0.1';
  if (bindHost === '::' || bindHost === '[::]') return '::1';
  return bindHost;
}

export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Ids of every configured service: the presets, then user-added ones in name order. */
export function serviceIds(
  settings: Pick<Settings, 'services'>,
  presets: readonly { id: string }[],
): string[] {
  const extra = Object.keys(settings.services)
    .filter((id) => !presets.some((p) => p.id === id))
    .sort();
  return [...presets.map((p) => p.id), ...extra];
}

/** Where the front door wants the program: an internal address on loopback. */
export interface Placement {
  host: string;
  port: number;
}

/** `{host}` and `{port}` in a user's own args and env values: the address the program must listen on. */
export function fillPlaceholders(value: string, host: string, port: number): string {
  return value.replace(/\{host\}/g, host).replace(/\{port\}/g, String(port));
}

/**
 * True when the program takes the address we give it, so it can sit behind the front door: a
 * preset's own argv/env do; a user's own `args` or `env` must say `{port}` somewhere (otherwise it
 * binds the public port itself, as before the front door).
 */
export function takesAddress(id: string, settings: Pick<Settings, 'services'>): boolean {
  const s: ServiceSettings = settings.services[id] ?? {};
  const preset = presetFor(id);
  const mentions = [...(s.args ?? []), ...Object.values(s.env ?? {})].some((v) =>
    v.includes('{port}'),
  );
  if (mentions) return true;
  if (!preset) return false;
  // Ollama takes its address from OLLAMA_HOST (the preset's env), whatever argv says.
  if (preset.id === 'ollama') return s.env?.OLLAMA_HOST === undefined;
  return s.args === undefined;
}

/**
 * Ollama's keep-alive: the user's `services.ollama.options.keepAlive`, else, with hibernation on,
 * its cold threshold + 60 s. Ollama's own 5 min would unload models long before `cold`; the idle
 * staircase decides, with a finite value so a model's expires_at still moves on use (hibernation's
 * signal). Our own server gets it as OLLAMA_KEEP_ALIVE; hibernation's load after a start sends it
 * with the request (an adopted server has its own). Undefined: none (Ollama's default).
 */
export function ollamaKeepAlive(
  settings: DeepReadonly<Pick<Settings, 'services' | 'hibernation'>>,
): string | number | undefined {
  const set = settings.services.ollama?.options?.keepAlive;
  if (set !== undefined) return set === '' || typeof set === 'boolean' ? undefined : set;
  return settings.hibernation.enabled
    ? `${settings.hibernation.coldAfterSeconds + 60}s`
    : undefined;
}

export function resolveSpec(
  id: string,
  settings: Settings,
  host: HostEnv,
  placement: Placement | null = null,
): ServiceSpec {
  const preset = presetFor(id) ?? null;
  const s: ServiceSettings = settings.services[id] ?? {};
  const bindHost = placement?.host ?? bindHostFor(settings.serveOnLan);
  const options: Options = {
    ...(preset?.defaultOptions(host.platform) ?? {}),
    ...(s.options ?? {}),
  };
  if (id === 'ollama' && options.keepAlive === undefined) {
    const keepAlive = ollamaKeepAlive(settings);
    if (keepAlive !== undefined) options.keepAlive = keepAlive;
  }
  // Piper's voices live in the app's data folder unless the user names one.
  if (id === 'piper' && !options.dataDir && host.appDataDir)
    options.dataDir = piperVoicesDir(host.appDataDir, host.platform);
  return {
    id,
    name: s.name ?? preset?.name ?? id,
    enabled: s.enabled ?? preset?.enabled ?? true,
    preset,
    health: preset?.health ?? 'http',
    port: s.port ?? preset?.port ?? null,
    listenPort: placement ? placement.port : (s.port ?? preset?.port ?? null),
    bindHost,
    connectHost: connectHostFor(bindHost),
    healthPath: s.healthPath ?? '/',
    startTimeoutMs:
      s.startTimeoutSeconds !== undefined
        ? s.startTimeoutSeconds * 1000
        : (preset?.startTimeoutMs ?? 60_000),
    stopTimeoutMs: s.stopTimeoutSeconds !== undefined ? s.stopTimeoutSeconds * 1000 : null,
    options,
    fatalOutput: preset?.fatalOutput ?? [],
  };
}

/** Looks a bare command name up on PATH (with .exe/.com on Windows); absolute or relative paths are checked as they are. */
export function findExecutable(name: string, host: HostEnv, probe: FileProbe): string | null {
  const win = host.platform === 'win32';
  const hasDir = win ? /[\\/]/.test(name) : name.includes('/');
  // No .bat/.cmd: without a shell Node cannot run them (and a shell is what we avoid).
  const exts = win
    ? [
        '',
        ...(host.env.PATHEXT ?? '.COM;.EXE')
          .split(';')
          .map((e) => e.toLowerCase())
          .filter((e) => e === '.exe' || e === '.com'),
      ]
    : [''];
  const candidates = (base: string) =>
    win && /\.[a-z0-9]+$/i.test(base) ? [base] : exts.map((e) => base + e);
  if (hasDir) {
    const full = expandHome(name, host.home, host.platform);
    return candidates(full).find((c) => probe.isExecutable(c)) ?? null;
  }
  const pathVar = (win ? (host.env.Path ?? host.env.PATH) : host.env.PATH) ?? '';
  for (const dir of pathVar.split(win ? ';' : ':').filter(Boolean)) {
    for (const c of candidates(join(host.platform, dir, name))) {
      if (probe.isExecutable(c)) return c;
    }
  }
  return null;
}

/**
 * What to spawn for `spec`, given its settings. Never throws: anything missing comes back as a
 * problem naming the missing thing and the setting that changes it.
 */
export function buildLaunch(
  spec: ServiceSpec,
  s: ServiceSettings,
  host: HostEnv,
  probe: FileProbe,
): PlanResult {
  const preset = spec.preset;
  const key = `services.${spec.id}`;
  let file: string | null = null;

  if (s.command) {
    file = findExecutable(s.command, host, probe);
    if (!file) {
      const label = preset?.commandLabel ?? spec.name;
      const where = /[\\/]/.test(s.command) ? `at ${s.command}` : `"${s.command}" on PATH`;
      return {
        ok: false,
        problem: `${label} was not found: nothing to run ${where}. Fix ${key}.command.`,
      };
    }
  } else if (preset) {
    const base = {
      platform: host.platform,
      home: host.home,
      env: host.env,
      host: spec.bindHost,
      port: spec.listenPort ?? preset.port,
      options: spec.options,
    };
    const candidates = preset.commands(base);
    for (const c of candidates) {
      file = findExecutable(c, host, probe);
      if (file) break;
    }
    if (!file) {
      const onPath = candidates.filter((c) => !/[\\/]/.test(c));
      const paths = candidates.filter((c) => /[\\/]/.test(c));
      const looked = [
        onPath.length ? `on PATH for ${onPath.join(', ')}` : '',
        paths.length ? `at ${paths.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      return {
        ok: false,
        problem: `${preset.commandLabel} was not found (looked ${looked}). ${preset.installHint}`,
      };
    }
  } else {
    return { ok: false, problem: `${spec.name} has no command to run. Set ${key}.command.` };
  }

  const ctx: PresetContext = {
    platform: host.platform,
    home: host.home,
    env: host.env,
    host: spec.bindHost,
    port: spec.listenPort ?? preset?.port ?? 0,
    options: spec.options,
    command: file,
  };

  // Own argv replaces the preset's, and with it the script/model options the preset would check.
  const ownArgs = s.args !== undefined;
  if (preset && !ownArgs) {
    for (const req of preset.requiredPaths(ctx)) {
      if (!req.path) return { ok: false, problem: `${req.what} is not set. Set ${req.setting}.` };
      const ok =
        req.kind === 'dir'
          ? probe.isDir(req.path) || probe.isFile(req.path)
          : probe.isFile(req.path);
      if (!ok)
        return {
          ok: false,
          problem: `${req.what} was not found at ${req.path}. Set ${req.setting}.`,
        };
    }
  }

  const cwd = s.cwd
    ? expandHome(s.cwd, host.home, host.platform)
    : ownArgs
      ? undefined
      : preset?.cwd?.(ctx);
  if (cwd !== undefined && !probe.isDir(cwd)) {
    return {
      ok: false,
      problem: `The working folder ${cwd} of ${spec.name} does not exist. Set ${s.cwd ? `${key}.cwd` : `${key}.options.dir`}.`,
    };
  }

  const fill = (v: string) => fillPlaceholders(v, ctx.host, ctx.port);
  const args = s.args?.map(fill) ?? preset?.args(ctx) ?? [];
  const ownEnv = Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, fill(v)]));
  const env: Record<string, string> = { ...(preset?.env(ctx) ?? {}), ...ownEnv };
  return { ok: true, plan: { file, args, env, cwd }, ctx };
}

/** The child's full environment: ours (minus Electron's own variables), then the plan's. */
export function childEnv(
  base: Record<string, string | undefined>,
  plan: LaunchPlan,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || !inheritable(k)) continue;
    out[k] = v;
  }
  return { ...out, ...plan.env };
}

/**
 * What a service inherits from the server's own environment: what programs need to run, find their
 * libraries and GPUs, and reach the network (issue #20: they inherited everything, so the
 * server's secrets and settings, e.g. cloud keys, UNAMENTIS_*, NODE_OPTIONS, reached every child).
 * A service's own `env` setting adds to it.
 */
const INHERIT = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TMP', 'TEMP',
  'LD_LIBRARY_PATH', 'DYLD_LIBRARY_PATH', 'DYLD_FALLBACK_LIBRARY_PATH', 'VIRTUAL_ENV',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY',
  // Windows (names compared upper-case)
  'SYSTEMROOT', 'SYSTEMDRIVE', 'WINDIR', 'COMSPEC', 'PATHEXT', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA',
  'PROGRAMDATA', 'PROGRAMFILES', 'PROGRAMFILES(X86)', 'PROGRAMW6432', 'COMMONPROGRAMFILES', 'PUBLIC',
  'ALLUSERSPROFILE', 'NUMBER_OF_PROCESSORS', 'PROCESSOR_ARCHITECTURE', 'PROCESSOR_IDENTIFIER', 'OS',
  'COMPUTERNAME', 'USERNAME', 'USERDOMAIN', 'HOMEDRIVE', 'HOMEPATH',
]); // prettier-ignore
const INHERIT_PREFIX =
  /^(LC_|XDG_|CUDA_|NVIDIA_|HIP_|ROCR_|ROCM_|HSA_|GPU_|OLLAMA_|HF_|HUGGINGFACE_|TRANSFORMERS_|TORCH_|PYTORCH_|OMP_|MKL_|OPENBLAS_|CONDA_)/;

function inheritable(name: string): boolean {
  const k = name.toUpperCase();
  return INHERIT.has(k) || INHERIT_PREFIX.test(k);
}

/** If the last output of a process that died says retrying is pointless, the message to show. */
export function fatalMessage(spec: ServiceSpec, output: string, ctx: PresetContext): string | null {
  for (const f of spec.fatalOutput) {
    const m = f.pattern.exec(output);
    if (m) return f.message(m, ctx);
  }
  return null;
}
