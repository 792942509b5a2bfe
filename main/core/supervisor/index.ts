// The supervisor capability: one ServiceRunner per configured service (presets + user-added),
// their logs (ring + rotated files + SSE), the `services` snapshot section, PID files and the
// reaping of orphans left by a killed app, and the service commands. It reports a service ready
// (`onReady`); which models to load then is hibernation's decision, not the supervisor's.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { answersHealthy, isServiceId, type LogLine, type ServiceEntry } from '../contract.js';
import type { CoreContext, StopReason } from '../context.js';
import type { Settings } from '../settings/schema.js';
import { PRESETS, piperVoicesDir } from '../services/presets.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from './backoff.js';
import {
  buildLaunch,
  resolveSpec,
  serviceIds,
  urlHost,
  type FileProbe,
  type HostEnv,
  type Placement,
} from '../services/command.js';
import { formatFileLine, LiveLogThrottle, LogRing, MAX_LINE_CHARS, RotatingFile } from './logs.js';
import { healthEchoPattern } from './health.js';
import { PidFiles, planReap } from './pidfile.js';
import { desktopHooks, type DesktopDeps } from './ollama-desktop.js';
import { desktopServerLog } from '../services/ollama-desktop.js';
import {
  isAlive,
  listProcesses,
  processOwner,
  processStartTime,
  stopPids,
  treeStop,
} from '../util/child/index.js';
import { ServiceRunner, type Timings } from './service.js';
import { SupervisorError } from './errors.js';
import type { Supervisor } from './types.js';

export interface SupervisorOptions {
  /** Overrides of the timings (tests make them short); the rest comes from settings. */
  timings?: Partial<Omit<Timings, 'policy'>> & { policy?: Partial<RestartPolicy> };
  /** Platform, env and home used to find executables (tests). */
  host?: HostEnv;
  probe?: FileProbe;
  /** Default DATA_DIR/logs and DATA_DIR/run. */
  logDir?: string;
  runDir?: string;
  /** Lines kept in memory per service (default 1000). */
  ringLines?: number;
  /** Per-service log file cap and rotations kept (default 2 MB, 3). */
  logFile?: { maxBytes: number; keep: number };
  /** Start enabled services when the capability starts (default true). */
  autoStart?: boolean;
  /** Reap orphans named by PID files at start (default true). */
  reap?: boolean;
  /** Where the front door wants each program to listen (null: on its public port, as without one). */
  placement?: (id: string) => Placement | null;
  /** The Ollama desktop app's server log (default: where the app writes it; tests: the fake's). */
  ollamaDesktopLog?: string | null;
}

interface ReapReport {
  service: string;
  action: 'reap' | 'skip';
  pids: number[];
  reason: string;
}

export interface SupervisorCapability extends Supervisor {
  takeOver(id: string): Promise<ServiceEntry>;
  /** Stops what stale PID files name (run at start; exposed for tests). */
  reapOrphans(): Promise<ReapReport[]>;
  readonly logDir: string;
}

const IS_WIN = process.platform === 'win32';
const REFRESH_MS = 10_000;

