// The front door (issue 13): the core owns the public service ports (11434, 8880, 11402, 11401).
// Each program listens on loopback on an internal port chosen here; every request passes through
// this process, which makes it exact activity for hibernation, wakes a sleeping service and holds
// the request until it is ready, keeps the ports to the LAN, learns which models the phone uses,
// and counts what it sees for the views. Decisions are pure (verdict.ts, lan.ts, models.ts); this
// file is the IO.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import os from 'node:os';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FrontDoorPort, FrontDoorSection, ServiceEntry } from '../contract.js';
import type { Capability, CoreContext } from '../context.js';
import { PRESETS, presetFor } from '../services/presets.js';
import { serviceIds, takesAddress, type Placement } from '../services/command.js';
import type { Settings } from '../settings/schema.js';
import { OURS_UP_STATUSES, PROCESS_STATUSES } from '../contract.js';
import { allowed, bearerOf } from './lan.js';
import { forward, sendError, upstreamAgent, type Upstream } from './proxy.js';
import { isWork, serviceView, verdict, type Verdict } from './verdict.js';
import { MinuteCounter } from './counter.js';
import { ModelMemory, modelInBody, preloadList, SNIFF_BYTES } from './models.js';
import { createAudioRoutes, inferencePathOf } from './audio/index.js';

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
  /**
   * The program refused or reset the connection before any byte of the answer was sent (and the
   * adapter still holds the whole request): the door holds it again under the same limits and
   * calls `again` with the address once the service is ready, or answers it itself.
   */
  unreachable(err: Error, again: (up: Upstream) => void): void;
}

/** What the front door needs from hibernation. */
export interface WakeTarget {
  activity(source: string): void;
  removed(): { stopped: readonly string[] };
  /** `busy`: a stop, start, unload or preload is in flight. */
  section(): { busy?: boolean };
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
  /** Restarts a running program whose placement changed (a door opened, closed or moved). */
  restart?: (id: string) => Promise<unknown>;
  /**
   * The pair (issue 14): the paired host that serves, when this one does not. Its front door gets
   * the request as it came, marked as forwarded, on the port it advertises for the service (`port`;
   * null or absent: the same public port as here); null = serve here.
   */
  forwardTo?: (
    id: string,
    req: IncomingMessage,
  ) => { peerId: string; host: string; port?: number | null } | null;
  /** A connection to that host failed before anything was sent: the request is served here instead. */
  forwardFailed?: (peerId: string, why: string, refused: boolean) => void;
  /** This host's id, for the forwarded mark. */
  hostId?: () => string;
}

/** One request to the gateway, as the API layer hands it over. */
export interface GatewayExchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** The client's address, for the log. */
  client: string;
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
  /**
   * The gateway on the control port (`/v1/...`, routed by api/routes/frontdoor.ts): a request for
   * Ollama, the TTS in front (VibeVoice, else Piper) or Whisper, admitted as on its own port.
   */
  gateway(target: 'ollama' | 'tts' | 'whisper', x: GatewayExchange): void;
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
  /** The settings the door was opened with: another value reopens it. */
  key: string;
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
  /** Drops its listener on the client's close (a request held again gets a new one). */
  offClose?(): void;
}

const LOOPBACK = '127.0.0.1';

