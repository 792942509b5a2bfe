// The composition: one state, one settings store, one command bus, one API; the capabilities
// (supervisor, GPU, hibernation, discovery, pairing) plug in here. Headless and the Electron shell
// both call createCore() and differ only in what they wire around it.

import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  answersHealthy,
  type HibernationSection,
  type GpuSection,
  type Snapshot,
} from './contract.js';
import { StateStore } from './state/store.js';
import { SettingsStore, effectivePrio, type HostFacts, type Settings } from './settings/index.js';
import { CommandBus } from './commands.js';
import { EventHub } from './api/sse.js';
import { ApiServer } from './api/server.js';
import { statusRoutes } from './api/routes/status.js';
import { settingsRoutes } from './api/routes/settings.js';
import { modelRoutes } from './api/routes/models.js';
import { voiceRoutes } from './api/routes/voices.js';
import { expandHome, piperVoicesDir } from './services/presets.js';
import { latencyRoutes } from './api/routes/latency.js';
import type { Route } from './api/router.js';
import type { Capability, CoreContext, StopReason } from './context.js';
import { createLogger, type Logger } from './util/logger.js';
import { systemClock, type Clock } from './util/clock.js';
import { lockDataDir } from './util/dir-lock.js';
import { ensurePrivateDir } from './util/private-fs.js';
import {
  createHibernation,
  supervisedServices,
  type HibernationControl,
  type HibernationOptions,
} from './hibernation/index.js';
import {
  createSupervisor,
  type SupervisorCapability,
  type SupervisorOptions,
} from './supervisor/index.js';
import { servicesRoutes } from './api/routes/services.js';
import { hibernationRoutes } from './api/routes/hibernation.js';
import { createHeadlessPowerBlocker, type PowerBlocker } from './power/index.js';
import { createDiscovery, type Discovery } from './discovery/index.js';
import { createPairing, type Pairing } from './pairing/index.js';
import { pairingRoutes } from './api/routes/pairing.js';
import { FORWARDED_HEADER } from './pairing/forwarding.js';
import { createGpu, type GpuMonitor } from './gpu/index.js';
import { gpuRoutes } from './api/routes/gpu.js';
import { metalTotalFromLog } from './gpu/unified.js';
import { desktopServerLog } from './services/ollama-desktop.js';
import type { InventoryLauncher } from './gpu/inventory.js';
import { createSetup, sourcesFromEnv, type Setup, type Sources } from './setup/index.js';
import { setupRoutes } from './api/routes/setup.js';
import { frontDoorRoutes } from './api/routes/frontdoor.js';
import { createFrontDoor, type Adapter, type FrontDoor } from './frontdoor/index.js';

export interface CoreOptions {
  dataDir: string;
  /** Overrides settings `api.port` (0 = any free port). */
  port?: number;
  /** Overrides settings `api.bind`. */
  bind?: string;
  logger?: Logger;
  clock?: Clock;
  /** Folder of the built dashboard; null serves none. */
  rendererDir?: string | null;
  facts?: HostFacts;
  version?: string;
  /** Keeps the OS awake while active/warm: the shell passes powerSaveBlocker; default: headless inhibitor. */
  power?: PowerBlocker;
  /** Supervisor tuning (tests: short timeouts; `autoStart: false` to start nothing). */
  supervisor?: SupervisorOptions;
  /** Hibernation tuning (tests: fast /api/ps polling). */
  hibernation?: HibernationOptions;
  /** Starts the GPU inventory child; the shell passes an Electron utility process (runAsNode fuse off). */
  gpuInventoryLauncher?: InventoryLauncher;
  /** Setup's download table (tests: a loopback server); default: UNAMENTIS_SETUP_SOURCES, else the real URLs. */
  setupSources?: Partial<Sources>;
  /** Front door: addresses to bind when a public port is taken on loopback (tests), extra adapters. */
  frontDoor?: { lanAddresses?: () => string[]; adapters?: Record<string, Adapter> };
  /** Where Piper voices are downloaded from (default Hugging Face rhasspy/piper-voices; tests: a local server). */
  piperVoicesUrl?: string;
}

