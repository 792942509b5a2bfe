// The front door (issue 13): the core owns the public service ports (11434, 8880, 11402, 11401).
// Each program listens on loopback on an internal port chosen here; every request passes through
// this process, which makes it exact activity for hibernation, wakes a sleeping service and holds
// the request until it is ready, keeps the ports to the LAN, learns which models the phone uses,
// and counts what it sees for the views. Decisions are pure (verdict.ts, lan.ts, models.ts); this
// file is the IO.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FrontDoorPort, FrontDoorSection, ServiceEntry } from '../contract.js';
import type { Capability, CoreContext } from '../context.js';
import type { Route } from '../api/router.js';
import { PRESETS, presetFor } from '../services/presets.js';
import { serviceIds, takesAddress, type Placement } from '../supervisor/command.js';
import type { Settings } from '../settings/schema.js';
import { allowed, bearerOf } from './lan.js';
import { forward, sendError, upstreamAgent, type Upstream } from './proxy.js';
import { isWork, serviceView, verdict, type Verdict } from './verdict.js';
import { MinuteCounter } from './counter.js';
import { ModelMemory, modelInBody, preloadList, SNIFF_BYTES } from './models.js';

export type { Upstream } from './proxy.js';

/**
 * A handler in front of plain pass-through on one service's port (the audio API of the TTS ports):
 * it answers what it translates and calls `pass()` for the rest.
 */
export type Adapter = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: AdapterContext,
) => void | Promise<void>;

export interface AdapterContext {
  /** The program's address (internal port, or the paired host's front door). */
  upstream: Upstream;
  /** Keep-alive agent to that upstream. */
  agent: http.Agent;
  /** Plain pass-through of this request, untouched. */
  pass(): void;
}

/** What the front door needs from hibernation. */
export interface WakeTarget {
  activity(source: string): void;
  removed(): { stopped: readonly string[] };
}

export interface FrontDoorDeps {
  hibernation: () => WakeTarget | null;
  /** Per service id. */
  adapters?: Record<string, Adapter>;
  /**
   * Where requests for a service go. Default: the local program's internal address. The pairing
   * capability may point a host that does not serve at the paired host's front door.
   */
  upstream?: (id: string, local: Upstream | null) => Upstream | null;
  /** Addresses to bind when the public port is taken on loopback (default: the host's non-internal IPv4). */
  lanAddresses?: () => string[];
  /**
   * The pair (issue 14): the paired host that serves, when this one does not. Its front door gets
   * the request as it came (same public port), marked as forwarded; null = serve here.
   */
  forwardTo?: (id: string, req: IncomingMessage) => { peerId: string; host: string } | null;
  /** A connection to that host failed before anything was sent: the request is served here instead. */
  forwardFailed?: (peerId: string, why: string) => void;
  /** This host's id, for the forwarded mark. */
  hostId?: () => string;
}

export interface FrontDoor extends Capability {
  /** The supervisor asks where each program should listen (null: on its public port, no front door). */
  placement(id: string): Placement | null;
  /** Every request for this service passes the front door (hibernation stops guessing for it). */
  seesAll(id: string): boolean;
  /** Where requests for `id` go now (the hook `pair` uses). */
  upstream(id: string): Upstream | null;
  /** The models to preload: the phone's most recent, else `models.preload`. */
  preloadModels(): string[];
  /** Changes when the phone asks for a model not asked for before (the GPU sampler's /api/ps hint). */
  modelsHint(): string;
  /** The gateway routes for the control port. */
  routes(): Route[];
  /** Requests currently held, per service (tests, bench). */
  heldCount(id?: string): number;
  /** Requests in progress (held, passed or forwarded) on every port. */
  inFlight(): number;
  /** Resolves when no request is in progress, or after `ms` (a graceful handoff drains). */
  drain(ms: number): Promise<void>;
  section(): FrontDoorSection;
}

type Mode = FrontDoorPort['listening'];

interface Door {
  id: string;
  port: number;
  mode: Mode;
  servers: http.Server[];
  addresses: string[];
  /** Where the program listens (internal port) or, in `lan` mode, the other program on loopback. */
  local: Upstream | null;
  agent: http.Agent;
  note: string | null;
  counter: MinuteCounter;
  heldTotal: number;
}

interface Held {
  id: string;
  req: IncomingMessage;
  res: ServerResponse;
  since: number;
  timer: NodeJS.Timeout | null;
  go(): void;
}