export function createFrontDoor(ctx: CoreContext, deps: FrontDoorDeps): FrontDoor {
  const log = ctx.logger.child('frontdoor');
  const doors = new Map<string, Door>();
  const held = new Map<string, Held[]>();
  const memory = new ModelMemory(ctx.dataDir);
  let started = false;
  let offStore: (() => void) | null = null;
  let offSettings: (() => void) | null = null;
  let publishTimer: NodeJS.Timeout | null = null;
  let refreshTimer: NodeJS.Timeout | null = null;
  let settingsQueue: Promise<void> = Promise.resolve();
  /** Programs being moved from their public port to an internal one (the front door turned on). */
  const moving = new Map<string, Upstream>();

  const settings = (): Readonly<Settings> => ctx.settings.view() as Readonly<Settings>;
  // The app's audio API (./audio, issue 13 item 4) in front of plain pass-through on the TTS/STT ports.
  const audio = createAudioRoutes({
    piperVoices: () => ({ ...settings().audio.piperVoices }),
    whisperInferencePath: () => inferencePathOf([...(settings().services.whisper?.args ?? [])]),
  });
  const adapters: Record<string, Adapter> = deps.adapters ?? audio.adapters;
  // Per request: the services section is copied once per store change, not on every request.
  let cache: { version: number; byId: Map<string, ServiceEntry> } | null = null;
  const entry = (id: string): ServiceEntry | undefined => {
    if (!cache || cache.version !== ctx.store.version) {
      cache = {
        version: ctx.store.version,
        byId: new Map(ctx.store.get('services').map((e) => [e.id, e])),
      };
    }
    return cache.byId.get(id);
  };

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

  const open = async (id: string, port: number, internal?: Upstream): Promise<Door> => {
    const s = settings();
    const door: Door = {
      id,
      port,
      key: doorKey(port, s),
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
      door.local = internal ?? { host: LOOPBACK, port: await freePort() };
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
        { headersTimeout: 30_000, requestTimeout: 0, noDelay: true, highWaterMark: 256 * 1024 },
        (req, res) => handle(door.id, req, res),
      );
      server.keepAliveTimeout = 30_000;
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        upgrade(door.id, req, socket, head),
      );
      server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      server.listen({ host, port, exclusive: true }, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => log.warn(`port ${port} on ${host}: ${err.message}`));
        door.servers.push(server);
        resolve('ok');
      });
    });

  /** Stops listening; idle connections go at once, busy ones get `graceMs` to finish. */
  const close = async (door: Door, graceMs = 2000): Promise<void> => {
    await Promise.all(
      door.servers.map(
        (srv) =>
          new Promise<void>((r) => {
            const timer = setTimeout(() => srv.closeAllConnections(), graceMs);
            srv.close(() => {
              clearTimeout(timer);
              r();
            });
            srv.closeIdleConnections();
          }),
      ),
    );
    door.agent.destroy();
  };

  /** Opens and closes doors to match the settings (one port change = that door reopened). */
  const reconcile = async (): Promise<void> => {
    const s = settings();
    const want = wanted(s);
    const before = new Map([...doors.keys()].map((id) => [id, placementKey(fd.placement(id))]));
    const closing: Promise<void>[] = [];
    for (const [id, door] of doors) {
      const w = want.find((x) => x.id === id);
      if (w && doorKey(w.port, s) === door.key) continue;
      doors.delete(id);
      refuseHeld(id, `${nameOf(id)} moved or was disabled on this server.`);
      closing.push(close(door).then(() => log.info(`closed port ${door.port} (${id})`)));
    }
    await Promise.all(closing);
    const restarted = new Set<string>();
    for (const w of want) {
      if (doors.has(w.id)) continue;
      const e = entry(w.id);
      if (
        started &&
        deps.restart &&
        e &&
        UP.has(e.status) &&
        (before.get(w.id) ?? 'public') === 'public'
      ) {
        // Our program holds the public port itself (the front door was off): move it to an
        // internal port first, which frees the public one for the door.
        const internal = { host: LOOPBACK, port: await freePort() };
        moving.set(w.id, internal);
        log.info(`${w.id}: moving it behind the front door (${internal.host}:${internal.port})`);
        await deps
          .restart(w.id)
          .catch((err: unknown) => log.warn(`restarting ${w.id} failed`, { err }));
        restarted.add(w.id);
      }
      const door = await open(w.id, w.port, moving.get(w.id));
      moving.delete(w.id);
      doors.set(w.id, door);
      if (door.mode === 'none') log.warn(door.note ?? `not in front of ${w.id}`);
      else
        log.info(
          `port ${w.port} (${w.id}) on ${door.addresses.join(', ')} → ${door.local?.host}:${door.local?.port}${door.note ? `: ${door.note}` : ''}`,
        );
    }
    // A running program placed elsewhere than its door now says moves there (the supervisor's own
    // restart on a changed service setting may have raced this: it is asked again only if needed).
    for (const id of new Set([...before.keys(), ...doors.keys()])) {
      const was = before.get(id) ?? 'public';
      const now = placementKey(fd.placement(id));
      const e = entry(id);
      if (now === was || restarted.has(id) || !e || !UP.has(e.status) || !deps.restart || !started)
        continue;
      log.info(`${id}: placement changed (${was} → ${now}); restarting it`);
      void deps.restart(id).catch((err: unknown) => log.warn(`restarting ${id} failed`, { err }));
    }
    publishSoon();
  };

  // ── requests ─────────────────────────────────────────────────────────────────────────────

  const upstreamOf = (id: string): Upstream | null => {
    const local = doors.get(id)?.local ?? null;
    return deps.upstream ? deps.upstream(id, local) : local;
  };

  const handle = (id: string, req: IncomingMessage, res: ServerResponse): void => {
    if (!admitted(id, req, res)) return;
    admit(id, req, res, `${id} request from ${req.socket.remoteAddress ?? 'unknown'}`);
  };

  /** Who may come in (LAN, the LLM key); answers 403/401 itself when not. */
  const admitted = (id: string, req: IncomingMessage, res: ServerResponse): boolean => {
    const s = settings();
    const client = req.socket.remoteAddress;
    if (!allowed(client, s.frontDoor.allowFrom)) {
      sendError(
        res,
        403,
        'forbidden',
        `Only the local network may use this port (your address ${client ?? 'unknown'} is not private). The setting frontDoor.allowFrom changes this.`,
      );
      return false;
    }
    if (id === 'ollama' && !keyOk(req, s)) {
      sendError(
        res,
        401,
        'unauthorized',
        'This server needs the API key: send Authorization: Bearer <key> (Settings → Self-Hosted Server → API key in the app).',
        {
          'www-authenticate': 'Bearer',
        },
      );
      return false;
    }
    return true;
  };

  /**
   * A WebSocket (VibeVoice's streaming endpoint): checked, woken, held and refused like any request
   * (the client waits for its 101 while the service starts), then the two sockets are joined. The
   * door's own answers (403, 401, 503 with the reason, 502) go through a ServerResponse on the
   * socket, so they are the same as on any request; once joined the socket is the WebSocket's.
   */
  const upgrade = (id: string, req: IncomingMessage, duplex: Duplex, head: Buffer): void => {
    const socket = duplex as net.Socket;
    socket.on('error', () => socket.destroy());
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.once('finish', () => socket.end());
    if (!admitted(id, req, res)) return;
    doors.get(id)?.counter.add(Date.now());
    publishSoon();
    const waking = stoppedByHibernation(id);
    watchDrain(id);
    const v = decide(id, waking, false, null);
    deps.hibernation()?.activity(`${id} connection from ${req.socket.remoteAddress ?? 'unknown'}`);
    const join = (up: Upstream): void => {
      if (res.headersSent || res.destroyed) return;
      let joined = false;
      const conn = net.connect(up.port, up.host, () => {
        joined = true;
        socket.off('close', drop);
        socket.on('close', () => conn.destroy());
        res.detachSocket(socket);
        let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          const name = req.rawHeaders[i]!;
          text += `${name}: ${name.toLowerCase() === 'host' ? `${up.host}:${up.port}` : req.rawHeaders[i + 1]}\r\n`;
        }
        conn.write(text + '\r\n');
        if (head.length) conn.write(head);
        conn.pipe(socket);
        socket.pipe(conn);
      });
      const drop = () => conn.destroy();
      socket.once('close', drop);
      conn.setNoDelay(true);
      conn.on('error', (err) => {
        if (joined) return socket.destroy();
        socket.off('close', drop);
        // Refused before a byte was sent (the program stopped or is restarting): held again, as
        // an HTTP request is, or answered 503/502 with the reason.
        refused(id, req, res, err, join);
      });
      conn.on('close', () => {
        if (joined) socket.destroy();
      });
    };
    act(id, req, res, v, null, waking, join);
  };

  const keyOk = (req: IncomingMessage, s: Readonly<Settings>): boolean => {
    const key = s.frontDoor.llmKey;
    if (!key) return true;
    const given = bearerOf(req.headers.authorization);
    return given !== null && sameSecret(given, key);
  };

  // ── the pair: requests for the serving host (issue 14) ────────────────────────────────────

  let inFlight = 0;
  const track = (res: ServerResponse) => {
    inFlight++;
    res.once('close', () => inFlight--);
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
    peer: { peerId: string; host: string; port?: number | null },
  ): void => {
    const door = doors.get(id);
    door?.counter.add(Date.now());
    publishSoon();
    req.rawHeaders.push('X-UnaMentis-Forwarded', deps.hostId?.() ?? 'peer');
    forward(req, res, { host: peer.host, port: peer.port ?? door?.port ?? 0 }, relayAgent, {
      onRefused: (err) => {
        deps.forwardFailed?.(peer.peerId, err.message, err.code === 'ECONNREFUSED');
        log.info(
          `${id}: the serving host ${peer.host} cannot be reached (${err.code ?? err.message}); serving here`,
        );
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

  const admitHere = (
    id: string,
    req: IncomingMessage,
    res: ServerResponse,
    source: string,
  ): void => {
    const door = doors.get(id);
    door?.counter.add(Date.now());
    publishSoon();
    const hib = deps.hibernation();
    const waking = hib?.removed().stopped.includes(id) ?? false;
    watchDrain(id);
    const v = decide(id, waking, false, null);
    // A request that does work is use: it resets the idle clock and, from cool or deeper, restores
    // what hibernation removed. So is any request that must wait for its service (it wakes it).
    if (isWork(req.method, req.url) || v.type === 'hold') hib?.activity(source);
    act(id, req, res, v, null, waking);
  };

  const stoppedByHibernation = (id: string) =>
    deps.hibernation()?.removed().stopped.includes(id) ?? false;

  /**
   * A service hibernation has decided to stop while it still runs is draining until its process is
   * seen down (then the wake starts it again) or hibernation has nothing in flight (the stop was
   * cancelled by a wake before it ran). A request in that window would meet a dying process.
   */
  const draining = new Set<string>();
  const watchDrain = (id: string) => {
    const e = entry(id);
    const hib = deps.hibernation();
    const up = !!e && UP.has(e.status);
    if (up && hib?.removed().stopped.includes(id)) draining.add(id);
    else if (draining.has(id) && (!up || e?.status !== 'running' || !hib?.section().busy))
      draining.delete(id);
  };

  const limits = () => {
    const f = settings().frontDoor;
    return { maxHeld: f.maxHeldRequests, maxHoldMs: f.maxHoldSeconds * 1000 };
  };

  /** `queued`: the request is in the held queue already (see VerdictInput.queued). */
  const decide = (
    id: string,
    stoppedByHibernation: boolean,
    wakeIssued: boolean,
    heldSince: number | null,
    queued = heldSince !== null,
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
    // A stopped service while hibernation has work in flight may be about to start (a wake's start
    // runs after the stop it cancelled): hold; once nothing is in flight the verdict is asked again.
    const busy = e.status === 'stopped' && deps.hibernation()?.section().busy === true;
    return verdict({
      service: serviceView(e),
      stoppedByHibernation,
      wakeIssued: wakeIssued || busy,
      held: queued ? queue.length - 1 : queue.length,
      limits: limits(),
      now: Date.now(),
      heldSince,
      queued,
      draining: draining.has(id),
    });
  };

  const act = (
    id: string,
    req: IncomingMessage,
    res: ServerResponse,
    v: Verdict,
    h: Held | null,
    waking = false,
    resume?: (up: Upstream) => void,
    since = Date.now(),
  ): void => {
    if (v.type === 'forward') {
      if (h) unhold(h);
      return pass(id, req, res, resume);
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
    const item: Held = { id, req, res, since, timer: null, go: () => {} };
    // `waking`: hibernation had stopped it, and this request's activity asked for it back.
    item.go = () =>
      act(
        id,
        req,
        res,
        decide(id, stoppedByHibernation(id), waking, item.since),
        item,
        false,
        resume,
      );
    const queue = held.get(id) ?? [];
    queue.push(item);
    held.set(id, queue);
    const door = doors.get(id);
    if (door) door.heldTotal++;
    // A client that gives up while waiting leaves the queue at once.
    const left = () => {
      if (!res.writableFinished) unhold(item);
    };
    res.once('close', left);
    item.offClose = () => res.off('close', left);
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
    h.offClose?.();
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
    for (const id of [...draining]) watchDrain(id);
    for (const queue of [...held.values()]) for (const h of [...queue]) h.go();
  };

  /**
   * `resume`: a request that was refused once goes on where it stopped (the adapter's own
   * continuation, or plain pass-through) instead of starting over.
   */
  const pass = (
    id: string,
    req: IncomingMessage,
    res: ServerResponse,
    resume?: (up: Upstream) => void,
  ): void => {
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
    if (resume) return resume(upstream);
    const adapter = adapters[id];
    const plain = () => plainPass(id, req, res, upstream, door.agent);
    if (adapter) {
      const unreachable = (err: Error, again: (up: Upstream) => void) =>
        refused(id, req, res, err, again);
      Promise.resolve(
        adapter(req, res, { upstream, agent: door.agent, pass: plain, unreachable }),
      ).catch((err: unknown) => {
        log.warn(`${id} adapter failed`, { err });
        sendError(
          res,
          502,
          'bad_gateway',
          `Could not translate the request for ${nameOf(id)}: ${(err as Error).message}`,
        );
      });
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
      onRefused: (err) =>
        refused(id, req, res, err, (up) =>
          plainPass(id, req, res, up, doors.get(id)?.agent ?? agent),
        ),
      // A long answer (a stream) is use until its end.
      onDone: () => {
        if (isWork(req.method, req.url)) deps.hibernation()?.activity(`${id} request finished`);
      },
    });
  };

  /** When each request's upstream first refused it: the bound on holding it again. */
  const firstRefused = new WeakMap<IncomingMessage, number>();

  /**
   * The program refused or reset the connection before any byte of the answer was sent: it was
   * stopped (hibernation, a crash) or is restarting after the verdict said forward. The request is
   * asked about again like a new one and held under the same limits, counted from its first
   * refusal; `resume` sends it once the service is ready. A program said to be running and healthy
   * that still refuses is tried again every REFUSED_RETRY_MS (its status is about to change) until
   * the hold limit, then answered 502: that one is broken, not asleep.
   */
  const refused = (
    id: string,
    req: IncomingMessage,
    res: ServerResponse,
    err: Error,
    resume: (up: Upstream) => void,
  ): void => {
    if (res.headersSent || res.destroyed) return;
    const first = firstRefused.get(req) ?? Date.now();
    firstRefused.set(req, first);
    const why = (err as NodeJS.ErrnoException).code ?? err.message;
    const waking = stoppedByHibernation(id);
    watchDrain(id);
    // Not in the queue now: held again, it takes a place there like any request (maxHeldRequests).
    let v = decide(id, waking, false, first, false);
    if (v.type === 'forward') {
      const queued = held.get(id)?.length ?? 0;
      if (queued >= limits().maxHeld) {
        return act(
          id,
          req,
          res,
          {
            type: 'refuse',
            status: 503,
            code: 'service_unavailable',
            message: `${nameOf(id)} is not taking connections yet; ${queued} requests are already waiting for it. Retry in a few seconds.`,
            retryAfterSeconds: 5,
          },
          null,
        );
      }
      if (Date.now() - first >= limits().maxHoldMs) {
        log.warn(`${id}: refuses connections while it is said to be running (${why})`);
        return sendError(
          res,
          502,
          'bad_gateway',
          `The service behind this port did not answer: ${err.message}`,
        );
      }
      v = {
        type: 'hold',
        why: `${nameOf(id)} is not taking connections yet`,
        until: Date.now() + REFUSED_RETRY_MS,
      };
    }
    if (v.type === 'hold') {
      log.info(`${id}: the connection was refused before anything was sent (${why}); holding it`);
      deps.hibernation()?.activity(`${id} request held again`);
    }
    act(id, req, res, v, null, waking, resume, first);
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

  const gateway = (id: string | (() => string)): ((x: GatewayExchange) => void) => {
    return ({ req, res, client }) => {
      const target = typeof id === 'function' ? id() : id;
      if (!doors.has(target)) {
        sendError(
          res,
          503,
          'service_unavailable',
          `${nameOf(target)} is not served through this server's front door (see the dashboard).`,
        );
        return;
      }
      if (target === 'ollama' && !keyOk(req, settings())) {
        sendError(
          res,
          401,
          'unauthorized',
          'This server needs the API key: send Authorization: Bearer <key>.',
          { 'www-authenticate': 'Bearer' },
        );
        return;
      }
      admit(target, req, res, `${target} request from ${client} (gateway)`);
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
    // Services with a port that the front door does not stand in front of: say so, and why.
    if (s.frontDoor.enabled) {
      for (const e of services) {
        if (doors.has(e.id) || !e.enabled || e.port === null || takesAddress(e.id, s as Settings))
          continue;
        ports.push({
          id: e.id,
          name: e.name,
          port: e.port,
          listening: 'none',
          addresses: [],
          behind: behindOf(e),
          lan: s.serveOnLan,
          upstream: null,
          requestsLastMinute: 0,
          held: 0,
          heldTotal: 0,
          note: `${e.name}'s own command does not take {port}: it listens on port ${e.port} itself, so its requests are not seen here (no wake on use). Put {host} and {port} in services.${e.id}.args.`,
        });
      }
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
        if (held.size || draining.size) recheck();
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
      await Promise.all([...doors.values()].map((d) => close(d)));
      doors.clear();
      memory.flush();
    },
    placement(id) {
      const move = moving.get(id);
      if (move) return { ...move };
      const door = doors.get(id);
      return !door || door.mode === 'none' || !door.local
        ? null
        : { host: door.local.host, port: door.local.port };
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
    gateway: (target, x) => gateway(target === 'tts' ? gatewayTts : target)(x),
    heldCount: (id) =>
      id ? (held.get(id)?.length ?? 0) : [...held.values()].reduce((n, q) => n + q.length, 0),
    inFlight: () => inFlight,
    // Requests being answered, not those still held for a service (the stop refuses those at once).
    drain: async (ms) => {
      const end = Date.now() + ms;
      const answering = () => inFlight - [...held.values()].reduce((n, q) => n + q.length, 0);
      while (answering() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    },
    section,
  };
  return fd;
}

/** How soon a request refused by a program said to be up is tried again. */
const REFUSED_RETRY_MS = 100;

/** Our process up or on its way back. */
const UP = OURS_UP_STATUSES;

function doorKey(port: number, s: Readonly<Settings>): string {
  return `${port}|${s.serveOnLan ? 'lan' : 'loopback'}`;
}

function placementKey(p: Placement | null): string {
  return p ? `${p.host}:${p.port}` : 'public';
}

/** No keep-alive, and a connect that does not complete in `connectMs` fails like a refused one. */
class RelayAgent extends http.Agent {
  constructor(private readonly connectMs: number) {
    super({ keepAlive: false, maxSockets: 256 });
  }
  override createConnection(
    options: net.NetConnectOpts,
    cb?: (err: Error | null, s: net.Socket) => void,
  ): net.Socket {
    const sock = net.createConnection(options);
    const timer = setTimeout(() => {
      sock.destroy(
        Object.assign(new Error(`no connection within ${this.connectMs} ms`), {
          code: 'ETIMEDOUT',
        }),
      );
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
  if (PROCESS_STATUSES.has(e.status))
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
function freePort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