export interface Core extends CoreContext {
  start(): Promise<{ port: number; url: string }>;
  stop(reason?: StopReason): Promise<void>;
  /** The dashboard URL with the token in the fragment (never sent to the server or logged by proxies). */
  dashboardUrl(): string;
  token(): string;
  address(): AddressInfo | null;
  /** mDNS: the other UnaMentis hosts seen on the LAN, and what this one announces. */
  readonly discovery: Discovery;
  /** Idle state, next step, wake / hibernate now / keep awake (for the tray and dashboard). */
  readonly hibernation: HibernationControl;
  /** The supervised services: start/stop/restart/takeOver, waitReady, processTree, baseUrl, logs. */
  readonly supervisor: SupervisorCapability;
  /** GPU telemetry and `checkModelFits(model)` (call it before preloading or pulling a model). */
  readonly gpu: GpuMonitor;
  /** The pair (issue 7): status with the code to show, pair/confirm/unpair, stop/resume serving, handoff. */
  readonly pairing: Pairing;
  /** First-run setup (issue 18): install and start each service on the user's click. */
  readonly setup: Setup;
  /** The public service ports (issue 13): placement, held requests, learned models, the gateway. */
  readonly frontDoor: FrontDoor;
  /**
   * The OS is about to sleep: hand off to a paired host and send the mDNS goodbye (the
   * network-facing capabilities stop with reason 'suspend'); the services are left as they are.
   */
  suspend(): Promise<void>;
  /** The OS woke up: announce again, rejoin the pair, and re-evaluate hibernation (the idle clock jumped). */
  resume(): Promise<void>;
}

/** start() rejects with this when stop() began before it finished: not a failure, a quit during start. */
export class CoreStoppedError extends Error {
  constructor() {
    super('stopped while starting');
    this.name = 'CoreStoppedError';
  }
}

/** How long a graceful quit waits for requests in flight (a long answer is rarely longer). */
const DRAIN_MS = 30_000;

function displayName(s: Settings, facts: HostFacts): string {
  return s.displayName.trim() || facts.hostname.split('.')[0] || 'UnaMentis Server';
}