const LOOPBACK = '127.0.0.1';

export function createFrontDoor(ctx: CoreContext, deps: FrontDoorDeps): FrontDoor {
  const log = ctx.logger.child('frontdoor');
  const doors = new Map<string, Door>();
  const held = new Map<string, Held[]>();
  const memory = new ModelMemory(ctx.dataDir);
  const sockets = new Set<net.Socket>();
  let started = false;
  let offStore: (() => void) | null = null;
  let offSettings: (() => void) | null = null;
  let publishTimer: NodeJS.Timeout | null = null;
  let refreshTimer: NodeJS.Timeout | null = null;
  let settingsQueue: Promise<void> = Promise.resolve();

  const settings = (): Readonly<Settings> => ctx.settings.view() as Readonly<Settings>;
  const entry = (id: string): ServiceEntry | undefined =>
    ctx.store.get('services').find((s) => s.id === id);

  // ── ports ────────────────────────────────────────────────────────────────────────────────

  /** The services that get a front door: enabled, with a port, taking the address we give. */
  const wanted = (s: Readonly<Settings>): { id: string; port: number }[] => {
    if (!s.frontDoor.enabled) return [];
    const out: { id: string; port: number }[] = [];
    for (const id of serviceIds(s as Settings, PRESETS)) {
      const conf = s.services[id] ?? {};
      const preset = presetFor(id);
      const enabled = conf.enabled ?? preset?.enabled ?? true;
      const port = conf.port ?? preset?.port ?? null;
      if (!enabled || port === null || !takesAddress(id, s as Settings)) continue;
      out.push({ id, port });
    }
    return out;
  };

  const open = async (id: string, port: number): Promise<Door> => {
    const s = settings();
    const door: Door = {
      id,
      port,
      mode: 'none',
      servers: [],
      addresses: [],
      local: null,
      agent: upstreamAgent(),
      note: null,
      counter: new MinuteCounter(),
      heldTotal: 0,
    };
    const all = s.serveOnLan ? '0.0.0.0' : LOOPBACK;
    const first = await listen(door, all, port);
    if (first === 'ok') {
      door.mode = s.serveOnLan ? 'all' : 'loopback';
      door.addresses = [all];
      door.local = { host: LOOPBACK, port: await freePort() };
      return door;
    }
    if (first !== 'EADDRINUSE') {
      door.note = `The front door cannot listen on port ${port}: ${first}. ${nameOf(id)} is not reachable through it.`;
      return door;
    }
    // Taken. On loopback only (the Ollama desktop app binds 127.0.0.1:11434)? Then the LAN
    // addresses are still free: listen there and pass requests to that program.
    const lan = s.serveOnLan ? (deps.lanAddresses ?? lanIPv4)() : [];
    for (const addr of lan) {
      if ((await listen(door, addr, port)) === 'ok') door.addresses.push(addr);
    }
    if (door.addresses.length) {
      door.mode = 'lan';
      door.local = { host: LOOPBACK, port };
      door.note =
        `Port ${port} is taken on ${LOOPBACK} by another program${id === 'ollama' ? ' (probably the Ollama desktop app)' : ''}: ` +
        `the front door listens on the LAN address${door.addresses.length > 1 ? 'es' : ''} ${door.addresses.join(', ')} only and passes requests to it.`;
      return door;
    }
    door.note = s.serveOnLan
      ? `Port ${port} is taken on every address by another program: the front door does not stand in front of ${nameOf(id)}; requests go to that program directly and are not seen here.`
      : `Port ${port} is taken on ${LOOPBACK} by another program: the front door does not stand in front of ${nameOf(id)}.`;
    return door;
  };

  const listen = (door: Door, host: string, port: number): Promise<'ok' | string> =>
    new Promise((resolve) => {
      // No request timeout: a held request or a long upload is bounded by the hold rules, not by
      // Node's 300 s default. Headers must still come within 30 s (slowloris).
      const server = http.createServer(
        { headersTimeout: 30_000, requestTimeout: 0, noDelay: true },
        (req, res) => handle(door.id, req, res),
      );
      server.keepAliveTimeout = 30_000;
      server.on('connection', (sock) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
      });
      server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      server.listen({ host, port, exclusive: true }, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => log.warn(`port ${port} on ${host}: ${err.message}`));
        door.servers.push(server);
        resolve('ok');
      });
    });

  const close = async (door: Door): Promise<void> => {
    await Promise.all(
      door.servers.map(
        (srv) =>
          new Promise<void>((r) => {
            srv.close(() => r());
            srv.closeIdleConnections();
          }),
      ),
    );
    door.agent.destroy();
  };

  /** Opens and closes doors to match the settings (one port change = that door reopened). */
  const reconcile = async (): Promise<void> => {
    const want = wanted(settings());
    for (const [id, door] of doors) {
      const w = want.find((x) => x.id === id);
      if (w && w.port === door.port) continue;
      doors.delete(id);
      refuseHeld(id, `${nameOf(id)} moved or was disabled on this server.`);
      await close(door);
      log.info(`closed port ${door.port} (${id})`);
    }
    for (const w of want) {
      if (doors.has(w.id)) continue;
      const door = await open(w.id, w.port);
      doors.set(w.id, door);
      if (door.mode === 'none') log.warn(door.note ?? `not in front of ${w.id}`);
      else
        log.info(
          `port ${w.port} (${w.id}) on ${door.addresses.join(', ')} → ${door.local?.host}:${door.local?.port}${door.note ? `: ${door.note}` : ''}`,
        );
    }
    publishSoon();
  };

  // ── requests ─────────────────────────────────────────────────────────────────────────────

  const upstreamOf = (id: string): Upstream | null => {
    const local = doors.get(id)?.local ?? null;
    return deps.upstream ? deps.upstream(id, local) : local;
  };

  const handle = (id: string, req: IncomingMessage, res: ServerResponse): void => {
    const s = settings();
    const client = req.socket.remoteAddress;
    if (!allowed(client, s.frontDoor.allowFrom)) {
      return sendError(
        res,
        403,
        'forbidden',
        `Only the local network may use this port (your address ${client ?? 'unknown'} is not private). The setting frontDoor.allowFrom changes this.`,
      );
    }
    if (id === 'ollama' && !keyOk(req, s)) {
      return sendError(
        res,
        401,
        'unauthorized',
        'This server needs the API key: send Authorization: Bearer <key> (Settings → Self-Hosted Server → API key in the app).',
        {
          'www-authenticate': 'Bearer',
        },
      );
    }
    admit(id, req, res, `${id} request from ${client ?? 'unknown'}`);
  };

  const keyOk = (req: IncomingMessage, s: Readonly<Settings>): boolean => {
    const key = s.frontDoor.llmKey;
    if (!key) return true;
    const given = bearerOf(req.headers.authorization);
    return given !== null && sameSecret(given, key);
  };

  // ── the pair: requests for the serving host (issue 14) ────────────────────────────────────

  let inFlight = 0;
  const drained: (() => void)[] = [];
  const track = (res: ServerResponse) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) for (const d of drained.splice(0)) d();
    });
  };

  /**
   * A fresh connection per forwarded request (no pooled socket that could point at a host that
   * died), and a short connect timeout: a host that vanished is known within a second and the
   * request is served here instead. On the LAN a connect costs well under a millisecond.
   */
  const relayAgent = new RelayAgent(1_000);

  /** Marks the request (so it is never forwarded twice) and passes it to the serving host's door. */
  const relay = (
    id: string,
    req: IncomingMessage,
    res: ServerResponse,
    source: string,
    peer: { peerId: string; host: string },
  ): void => {
    const door = doors.get(id);
    door?.counter.add(Date.now());
    publishSoon();
    req.rawHeaders.push('X-UnaMentis-Forwarded', deps.hostId?.() ?? 'peer');
    forward(req, res, { host: peer.host, port: door?.port ?? 0 }, relayAgent, {
      onRefused: (err) => {
        deps.forwardFailed?.(peer.peerId, err.message);
        log.info(`${id}: the serving host ${peer.host} cannot be reached (${err.code ?? err.message}); serving here`);
        admitHere(id, req, res, source);
      },
    });
  };

  /** Verdict, activity, then forward / hold / refuse. Also the gateway's entry. */
  const admit = (id: string, req: IncomingMessage, res: ServerResponse, source: string): void => {
    track(res);
    const peer = deps.forwardTo?.(id, req) ?? null;
    if (peer && doors.has(id)) return relay(id, req, res, source, peer);
    admitHere(id, req, res, source);
  };

  const admitHere = (id: string, req: IncomingMessage, res: ServerResponse, source: string): void => {
    const door = doors.get(id);
    door?.counter.add(Date.now());
    publishSoon();
    const hib = deps.hibernation();
    const waking = hib?.removed().stopped.includes(id) ?? false;
    const v = decide(id, waking, false, null);
    // A request that does work is use: it resets the idle clock and, from cool or deeper, restores
    // what hibernation removed. So is any request that must wait for its service (it wakes it).
    if (isWork(req.method, req.url) || v.type === 'hold') hib?.activity(source);
    act(id, req, res, v, null, waking);
  };

  const stoppedByHibernation = (id: string) =>
    deps.hibernation()?.removed().stopped.includes(id) ?? false;

  const limits = () => {
    const f = settings().frontDoor;
    return { maxHeld: f.maxHeldRequests, maxHoldMs: f.maxHoldSeconds * 1000 };
  };

  const decide = (
    id: string,
    stoppedByHibernation: boolean,
    wakeIssued: boolean,
    heldSince: number | null,
  ): Verdict => {
    const e = entry(id);
    if (!e) {
      return {
        type: 'refuse',
        status: 503,
        code: 'service_unavailable',
        message: `No service "${id}" on this server.`,
        retryAfterSeconds: null,
      };
    }
    const queue = held.get(id) ?? [];
    return verdict({
      service: serviceView(e),
      stoppedByHibernation,
      wakeIssued,
      held: heldSince === null ? queue.length : queue.length - 1,
      limits: limits(),
      now: Date.now(),
      heldSince,
    });
  };

  const act = (
    id: string,
    req: IncomingMessage,
    res: ServerResponse,
    v: Verdict,
    h: Held | null,
    waking = false,
  ): void => {
    if (v.type === 'forward') {
      if (h) unhold(h);
      return pass(id, req, res);
    }
    if (v.type === 'refuse') {
      if (h) unhold(h);
      const headers: Record<string, string> =
        v.retryAfterSeconds !== null ? { 'retry-after': String(v.retryAfterSeconds) } : {};
      // An unread body must not be parsed as the next request on this connection.
      if (!req.complete) headers.connection = 'close';
      return sendError(res, v.status, v.code, v.message, headers);
    }
    if (h) {
      schedule(h, v.until);
      return;
    }
    const item: Held = { id, req, res, since: Date.now(), timer: null, go: () => {} };
    // `waking`: hibernation had stopped it, and this request's activity asked for it back.
    item.go = () =>
      act(id, req, res, decide(id, stoppedByHibernation(id), waking, item.since), item);
    const queue = held.get(id) ?? [];
    queue.push(item);
    held.set(id, queue);
    const door = doors.get(id);
    if (door) door.heldTotal++;
    // A client that gives up while waiting leaves the queue at once.
    res.once('close', () => {
      if (!res.writableFinished) unhold(item);
    });
    schedule(item, v.until);
    publishSoon();
  };

  const schedule = (h: Held, until: number) => {
    if (h.timer) clearTimeout(h.timer);
    h.timer = setTimeout(h.go, Math.max(0, until - Date.now()) + 1);
  };

  const unhold = (h: Held) => {
    if (h.timer) clearTimeout(h.timer);
    h.timer = null;
    const queue = held.get(h.id);
    if (!queue) return;
    const i = queue.indexOf(h);
    if (i < 0) return;
    queue.splice(i, 1);
    if (!queue.length) held.delete(h.id);
    publishSoon();
  };

  const refuseHeld = (id: string, message: string) => {
    for (const h of [...(held.get(id) ?? [])]) {
      unhold(h);
      sendError(h.res, 503, 'service_unavailable', message, { 'retry-after': '5' });
    }
  };

  /** The services changed: every held request asks again. */
  const recheck = () => {
    for (const queue of [...held.values()]) for (const h of [...queue]) h.go();
  };

  const pass = (id: string, req: IncomingMessage, res: ServerResponse): void => {
    const door = doors.get(id);
    const upstream = upstreamOf(id);
    if (!door || !upstream) {
      return sendError(
        res,
        503,
        'service_unavailable',
        `${nameOf(id)} has no address on this server.`,
      );
    }
    const adapter = deps.adapters?.[id];
    const plain = () => plainPass(id, req, res, upstream, door.agent);
    if (adapter) {
      Promise.resolve(adapter(req, res, { upstream, agent: door.agent, pass: plain })).catch(
        (err: unknown) => {
          log.warn(`${id} adapter failed`, { err });
          sendError(
            res,
            502,
            'bad_gateway',
            `Could not translate the request for ${nameOf(id)}: ${(err as Error).message}`,
          );
        },
      );
      return;
    }
    plain();
  };

  const plainPass = (
    id: string,
    req: IncomingMessage,
    res: ServerResponse,
    upstream: Upstream,
    agent: http.Agent,
  ) => {
    // Ollama: note the model asked for (from the first bytes of the body) once it answered 200.
    let sniffed = '';
    let model: string | null = null;
    const learn = id === 'ollama' && req.method === 'POST';
    forward(req, res, upstream, agent, {
      onBody: learn
        ? (chunk) => {
            if (model !== null || sniffed.length >= SNIFF_BYTES) return;
            sniffed += chunk.toString('utf8');
            model = modelInBody(sniffed.slice(0, SNIFF_BYTES));
          }
        : undefined,
      onResponse: (status) => {
        if (learn && status === 200 && model) memory.record(model, new Date(ctx.clock.now()));
      },
      // The program went away between the verdict and the connect (a stop, a crash): ask again.
      onRefused: () => {
        const waking = stoppedByHibernation(id);
        act(id, req, res, decide(id, waking, false, null), null, waking);
      },
      // A long answer (a stream) is use until its end.
      onDone: () => {
        if (isWork(req.method, req.url)) deps.hibernation()?.activity(`${id} request finished`);
      },
    });
  };

  // ── gateway on the control port (Android, and the UnaMentis server's own 11400 gateway) ──

  const gatewayTts = (): string => {
    const vv = entry('vibevoice');
    if (vv && doors.has('vibevoice')) {
      const v = decide('vibevoice', stoppedByHibernation('vibevoice'), false, null);
      if (v.type !== 'refuse') return 'vibevoice';
    }
    return 'piper';
  };

  const gateway = (id: string | (() => string)): Route['handler'] => {
    return ({ req, res, client }) => {
      const target = typeof id === 'function' ? id() : id;
      if (!doors.has(target)) {
        sendError(
          res,
          503,
          'service_unavailable',
          `${nameOf(target)} is not served through this server's front door (see the dashboard).`,
        );
        return undefined;
      }
      if (target === 'ollama' && !keyOk(req, settings())) {
        sendError(
          res,
          401,
          'unauthorized',
          'This server needs the API key: send Authorization: Bearer <key>.',
          { 'www-authenticate': 'Bearer' },
        );
        return undefined;
      }
      admit(target, req, res, `${target} request from ${client} (gateway)`);
      return undefined;
    };
  };

  // ── views ────────────────────────────────────────────────────────────────────────────────

  const section = (): FrontDoorSection => {
    const s = settings();
    const now = Date.now();
    const services = ctx.store.get('services');
    const ports: FrontDoorPort[] = [];
    for (const [id, door] of doors) {
      const e = services.find((x) => x.id === id);
      const up = upstreamOf(id);
      ports.push({
        id,
        name: e?.name ?? nameOf(id),
        port: door.port,
        listening: door.mode,
        addresses: [...door.addresses],
        behind: behindOf(e),
        lan:
          door.mode === 'all' ||
          door.mode === 'lan' ||
          (door.mode === 'none' && s.serveOnLan && e?.status === 'external'),
        upstream: door.mode === 'none' || !up ? null : `${up.host}:${up.port}`,
        requestsLastMinute: door.counter.total(now),
        held: held.get(id)?.length ?? 0,
        heldTotal: door.heldTotal,
        note: door.note,
      });
    }
    return {
      enabled: s.frontDoor.enabled,
      allowFrom: s.frontDoor.allowFrom,
      llmKeyRequired: s.frontDoor.llmKey !== '',
      ports,
    };
  };

  const publishSoon = () => {
    if (!started || publishTimer) return;
    // At most once a second: a burst of requests is one snapshot change, not one per request.
    publishTimer = setTimeout(() => {
      publishTimer = null;
      ctx.store.set('frontDoor', section());
    }, 250);
    publishTimer.unref();
  };

  const fd: FrontDoor = {
    name: 'frontdoor',
    async start() {
      if (started) return;
      started = true;
      await reconcile();
      ctx.store.set('frontDoor', section());
      offStore = ctx.store.onChange(() => {
        if (held.size) recheck();
        // `behind` follows the services (an unchanged section is not a change: this settles).
        publishSoon();
      });
      offSettings = ctx.settings.onChange(() => {
        settingsQueue = settingsQueue
          .then(reconcile)
          .catch((err: unknown) => log.error('front door settings failed', { err }));
        publishSoon();
      });
      // The minute counters decay and `behind` follows the services: refresh the section.
      refreshTimer = setInterval(() => ctx.store.set('frontDoor', section()), 5000);
      refreshTimer.unref();
    },
    async stop() {
      if (!started) return;
      started = false;
      offStore?.();
      offSettings?.();
      if (publishTimer) clearTimeout(publishTimer);
      if (refreshTimer) clearInterval(refreshTimer);
      publishTimer = refreshTimer = null;
      await settingsQueue;
      for (const id of [...held.keys()]) refuseHeld(id, 'UnaMentis Server is shutting down.');
      const closing = [...doors.values()].map(close);
      for (const sock of sockets)
        if (!sock.destroyed) setTimeout(() => sock.destroy(), 2000).unref();
      await Promise.all(closing);
      doors.clear();
      memory.flush();
    },
    placement(id) {
      const door = doors.get(id);
      if (!door || door.mode === 'none' || !door.local) return null;
      return { host: door.local.host, port: door.local.port };
    },
    seesAll(id) {
      // In `lan` mode the program also has local users who reach it directly (the desktop app's).
      const door = doors.get(id);
      return !!door && (door.mode === 'all' || door.mode === 'loopback');
    },
    upstream: upstreamOf,
    preloadModels: () =>
      preloadList(memory.used(), settings().models.learnedPreload, settings().models.preload),
    modelsHint: () =>
      memory
        .used()
        .map((m) => m.name)
        .sort()
        .join(','),
    routes: () => [
      {
        method: 'POST',
        path: '/v1/chat/completions',
        auth: false,
        unlimited: true,
        handler: gateway('ollama'),
      },
      {
        method: 'GET',
        path: '/v1/models',
        auth: false,
        unlimited: true,
        handler: gateway('ollama'),
      },
      {
        method: 'POST',
        path: '/v1/audio/speech',
        auth: false,
        unlimited: true,
        handler: gateway(gatewayTts),
      },
      {
        method: 'POST',
        path: '/v1/audio/transcriptions',
        auth: false,
        unlimited: true,
        handler: gateway('whisper'),
      },
    ],
    heldCount: (id) =>
      id ? (held.get(id)?.length ?? 0) : [...held.values()].reduce((n, q) => n + q.length, 0),
    inFlight: () => inFlight,
    drain: (ms) =>
      new Promise<void>((resolve) => {
        if (inFlight === 0) return resolve();
        const t = setTimeout(resolve, ms);
        t.unref();
        drained.push(() => {
          clearTimeout(t);
          resolve();
        });
      }),
    section,
  };
  return fd;
}