const realFileProbe: FileProbe = {
  isFile: (p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  },
  isDir: (p) => {
    try {
      return fs.statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
  isExecutable: (p) => {
    try {
      if (!fs.statSync(p).isFile()) return false;
      if (!IS_WIN) fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
};

export function createSupervisor(
  ctx: CoreContext,
  opts: SupervisorOptions = {},
): SupervisorCapability {
  const log = ctx.logger.child('supervisor');
  const given: HostEnv = opts.host ?? {
    platform: process.platform,
    env: process.env,
    home: os.homedir(),
  };
  const host: HostEnv = { ...given, appDataDir: given.appDataDir ?? ctx.dataDir };
  // Piper's voice folder (its --data-dir and working folder) exists before Piper starts.
  try {
    fs.mkdirSync(piperVoicesDir(host.appDataDir!, host.platform), { recursive: true });
  } catch (err) {
    log.warn('cannot create the Piper voice folder', { err });
  }
  const probe = opts.probe ?? realFileProbe;
  const logDir = opts.logDir ?? path.join(ctx.dataDir, 'logs');
  const pidFiles = new PidFiles(opts.runDir ?? path.join(ctx.dataDir, 'run'));
  const ringLines = opts.ringLines ?? 1000;
  const fileOpts = opts.logFile ?? { maxBytes: 2 * 1024 * 1024, keep: 3 };
  const events = new Emitter<{
    log: { service: string; line: LogLine };
    change: string;
    ready: string;
  }>((err) => log.error('listener failed', { err }));

  let settings: Settings = ctx.settings.get();
  let started = false;
  /**
   * Set when stop() begins, cleared by start(): from then on no runner starts, whoever asks
   * (hibernation's wake, the front door's restart, setup, a settings change, a start still in flight).
   */
  let closing = false;
  let starting: Promise<void> | null = null;
  let appStartTime: string | null = null;
  let refresh: NodeJS.Timeout | null = null;
  let publishPending = false;
  const runners = new Map<string, ServiceRunner>();
  const placed = (id: string): Placement | null => opts.placement?.(id) ?? null;
  const rings = new Map<string, LogRing>();
  const files = new Map<string, RotatingFile>();
  const echoes = new Map<string, RegExp>();
  const echoOf = (id: string): RegExp => {
    let re = echoes.get(id);
    if (!re) {
      const spec = resolveSpec(id, settings, host);
      re = healthEchoPattern(spec.health, spec.healthPath);
      echoes.set(id, re);
    }
    return re;
  };

  const timings = (): Timings => {
    const s = settings.supervisor;
    const { policy, ...rest } = opts.timings ?? {};
    return {
      policy: {
        ...DEFAULT_RESTART_POLICY,
        crashLoopCount: s.crashLoopCount,
        crashLoopWindowMs: s.crashLoopWindowSeconds * 1000,
        ...policy,
      },
      stopTimeoutMs: s.stopTimeoutSeconds * 1000,
      healthIntervalMs: s.healthIntervalSeconds * 1000,
      startPollMs: 100,
      recheckMs: 1000,
      healthTimeoutMs: 2000,
      hungAfterFailures: s.hungAfterFailures,
      externalGraceMs: 3000,
      ...rest,
    };
  };

  const publish = () => {
    if (publishPending) return;
    publishPending = true;
    queueMicrotask(() => {
      publishPending = false;
      ctx.store.set(
        'services',
        [...runners.values()].map((r) => r.entry()),
      );
    });
  };

  const liveThrottle = new LiveLogThrottle();
  const writeLine = (id: string, stream: LogLine['stream'], text: string) => {
    const line: LogLine = {
      t: new Date(ctx.clock.now()).toISOString(),
      stream,
      text: text.length > MAX_LINE_CHARS ? text.slice(0, MAX_LINE_CHARS) + '…' : text,
    };
    files.get(id)?.append(formatFileLine(line));
    // The service echoing our own health checks: file only, or they flood the live view.
    if (stream !== 'supervisor' && echoOf(id).test(line.text)) return;
    rings.get(id)?.push(line);
    if (stream === 'supervisor') log.debug(`${id}: ${text}`);
    events.emit('log', { service: id, line });
    const live = liveThrottle.take(id, ctx.clock.now());
    if (!live.pass) return;
    if (live.dropped) {
      const note: LogLine = {
        t: line.t,
        stream: 'supervisor',
        text: `… ${live.dropped} lines not shown live (the service is flooding its log); all are in the log file`,
      };
      ctx.events.broadcast('log', { service: id, line: note });
    }
    ctx.events.broadcast('log', { service: id, line });
  };

  const onReady = (id: string) => {
    events.emit('change', id);
    events.emit('ready', id);
  };

  const said = new Map<string, string>();
  const desktop = (id: string): DesktopDeps => ({
    platform: host.platform,
    listProcesses,
    // Only this user's desktop app is adopted (Windows: no owner to compare, see processOwner).
    uid: process.getuid?.() ?? null,
    ownerOf: processOwner,
    serverLog:
      opts.ollamaDesktopLog !== undefined
        ? opts.ollamaDesktopLog
        : desktopServerLog(host.platform, host.env, host.home),
    log: (text) => writeLine(id, 'supervisor', text),
    options: () => resolveSpec(id, settings, host).options,
    setOptions: (patch) => {
      const r = ctx.settings.update({
        services: { [id]: { options: { ...(settings.services[id]?.options ?? {}), ...patch } } },
      });
      if (!r.ok)
        writeLine(
          id,
          'supervisor',
          `could not keep the desktop app's settings: ${r.problem.field}: ${r.problem.message}`,
        );
    },
    quitTimeoutMs: timings().stopTimeoutMs + 5000,
    port: () => resolveSpec(id, settings, host).port,
  });

  const addRunner = (id: string): ServiceRunner => {
    rings.set(id, new LogRing(ringLines));
    files.set(id, new RotatingFile(path.join(logDir, `${id}.log`), fileOpts));
    const r = new ServiceRunner({
      id,
      spec: () => resolveSpec(id, settings, host, placed(id)),
      launch: () =>
        buildLaunch(
          resolveSpec(id, settings, host, placed(id)),
          settings.services[id] ?? {},
          host,
          probe,
        ),
      timings,
      pidFiles,
      appStartTime: () => appStartTime,
      baseEnv: host.env,
      clock: ctx.clock,
      log: (stream, text) => writeLine(id, stream, text),
      changed: () => {
        publish();
        events.emit('change', id);
      },
      notify: (level, code, message) => {
        // Headless, the terminal is where a newcomer looks: each problem once, at the default level
        // (the service's own lines stay at debug). Again only after the message changed.
        if (said.get(id) !== message) {
          said.set(id, message);
          log[level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'info'](message);
        }
        if (code === 'service_failed' && !settings.notifications.serviceFailed) return;
        ctx.store.notify({ level, code, message });
      },
      ready: () => onReady(id),
      mayStart: () => !closing,
      ...(id === 'ollama' ? desktopHooks(desktop(id)) : {}),
    });
    runners.set(id, r);
    return r;
  };

  const runner = (id: string): ServiceRunner => {
    // Ids come from URLs: only the settings' id shape is accepted, so no path tricks reach a file name.
    if (!isServiceId(id))
      throw new SupervisorError('bad_request', `"${id.slice(0, 64)}" is not a valid service id`);
    const r = runners.get(id);
    if (!r)
      throw new SupervisorError(
        'not_found',
        `No service "${id}". Known: ${[...runners.keys()].join(', ')}.`,
      );
    return r;
  };

  for (const id of serviceIds(settings, PRESETS)) addRunner(id);

  // Settings: enable/disable, restart on a changed command/port/bind, add and remove services.
  const configKey = (s: Settings, id: string) => {
    const { name: _n, enabled: _e, ...rest } = s.services[id] ?? {};
    return JSON.stringify([rest, s.serveOnLan]);
  };
  let unsubscribeSettings: Unsubscribe | null = null;
  const onSettings = ({ next, prev }: { next: Settings; prev: Settings }) => {
    settings = next;
    echoes.clear();
    const ids = serviceIds(next, PRESETS);
    for (const id of ids) {
      if (runners.has(id)) continue;
      const r = addRunner(id);
      if (started && resolveSpec(id, next, host).enabled) void r.serialize(() => r.start());
    }
    for (const [id, r] of runners) {
      if (!ids.includes(id)) {
        void r
          .serialize(() => r.stop())
          .then(() => {
            runners.delete(id);
            files.get(id)?.flush();
            files.delete(id);
            rings.delete(id);
            publish();
          });
        continue;
      }
      const was = resolveSpec(id, prev, host).enabled;
      const now = resolveSpec(id, next, host).enabled;
      if (was && !now) void r.serialize(() => r.stop('disabled'));
      else if (!was && now) void r.serialize(() => (started ? r.start() : r.stop()));
      else if (
        now &&
        started &&
        !r.running &&
        r.status === 'failed' &&
        configKey(prev, id) !== configKey(next, id)
      ) {
        // The user changed what was wrong (a path, a port): try again.
        writeLine(id, 'supervisor', 'settings changed: starting again');
        void r.serialize(() => r.start());
      } else if (now && r.running && configKey(prev, id) !== configKey(next, id)) {
        writeLine(id, 'supervisor', 'settings changed: restarting');
        void r.serialize(async () => {
          await r.stop();
          r.start();
        });
      }
    }
    publish();
  };

  const waitReady = (id: string, timeoutMs: number): Promise<boolean> => {
    const r = runner(id);
    const verdict = (): boolean | null => {
      if (answersHealthy(r)) return true;
      if (r.status === 'running' && r.health === null && r.entry().port === null) return true;
      if (r.status === 'failed' || r.status === 'disabled') return false;
      return null;
    };
    const now = verdict();
    if (now !== null) return Promise.resolve(now);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, timeoutMs);
      const off = events.on('change', (changed) => {
        if (changed !== id) return;
        const v = verdict();
        if (v === null) return;
        clearTimeout(timer);
        off();
        resolve(v);
      });
    });
  };

  const reapOrphans = async (): Promise<ReapReport[]> => {
    const records = pidFiles.readAll();
    for (const why of pidFiles.ignored) log.warn(`not trusting a PID file: ${why}`);
    if (records.length === 0) return [];
    const procs = await listProcesses();
    const reports: ReapReport[] = [];
    for (const rec of records) {
      const appAlive =
        rec.appStartTime !== null &&
        isAlive(rec.appPid) &&
        (await processStartTime(rec.appPid)) === rec.appStartTime;
      const plan = planReap(rec, procs, appAlive, treeStop.ownGroup);
      const say = (text: string) =>
        runners.has(rec.service)
          ? writeLine(rec.service, 'supervisor', text)
          : log.info(`${rec.service}: ${text}`);
      if (plan.action === 'skip') {
        say(`pid file names pid ${rec.pid}: not stopping it (${plan.reason})`);
        reports.push({ service: rec.service, action: 'skip', pids: [], reason: plan.reason });
        if (!appAlive) pidFiles.remove(rec.service);
        continue;
      }
      say(`stopping orphans left by an earlier run (${plan.reason}): pids ${plan.pids.join(', ')}`);
      await stopPids(plan.pids, 2000);
      pidFiles.remove(rec.service);
      reports.push({ service: rec.service, action: 'reap', pids: plan.pids, reason: plan.reason });
    }
    return reports;
  };

  const refuseWhileClosing = (r: ServiceRunner) => {
    if (closing)
      throw new SupervisorError(
        'conflict',
        `UnaMentis Server is stopping: ${r.entry().name} is not started now.`,
      );
  };

  const sup: SupervisorCapability = {
    name: 'supervisor',
    logDir,
    async start() {
      if (started) return;
      started = true;
      closing = false;
      unsubscribeSettings = ctx.settings.onChange(onSettings);
      settings = ctx.settings.get();
      const run = async () => {
        appStartTime = await processStartTime(process.pid);
        if (opts.reap !== false && !closing) {
          try {
            await reapOrphans();
          } catch (err) {
            log.warn('reaping orphans failed', { err });
          }
        }
        // stop() came during the awaits above: start nothing (it waits for this to return).
        if (closing) return;
        refresh = setInterval(publish, REFRESH_MS); // uptime and latency, without an event per health check
        refresh.unref();
        if (opts.autoStart !== false) await sup.startAll();
        publish();
      };
      starting = run();
      try {
        await starting;
      } finally {
        starting = null;
      }
    },
    async stop(_reason?: StopReason) {
      closing = true;
      if (!started) return;
      started = false;
      await starting?.catch(() => {});
      unsubscribeSettings?.();
      unsubscribeSettings = null;
      if (refresh) clearInterval(refresh);
      refresh = null;
      await sup.stopAll();
      for (const f of files.values()) f.flush();
    },
    list: () => [...runners.values()].map((r) => r.entry()),
    get: (id) => runners.get(id)?.entry(),
    async startService(id) {
      const r = runner(id);
      refuseWhileClosing(r);
      if (!resolveSpec(id, settings, host).enabled) {
        throw new SupervisorError(
          'conflict',
          `${r.entry().name} is disabled. Enable it first (services.${id}.enabled).`,
        );
      }
      await r.serialize(() => r.start());
      return r.entry();
    },
    async stopService(id) {
      const r = runner(id);
      await r.serialize(() => r.stop());
      return r.entry();
    },
    async restartService(id) {
      const r = runner(id);
      refuseWhileClosing(r);
      if (!resolveSpec(id, settings, host).enabled) {
        throw new SupervisorError(
          'conflict',
          `${r.entry().name} is disabled. Enable it first (services.${id}.enabled).`,
        );
      }
      await r.serialize(async () => {
        await r.stop();
        r.start();
      });
      return r.entry();
    },
    async takeOver(id) {
      const r = runner(id);
      refuseWhileClosing(r);
      try {
        await r.serialize(() => r.takeOver());
      } catch (err) {
        throw new SupervisorError('conflict', (err as Error).message);
      }
      return r.entry();
    },
    async startAll() {
      await Promise.all(
        [...runners.values()]
          .filter((r) => resolveSpec(r.id, settings, host).enabled)
          .map((r) => r.serialize(() => r.start())),
      );
    },
    async stopAll() {
      await Promise.all([...runners.values()].map((r) => r.serialize(() => r.stop())));
    },
    logs(id, lines) {
      runner(id);
      return rings.get(id)?.last(Math.max(1, Math.min(ringLines, lines))) ?? [];
    },
    onLog: (listener) => events.on('log', listener),
    onReady: (listener) => events.on('ready', listener),
    note(id, text) {
      if (runners.has(id)) writeLine(id, 'supervisor', text);
    },
    processTree: async (id) => runners.get(id)?.processTree() ?? [],
    baseUrl(id) {
      if (!runners.has(id)) return null;
      const spec = resolveSpec(id, settings, host, placed(id));
      return spec.listenPort === null
        ? null
        : `http://${urlHost(spec.connectHost)}:${spec.listenPort}`;
    },
    waitReady,
    reapOrphans,
  };

  // Commands: every view (API, tray, dashboard) goes through these.
  const cmds = ctx.commands;
  if (!cmds.has('service.start')) cmds.register('service.start', ({ id }) => sup.startService(id));
  if (!cmds.has('service.stop')) cmds.register('service.stop', ({ id }) => sup.stopService(id));
  if (!cmds.has('service.restart'))
    cmds.register('service.restart', ({ id }) => sup.restartService(id));
  if (!cmds.has('service.takeOver'))
    cmds.register('service.takeOver', ({ id }) => sup.takeOver(id));
  if (!cmds.has('services.startAll')) cmds.register('services.startAll', () => sup.startAll());
  if (!cmds.has('services.stopAll')) cmds.register('services.stopAll', () => sup.stopAll());

  publish();
  return sup;
}