export function createCore(opts: CoreOptions): Core {
  const logger = opts.logger ?? createLogger();
  const clock = opts.clock ?? systemClock;
  const facts: HostFacts = opts.facts ?? { platform: process.platform, hostname: os.hostname() };
  ensurePrivateDir(opts.dataDir);
  const releaseLock = lockDataDir(opts.dataDir);
  // No settings yet: the app's first start, which opens the setup view.
  const firstStart = !fs.existsSync(path.join(opts.dataDir, 'settings.json'));
  const { store: settings, problems } = SettingsStore.open({ dataDir: opts.dataDir, facts });

  const initial = settings.get();
  const store = new StateStore(
    {
      host: {
        id: initial.hostId,
        name: displayName(initial, facts),
        platform: facts.platform,
        role: initial.role,
        prio: effectivePrio(initial),
        serving: true,
        pairId: initial.pairing.pairId,
        ...(opts.version ? { version: opts.version } : {}),
      },
      hibernation: { state: 'active', idleSeconds: 0, next: null } satisfies HibernationSection,
      services: [],
      gpu: { sampledAt: null, gpus: [], models: [] } satisfies GpuSection,
      peers: [],
    },
    () => clock.now(),
  );
  for (const message of problems) {
    logger.warn(message);
    store.notify({ level: 'warning', code: 'settings_reset', message });
  }

  const commands = new CommandBus();
  const events = new EventHub();
  const capabilities: Capability[] = [];
  const routes: Route[] = [];

  const ctx: CoreContext = {
    store,
    settings,
    commands,
    events,
    logger,
    clock,
    dataDir: opts.dataDir,
    isReady: (s: Snapshot = store.snapshot()) =>
      s.services.every((svc) => !svc.enabled || answersHealthy(svc)),
  };

  // Host identity follows settings (rename, role, prio).
  settings.onChange(({ next }) => {
    store.update('host', (h) => ({
      ...h,
      name: displayName(next, facts),
      role: next.role,
      prio: effectivePrio(next),
      pairId: next.pairing.pairId,
    }));
  });
  commands.register('notice.dismiss', ({ id }) => store.dismissNotice(id));
  store.onChange((s) => events.broadcast('snapshot', s));
  store.onNotice((n) => events.broadcast('notice', n));

  routes.push(...statusRoutes(ctx), ...settingsRoutes(ctx));
  // Dashboard tools: model list and pull with progress, and the latency check (issue 8).
  routes.push(...modelRoutes(ctx), ...latencyRoutes(ctx));
  // Piper's voices in its --data-dir: list, download with progress.
  routes.push(
    ...voiceRoutes(ctx, {
      dir: () => {
        const set = ctx.settings.get().services.piper?.options?.dataDir;
        return set
          ? expandHome(String(set), os.homedir(), facts.platform)
          : piperVoicesDir(ctx.dataDir, facts.platform);
      },
      ...(opts.piperVoicesUrl ? { baseUrl: opts.piperVoicesUrl } : {}),
    }),
  );

  // The front door (issue 13) owns the public service ports; it binds them before the supervisor
  // starts, so each program is placed on its internal port, and closes them after it stops.
  let hibernationRef: HibernationControl | null = null;
  // Pairing is made later (it needs discovery); the front door asks it through this reference.
  let pairingRef: Pairing | null = null;
  // The front door's exact activity (with its source) also tells setup's phone step who asked.
  let setupRef: Setup | null = null;
  const wakeTarget = {
    activity: (source: string) => {
      hibernationRef?.activity(source);
      setupRef?.requestSeen(source);
    },
    removed: () => hibernationRef?.removed() ?? { stopped: [] },
    section: () => hibernationRef?.section() ?? {},
  };
  const frontDoor = createFrontDoor(ctx, {
    hibernation: () => (hibernationRef ? wakeTarget : null),
    restart: (id) => supervisor.restartService(id),
    forwardTo: (id, req) =>
      pairingRef?.forwardTo(req.headers[FORWARDED_HEADER] !== undefined, id) ?? null,
    forwardFailed: (peerId, why, refused) => pairingRef?.forwardFailed(peerId, why, refused),
    hostId: () => settings.view().hostId,
    ...(opts.frontDoor?.lanAddresses ? { lanAddresses: opts.frontDoor.lanAddresses } : {}),
    ...(opts.frontDoor?.adapters ? { adapters: opts.frontDoor.adapters } : {}),
  });
  capabilities.push(frontDoor);
  routes.push(...frontDoorRoutes(frontDoor));

  // The supervised services (issue 3): it writes the `services` section and owns the child processes.
  const supervisor = createSupervisor(ctx, {
    placement: (id) => frontDoor.placement(id),
    ...opts.supervisor,
  });
  capabilities.push(supervisor);
  routes.push(...servicesRoutes(ctx, supervisor));

  // Hibernation acts on the supervised services: it comes after the supervisor in `capabilities`
  // so that it stops first (they stop in reverse order). It alone decides which models are in
  // memory: on the supervisor's ready report it loads the front door's learned list (or
  // `models.preload`) where its level keeps models.
  const hibernation = createHibernation({
    store,
    settings,
    commands,
    logger,
    clock,
    isReady: () => ctx.isReady(),
    services: supervisedServices(supervisor),
    power: opts.power ?? createHeadlessPowerBlocker({ logger }),
    ...(opts.hibernation ? { options: opts.hibernation } : {}),
    seenByFrontDoor: (id) => frontDoor.seesAll(id),
    preloadModels: () => frontDoor.preloadModels(),
  });
  hibernationRef = hibernation;
  capabilities.push(hibernation);
  routes.push(...hibernationRoutes(ctx, hibernation));

  // GPU telemetry writes the `gpu` section at a cadence that follows hibernation (issue 4).
  // Ollama logs the GPU share Metal allows (macOS): the fit advice uses it instead of the rule.
  let metalTotalMB: number | null = null;
  supervisor.onLog(({ service, line }) => {
    if (service !== 'ollama' || !line.text.includes('inference compute')) return;
    metalTotalMB = metalTotalFromLog(line.text) ?? metalTotalMB;
  });
  // An adopted Ollama (the desktop app's) writes that line to its own log file: read it there, at
  // most once a minute, while ours has not said it.
  let desktopLogReadAt = -Infinity;
  const metalFromDesktopLog = (): number | null => {
    if (facts.platform !== 'darwin' || clock.now() - desktopLogReadAt < 60_000) return metalTotalMB;
    desktopLogReadAt = clock.now();
    const file = desktopServerLog('darwin', process.env, os.homedir());
    try {
      const text = fs.readFileSync(file!, 'utf8').slice(-1 << 20);
      for (const l of text.split('\n').reverse()) {
        const mb = metalTotalFromLog(l);
        if (mb) return (metalTotalMB = mb);
      }
    } catch {
      // no desktop app log
    }
    return metalTotalMB;
  };
  const gpu = createGpu(ctx, {
    supervisor: () => supervisor,
    metalTotalMB: () => metalTotalMB ?? metalFromDesktopLog(),
    // A model newly seen in /api/ps (an external Ollama's local users) or newly asked for through the front door.
    modelsHint: () => `${hibernation.modelsSeen('ollama')}|${frontDoor.modelsHint()}`,
    ...(opts.gpuInventoryLauncher ? { inventoryLauncher: opts.gpuInventoryLauncher } : {}),
  });
  capabilities.push(gpu);
  routes.push(...gpuRoutes(gpu));
  commands.register('gpu.refresh', () => gpu.refreshInventory());

  // First-run setup (issue 18): every install waits for the user's POST.
  const setup = createSetup(ctx, {
    supervisor,
    firstStart,
    ...((opts.setupSources ?? sourcesFromEnv())
      ? { sources: opts.setupSources ?? sourcesFromEnv()! }
      : {}),
  });
  setupRef = setup;
  capabilities.push(setup);
  routes.push(...setupRoutes(setup));

  // mDNS last: it starts once the control port is known and stops first (goodbye before anything goes down).
  // Pairing owns the snapshot's `peers` (paired peers + discovered ones): discovery does not write it.
  const discovery: Discovery = createDiscovery(ctx, {
    publishPeers: false,
    bind: () => opts.bind ?? settings.get().api.bind,
  });
  capabilities.push(discovery);
  // A graceful handoff drains (issue 14): after pairing has handed off (it stops first), requests in
  // flight here finish where they started while new ones are forwarded to the new serving host; only
  // then do the services stop. Bounded, so quitting never hangs on a long stream.
  capabilities.push({
    name: 'drain',
    async start() {},
    async stop(reason?: StopReason) {
      if (reason === 'suspend') return;
      const n = frontDoor.inFlight();
      if (n) logger.info('waiting for requests in flight before stopping', { requests: n });
      await frontDoor.drain(DRAIN_MS);
    },
  });
  // Pairing after discovery, so it stops before it: the handoff goes out before the mDNS goodbye.
  const pairing: Pairing = createPairing(ctx, {
    address: () => api.address(),
    discovery,
    activity: hibernation,
  });
  pairingRef = pairing;
  capabilities.push(pairing);
  routes.push(...pairingRoutes(ctx, pairing));
  commands.register('pairing.start', ({ type: _t, ...target }) => pairing.pair(target));
  commands.register('pairing.confirm', ({ code }) => pairing.confirm(code));
  commands.register('pairing.cancel', () => pairing.cancel());
  commands.register('pairing.unpair', ({ id }) => pairing.unpair(id));
  commands.register('serving.stop', () => pairing.stopServing());
  commands.register('serving.resume', () => pairing.resumeServing());
  // What faces the network stops on OS suspend and starts again on resume (issue 8's powerMonitor).
  // Pairing is in it: on suspend it hands off (it stops first, before the goodbye), on resume it listens again.
  const networkFacing: Capability[] = [discovery, pairing];

  const api = new ApiServer({
    routes,
    // Read on every request: the frozen view, not a deep copy of all the settings.
    token: () => settings.view().api.token,
    allowedHosts: () => settings.view().api.allowedHosts,
    rendererDir: opts.rendererDir === undefined ? null : opts.rendererDir,
    logger: logger.child('api'),
    now: () => clock.now(),
  });

  let started = false;
  let suspended = false;
  // A stop that comes while start() runs (SIGTERM, a quit during start) wins: no capability starts
  // after it began, and it waits for the one starting now, so whatever that spawned is stopped too.
  let stopRequested = false;
  let starting: Promise<unknown> | null = null;
  const tokenFile = path.join(opts.dataDir, 'token');

  const startAll = async (): Promise<{ port: number; url: string }> => {
    const s = settings.get();
    const port = opts.port ?? s.api.port;
    const bind = opts.bind ?? s.api.bind;
    // The token file lets a Linux admin (or a script) use the API; only this user may read it.
    // A full disk must not keep the server from serving (issue #20): say so and go on.
    const tokenTmp = `${tokenFile}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tokenTmp, s.api.token + '\n', { mode: 0o600 });
      fs.chmodSync(tokenTmp, 0o600);
      fs.renameSync(tokenTmp, tokenFile);
    } catch (err) {
      fs.rmSync(tokenTmp, { force: true }); // the previous file, if any, stays whole
      logger.warn('could not write the token file', { file: tokenFile, err });
      store.notify({
        level: 'warning',
        code: 'token_file',
        message: `Could not write ${tokenFile} (${(err as Error).message}). Free some disk space; until then scripts cannot read the API token from it.`,
      });
    }
    const addr = await api.listen(port, bind);
    // Known before the capabilities start: discovery announces it, pairing hands it to the peer.
    store.update('host', (h) => ({ ...h, port: addr.port }));
    for (const cap of capabilities) {
      if (stopRequested) throw new CoreStoppedError();
      await cap.start();
    }
    if (stopRequested) throw new CoreStoppedError();
    const url = `http://${bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind}:${addr.port}/`;
    logger.info('control API listening', { bind, port: addr.port });
    return { port: addr.port, url };
  };

  let stopping: Promise<void> | null = null;
  const stopAll = async (reason: StopReason): Promise<void> => {
    // The capability starting now finishes first (the rest never start), so its stop sees all it spawned.
    await starting;
    // Reverse order: stop advertising and hand off first, then the services, then the API.
    for (const cap of [...capabilities].reverse()) {
      try {
        await cap.stop(reason);
      } catch (err) {
        logger.error(`stopping ${cap.name} failed`, { err });
      }
    }
    events.closeAll();
    await api.close();
    releaseLock();
  };

  const core: Core = {
    ...ctx,
    async start() {
      if (started) throw new Error('core already started');
      started = true;
      stopRequested = false;
      const run = startAll();
      starting = run.catch(() => {});
      try {
        return await run;
      } finally {
        starting = null;
      }
    },
    stop(reason: StopReason = 'quit') {
      // A second stop (the failed start's, beside SIGTERM's) waits for the one under way.
      if (!started) return stopping ?? Promise.resolve();
      started = false;
      stopRequested = true;
      stopping = stopAll(reason);
      return stopping;
    },
    dashboardUrl() {
      const a = api.address();
      const bind = opts.bind ?? settings.get().api.bind;
      const host = !a || bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
      return `http://${host}:${a?.port ?? settings.get().api.port}/#token=${encodeURIComponent(settings.get().api.token)}`;
    },
    token: () => settings.get().api.token,
    address: () => api.address(),
    discovery,
    hibernation,
    supervisor,
    gpu,
    pairing,
    setup,
    frontDoor,
    async suspend() {
      if (!started || suspended) return;
      suspended = true;
      for (const cap of [...networkFacing].reverse()) {
        try {
          await cap.stop('suspend');
        } catch (err) {
          logger.error(`suspending ${cap.name} failed`, { err });
        }
      }
    },
    async resume() {
      if (!started || !suspended) return;
      suspended = false;
      for (const cap of networkFacing) {
        try {
          await cap.start();
        } catch (err) {
          logger.error(`resuming ${cap.name} failed`, { err });
        }
      }
      hibernation.tick();
    },
  };
  return core;
}