/** No keep-alive, and a connect that does not complete in `connectMs` fails like a refused one. */
class RelayAgent extends http.Agent {
  constructor(private readonly connectMs: number) {
    super({ keepAlive: false, maxSockets: 256 });
  }
  override createConnection(options: net.NetConnectOpts, cb?: (err: Error | null, s: net.Socket) => void): net.Socket {
    const sock = net.createConnection(options);
    const timer = setTimeout(() => {
      sock.destroy(Object.assign(new Error(`no connection within ${this.connectMs} ms`), { code: 'ETIMEDOUT' }));
    }, this.connectMs);
    timer.unref();
    sock.once('connect', () => clearTimeout(timer));
    sock.once('close', () => clearTimeout(timer));
    void cb;
    return sock;
  }
}

function behindOf(e: ServiceEntry | undefined): FrontDoorPort['behind'] {
  if (!e) return 'nobody';
  if (e.status === 'external') return 'external';
  if (e.status === 'running' || e.status === 'unhealthy' || e.status === 'starting')
    return e.pid !== null || e.status === 'running' ? 'ours' : 'nobody';
  return 'nobody';
}

function nameOf(id: string): string {
  return presetFor(id)?.name ?? id;
}

/** Constant-time comparison (hashing first makes the lengths equal). */
function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** The host's LAN-facing IPv4 addresses (IPv4 by default, as CONTRACT §1 says). */
export function lanIPv4(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out;
}

/** A free loopback port for a program behind the front door (the OS picks it). */
export function freePort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
