// Pairing: Mac-primary / PC-fallback failover for a group of paired hosts (issue 7).
// - the handshake (handshake.ts, crypto.ts) over the control port's HTTP routes;
// - heartbeats (heartbeat.ts) over UDP on the control port number, every heartbeatIntervalMs;
// - the election (election.ts), whose result is `host.serving` (and so the mDNS TXT `serving`);
// - the snapshot's `peers` (paired peers + discovered unpaired hosts) and `pairing` sections.
// See README.md beside this file for the protocol, its security argument and the choices made.

import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { isIPv4 } from 'node:net';
import type { Capability, CoreContext, StopReason } from '../context.js';
import { SERVICE_PORT_TXT_KEYS, type PairingSection, type Role, type Snapshot } from '../contract.js';
import type { PairedPeer, Settings } from '../settings/schema.js';
import type { DeepReadonly } from '../settings/store.js';
import type { SeenHosts } from '../context.js';
import { CoreError } from '../errors.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import { b64, hmac, isCode, open, peerKeys, seal, tagsEqual } from './crypto.js';
import {
  advertOf,
  electionConfig,
  initialElection,
  nextDeadline,
  step,
  type Election,
  type ElectionConfig,
  type ElectionEvent,
  type SelfStatus,
  type ServeKind,
} from './election.js';
import { initiatorFinish, Responder, type HostCard } from './handshake.js';
import { decodeHeartbeat, encodeHeartbeat, nextBootEpoch, ReplayGuard, type Heartbeat } from './heartbeat.js';
import { composePeers, type PeerCard } from './peer-list.js';
import { cannotServe } from './can-serve.js';
import { advertisedPort, forwardTarget } from './forwarding.js';
import { openDatagrams, unmap, type Datagrams } from './transport.js';
import { connectRefused } from './probe.js';
import { postJson as defaultPostJson, type PostJson } from './client.js';

export type { PairingSection } from '../contract.js';

export interface PairingOptions {
  /** The API's bound address and port (the heartbeat socket uses the same address and port number). */
  address: () => AddressInfo | null;
  discovery?: SeenHosts | null;
  /** Monotonic milliseconds for liveness (wall-clock jumps must not kill peers). */
  monotonic?: () => number;
  postJson?: PostJson;
}

/** A pairing request shown on this host (local views only: it holds the code). */
export interface IncomingRequest {
  code: string;
  fromId: string;
  fromName: string;
  address: string;
  expiresAt: string;
  attemptsLeft: number;
}

export interface PairingStatus extends PairingSection {
  /** The code to show, when another host asked to pair with this one. Local views only. */
  incoming: IncomingRequest | null;
  /** Every pending request (one per requester address, at most 4), oldest first, with its code. */
  incomingAll: IncomingRequest[];
  peers: (Omit<PairedPeer, 'key'> & { alive: boolean })[];
}

export interface PairingControl {
  status(): PairingStatus;
  /** Ask another host to pair: by its discovery id, or by address and port. It then shows a code. */
  pair(target: { id?: string; address?: string; port?: number }): Promise<{ peerId: string; peerName: string; expiresInSeconds: number }>;
  /** The code the other host shows. Throws a clear error for a wrong code (with attempts left). */
  confirm(code: string): Promise<{ peerId: string; peerName: string; pairId: string }>;
  cancel(): void;
  /** Without id: leave the pair. With a peer id: remove that host from the pair. Works when the others are unreachable. */
  unpair(id?: string): Promise<{ removed: string[]; unreachable: string[] }>;
  stopServing(): void;
  resumeServing(): void;
  /** Announce a handoff now (the shell calls this on OS suspend, before anything else). */
  handoff(reason: string): Promise<void>;
  /** Back from OS sleep: listen again and rejoin the election. */
  rejoin(): void;
  onRequest(listener: (r: IncomingRequest) => void): Unsubscribe;
  /**
   * The front door asks where a request for `service` goes (issue 14): the paired host that
   * serves, or null = here. `forwarded`: the request already came from a host of the pair. `port`:
   * the port that host advertises for the service (mDNS TXT), null when unknown.
   */
  forwardTo(forwarded: boolean, service?: string): { peerId: string; host: string; port: number | null } | null;
  /**
   * A connection to that host failed: serve here for a moment, without waiting for the election.
   * `refused`: its machine refused the connection (nothing listens: its app is gone).
   */
  forwardFailed(peerId: string, why: string, refused: boolean): void;
  /** The peer-facing HTTP handlers (routes/pairing.ts). */
  readonly peerApi: PeerApi;
}

export interface PeerApi {
  request(body: unknown, client: string): Promise<unknown>;
  finish(body: unknown, client: string): Promise<unknown>;
  nonce(body: unknown, client: string): unknown;
  rpc(body: unknown, client: string): Promise<unknown>;
}

export type Pairing = Capability & PairingControl;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NONCE_TTL_MS = 30_000;
const MAX_NONCES = 64;
const RPC_TIMEOUT_MS = 3_000;

interface Outgoing {
  card: HostCard;
  address: string;
  port: number;
  sid: Buffer;
  share: Buffer;
  expiresAt: number;
}

/** A peer entry as introductions carry it (key included: only ever inside an AEAD box). */
type PeerEntry = Omit<PairedPeer, 'pairedAt'>;

export function createPairing(ctx: CoreContext, opts: PairingOptions): Pairing {
  const log = ctx.logger.child('pairing');
  const mono = opts.monotonic ?? (() => performance.now());
  const post = opts.postJson ?? defaultPostJson;
  const myBoot = randomBytes(8).toString('hex');
  const { epoch: myEpoch, error: epochError } = nextBootEpoch(ctx.dataDir, ctx.clock.now());
  if (epochError) log.warn('could not save the heartbeat epoch; the clock orders this run', { err: epochError });
  const replay = new ReplayGuard(myBoot);
  const requests = new Emitter<{ request: IncomingRequest }>();
  const responder = new Responder(() => ({ id: me() }), () => ctx.clock.now());
  const counters: PairingSection['heartbeats'] = { sent: 0, received: 0, accepted: 0, malformed: 0, unauthenticated: 0, replayed: 0, unconfirmed: 0 };
  let rejectedRequests = 0;
  let lastError: string | null = null;
  let outgoing: Outgoing | null = null;
  let socket: Datagrams | null = null;
  let running = false;
  let seq = 0;
  let hbTimer: NodeJS.Timeout | null = null;
  let deadlineTimer: NodeJS.Timeout | null = null;
  let publishQueued = false;
  const offs: Unsubscribe[] = [];
  /** The boot id each peer last told us (echoed back so it can tell our heartbeats are fresh). */
  const peerBoot = new Map<string, string>();
  const cards: Record<string, PeerCard> = {};
  const nonces = new Map<string, { from: string; expires: number }>();
  const lastReply = new Map<string, number>();
  const keyCache = new Map<string, { key: string; heartbeat: Buffer; rpc: Buffer }>();
  /** Peers a forwarded request could not reach, until when (monotonic). */
  const unreachable = new Map<string, number>();

  // view(), not get(): heartbeats, ticks and publishes read these many times a second, and get() deep-copies
  // all the settings each time. `peersView` is frozen: only for code that reads (`paired()` is a copy).
  const me = () => ctx.settings.view().hostId;
  const cfg = (): ElectionConfig => electionConfig(ctx.settings.view().pairing);
  const paired = (): PairedPeer[] => ctx.settings.get().pairing.peers;
  const peersView = () => ctx.settings.view().pairing.peers;

  function keysOf(p: Pick<PairedPeer, 'id' | 'key'>): { heartbeat: Buffer; rpc: Buffer } {
    const c = keyCache.get(p.id);
    if (c && c.key === p.key) return c;
    const k = { key: p.key, ...peerKeys(Buffer.from(p.key, 'base64')) };
    keyCache.set(p.id, k);
    return k;
  }

  // ── This host's status, as the election sees it ────────────────────────────────────────────

  // Real activity (a lesson), not our own promotion wake: hibernation's lastActivityAt moves for
  // both, so a change within a moment of our wake is not counted.
  let seenActivityIso: string | undefined = ctx.store.get('hibernation').lastActivityAt;
  /** Last real activity, on the monotonic clock (converted once, so it does not jitter). */
  let activityMono: number | null = null;
  let ownWakeAt: number | null = null;
  const noteActivityAt = (wall: number) => {
    const at = mono() - Math.max(0, ctx.clock.now() - wall);
    activityMono = activityMono === null ? at : Math.max(activityMono, at);
  };

  function noteActivity(s: Snapshot): void {
    const iso = s.hibernation.lastActivityAt;
    if (!iso || iso === seenActivityIso) return;
    seenActivityIso = iso;
    const t = Date.parse(iso);
    if (!Number.isFinite(t)) return;
    if (ownWakeAt !== null && t >= ownWakeAt - 50 && t <= ownWakeAt + 1_500) return;
    noteActivityAt(t);
  }

  function selfStatus(s: Snapshot = ctx.store.snapshot()): SelfStatus {
    return {
      prio: s.host.prio,
      ready: ctx.isReady(s),
      failed: s.services.some((svc) => svc.enabled && svc.status === 'failed'),
      state: s.hibernation.state,
      activityAt: activityMono,
    };
  }

  const sameStatus = (a: SelfStatus, b: SelfStatus) =>
    a.prio === b.prio && a.ready === b.ready && a.failed === b.failed && a.state === b.state && a.activityAt === b.activityAt;

  /** `host.cannotServe`: the reason, or absent. TXT `serving` and the views read it. */
  function writeCannotServe(s: Snapshot): void {
    const why = cannotServe(s);
    if ((s.host.cannotServe ?? null) === why) return;
    ctx.store.update('host', (h) => {
      const { cannotServe: _old, ...rest } = h;
      return why === null ? rest : { ...rest, cannotServe: why };
    });
  }

  // ── The election ───────────────────────────────────────────────────────────────────────────

  let election: Election = initialElection(me(), selfStatus(), paired().map((p) => p.id), mono(), cfg());
  ctx.store.update('host', (h) => ({ ...h, serving: election.serving }));

  function dispatch(ev: ElectionEvent): void {
    const [next, fx] = step(election, ev, cfg());
    election = next;
    for (const f of fx) {
      if (f.type === 'serve') applyServing(f.serving, f.kind, f.reason);
      else if (f.type === 'announce' && running) sendAll();
    }
    schedule();
    publish();
  }

  function applyServing(serving: boolean, kind: ServeKind, reason: string): void {
    ctx.store.update('host', (h) => ({ ...h, serving }));
    log.info(serving ? 'now serving' : 'no longer serving', { kind, reason });
    if (serving && kind !== 'unpaired' && ctx.commands.has('wake')) {
      // Wake at once (hibernation → active, models preloaded). `serving=1` is announced now, with
      // ready=false in /health until the services are up: the phone learns where to go without delay.
      ownWakeAt = ctx.clock.now();
      void Promise.resolve(ctx.commands.execute({ type: 'wake', source: `pairing: ${kind}` })).catch((err: unknown) =>
        log.warn('wake after promotion failed', { err }),
      );
    }
    if (ctx.settings.get().notifications.failover && (kind === 'promotion' || kind === 'failback' || kind === 'handoff' || kind === 'yield')) {
      const name = ctx.store.get('host').name;
      ctx.store.notify({
        level: 'info',
        code: serving ? 'pairing_serving' : 'pairing_not_serving',
        message: serving ? `${name} now serves the iPhone (${describe(reason)}).` : `${name} no longer serves the iPhone (${describe(reason)}).`,
      });
    }
  }

  /** Ids in reasons → names, for people. */
  function describe(reason: string): string {
    let out = reason;
    for (const p of peersView()) out = out.split(p.id).join(cards[p.id]?.name ?? p.name);
    return out;
  }

  function schedule(): void {
    if (deadlineTimer) clearTimeout(deadlineTimer);
    deadlineTimer = null;
    if (!running) return;
    const now = mono();
    const at = nextDeadline(election, now, cfg());
    if (at === null) return;
    deadlineTimer = setTimeout(() => dispatch({ type: 'tick', now: mono() }), Math.max(1, Math.ceil(at - now) + 1));
    deadlineTimer.unref();
  }

  // ── Heartbeats ─────────────────────────────────────────────────────────────────────────────

  function myCard(): HostCard {
    const s = ctx.settings.view();
    const h = ctx.store.get('host');
    return { id: s.hostId, name: h.name, role: s.role, prio: h.prio, port: opts.address()?.port ?? s.api.port, pairId: s.pairing.pairId };
  }

  function sendAll(only?: { peer: string; address: string; port: number }): void {
    if (!socket) return;
    const card = myCard();
    const now = mono();
    const advert = advertOf(election, now);
    const c = cfg();
    for (const p of peersView()) {
      if (only && only.peer !== p.id) continue;
      const hb: Heartbeat = {
        v: 1,
        from: card.id,
        to: p.id,
        boot: myBoot,
        epoch: myEpoch,
        seq: ++seq,
        ts: ctx.clock.now(),
        echo: peerBoot.get(p.id) ?? null,
        name: card.name,
        role: card.role,
        port: card.port,
        pairId: card.pairId,
        advert,
      };
      const t = election.peers[p.id];
      const alive = t ? t.lastSeen !== null && now - t.lastSeen < c.deadAfterMs : false;
      // Known address first; while the peer is silent, also try the others we know of (DHCP moves).
      const buf = encodeHeartbeat(hb, keysOf(p).heartbeat);
      if (only) {
        socket.send(buf, only.port, only.address);
        counters.sent++;
        continue;
      }
      const targets = alive ? p.addresses.slice(0, 1) : candidateAddresses(p);
      for (const addr of targets) {
        socket.send(buf, p.port, addr);
        counters.sent++;
      }
    }
  }

  function candidateAddresses(p: DeepReadonly<PairedPeer>): string[] {
    const found = opts.discovery?.list().find((d) => d.id === p.id);
    const all = [...p.addresses, ...(found ? [found.via.address, ...found.addresses] : [])].map(unmap).filter((a) => isIPv4(a));
    return [...new Set(all)].slice(0, 4);
  }

  function onDatagram(buf: Buffer, from: { address: string; port: number }): void {
    counters.received++;
    const peers = peersView();
    const d = decodeHeartbeat(
      buf,
      (id) => {
        const p = peers.find((x) => x.id === id);
        return p ? keysOf(p).heartbeat : null;
      },
      me(),
    );
    if (!d.ok) {
      counters[d.reason]++;
      log.debug('heartbeat dropped', { reason: d.reason, detail: d.detail, from: from.address });
      schedulePublish();
      return;
    }
    const hb = d.hb;
    const verdict = replay.check(hb);
    if (verdict === 'replayed') {
      counters.replayed++;
      log.debug('replayed heartbeat dropped', { from: from.address, peer: hb.from });
      schedulePublish();
      return;
    }
    peerBoot.set(hb.from, hb.boot);
    if (verdict === 'unconfirmed') {
      counters.unconfirmed++;
      // The peer has not heard us since we started: answer now so it can echo our boot. Answer
      // where the datagram came from (its socket is its control port), not where we think it is:
      // a peer that restarted on another address or port is found again this way.
      const last = lastReply.get(hb.from) ?? -Infinity;
      if (mono() - last > 200) {
        lastReply.set(hb.from, mono());
        sendAll({ peer: hb.from, address: from.address, port: from.port });
      }
      schedulePublish();
      return;
    }
    counters.accepted++;
    cards[hb.from] = { name: hb.name, role: hb.role };
    learnAddress(hb, from.address);
    dispatch({ type: 'heartbeat', now: mono(), from: hb.from, advert: hb.advert });
    watchServing(hb.from, hb.advert.serving);
  }

  // ── A crashed serving peer, found before its heartbeats run out ─────────────────────────────
  //
  // When the serving peer's heartbeat is a quarter interval late, connect to its control port (TCP):
  // a refusal means its machine is up but nothing listens there any more (the app crashed or was
  // killed), so it is gone now, not after 3 intervals. A timeout proves nothing (a Wi-Fi stall looks
  // the same as a power cut): the heartbeats decide then, as before.

  const lateTimers = new Map<string, NodeJS.Timeout>();

  function watchServing(peerId: string, serving: boolean): void {
    const old = lateTimers.get(peerId);
    if (old) clearTimeout(old);
    lateTimers.delete(peerId);
    if (!serving || !running) return;
    const t = setTimeout(() => {
      lateTimers.delete(peerId);
      void probeGone(peerId);
    }, Math.round(cfg().intervalMs * 1.25));
    t.unref();
    lateTimers.set(peerId, t);
  }

  async function probeGone(peerId: string): Promise<void> {
    const p = peersView().find((x) => x.id === peerId);
    const address = p?.addresses.map(unmap).find((a) => isIPv4(a));
    if (!p || !address || !running) return;
    const refused = await connectRefused(address, p.port, Math.min(500, cfg().intervalMs));
    if (refused && running) peerGone(peerId, `connection to ${address}:${p.port} refused`);
    else if (running && election.peers[peerId]?.advert?.serving) watchServing(peerId, true); // still late: look again
  }

  function peerGone(peerId: string, why: string): void {
    const t = election.peers[peerId];
    if (!t || t.lastSeen === null || mono() - t.lastSeen >= cfg().deadAfterMs) return;
    log.info('a paired host is gone (its port refuses connections)', { peer: peerId, why });
    dispatch({ type: 'gone', now: mono(), from: peerId });
  }

  /** An authenticated heartbeat from a new address or port: the peer moved (DHCP); remember it. */
  function learnAddress(hb: Heartbeat, address: string): void {
    const p = peersView().find((x) => x.id === hb.from);
    if (!p) return;
    if (p.addresses[0] === address && p.port === hb.port && p.name === hb.name && p.role === hb.role && p.prio === hb.advert.prio) return;
    const s = ctx.settings.get();
    const next: PairedPeer = {
      ...p,
      name: hb.name.slice(0, 255),
      role: hb.role,
      prio: hb.advert.prio,
      port: hb.port,
      addresses: [address, ...p.addresses.filter((a) => a !== address)].slice(0, 16),
    };
    savePeers(s.pairing.peers.map((x) => (x.id === p.id ? next : x)), s.pairing.pairId);
  }

  // ── Snapshot sections ─────────────────────────────────────────────────────────────────────

  function section(): PairingSection {
    const inc = responder.pending();
    const now = ctx.clock.now();
    let pending: PairingSection['pending'] = null;
    if (inc) {
      pending = {
        direction: 'incoming',
        peerId: inc.from.id,
        peerName: inc.from.name,
        address: inc.address,
        expiresInSeconds: Math.max(0, Math.ceil((inc.expiresAt - now) / 1000)),
        attemptsLeft: responder.maxFailures - inc.failures,
      };
    } else if (outgoing && outgoing.expiresAt > now) {
      pending = {
        direction: 'outgoing',
        peerId: outgoing.card.id,
        peerName: outgoing.card.name,
        address: outgoing.address,
        expiresInSeconds: Math.ceil((outgoing.expiresAt - now) / 1000),
        attemptsLeft: responder.maxFailures,
      };
    }
    return {
      pairId: ctx.settings.view().pairing.pairId,
      pending,
      lockedForSeconds: Math.ceil(responder.lockedFor() / 1000),
      requests: responder.all().map((i) => ({
        peerId: i.from.id,
        peerName: i.from.name,
        address: i.address,
        expiresInSeconds: Math.max(0, Math.ceil((i.expiresAt - now) / 1000)),
        attemptsLeft: responder.attemptsLeft(i.address),
      })),
      lockedOut: responder.lockedOut().map((l) => ({ address: l.address, forSeconds: Math.ceil(l.forMs / 1000) })),
      servingId: election.servingId,
      reason: describe(election.reason),
      standby: election.standby,
      claim: election.claim,
      heartbeats: { ...counters },
      rejectedRequests,
      lastError,
    };
  }

  function publish(): void {
    ctx.store.set('pairing', section());
    ctx.store.set(
      'peers',
      composePeers({
        paired: peersView(),
        tracks: election.peers,
        cards,
        discovered: opts.discovery?.list() ?? [],
        selfId: me(),
        mono: mono(),
        wall: ctx.clock.now(),
        cfg: cfg(),
      }),
    );
  }

  function schedulePublish(): void {
    if (publishQueued) return;
    publishQueued = true;
    queueMicrotask(() => {
      publishQueued = false;
      publish();
    });
  }

  function fail(message: string): never {
    lastError = message;
    schedulePublish();
    throw new CoreError('bad_request', message);
  }

  // ── Settings: the pair's members and keys ─────────────────────────────────────────────────

  function savePeers(peers: PairedPeer[], pairId: string | null): void {
    const s = ctx.settings.get();
    const next: Settings = { ...s, pairing: { ...s.pairing, peers, pairId: peers.length ? pairId : null } };
    const r = ctx.settings.replace(next);
    if (!r.ok) throw new CoreError('internal', `Could not save the pair: ${r.problem.field} ${r.problem.message}`);
  }

  function upsertPeers(entries: PeerEntry[], pairId: string | null): void {
    const s = ctx.settings.get();
    const at = new Date(ctx.clock.now()).toISOString();
    const byId = new Map(s.pairing.peers.map((p) => [p.id, p]));
    for (const e of entries) {
      if (e.id === s.hostId) continue;
      byId.set(e.id, { ...e, pairedAt: at });
      replay.forget(e.id);
      peerBoot.delete(e.id);
    }
    savePeers([...byId.values()], pairId ?? s.pairing.pairId);
  }

  function removePeers(ids: string[]): void {
    const s = ctx.settings.get();
    for (const id of ids) {
      replay.forget(id);
      peerBoot.delete(id);
      delete cards[id];
    }
    savePeers(
      s.pairing.peers.filter((p) => !ids.includes(p.id)),
      s.pairing.pairId,
    );
  }

  // ── Authenticated operations between paired hosts (HTTP, nonce + AEAD) ──────────────────

  async function rpc(p: PairedPeer, op: string, data: unknown): Promise<void> {
    let lastErr: unknown = null;
    for (const addr of candidateAddresses(p)) {
      try {
        const { nonce } = (await post(addr, p.port, '/api/pairing/peer/nonce', { from: me() }, RPC_TIMEOUT_MS)) as { nonce: string };
        if (typeof nonce !== 'string') throw new Error('no nonce in the answer');
        const box = seal(keysOf(p).rpc, { op, data }, `${me()}|${p.id}|${nonce}`);
        await post(addr, p.port, '/api/pairing/peer', { from: me(), nonce, box }, RPC_TIMEOUT_MS);
        return;
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr ?? new Error('no address known');
  }

  function introductions(exclude: string): { entries: PeerEntry[] } {
    // The newcomer gets a fresh key with each existing member; this host tells the members.
    return {
      entries: paired()
        .filter((p) => p.id !== exclude)
        .map((p) => ({ id: p.id, name: p.name, role: p.role, prio: p.prio, addresses: p.addresses, port: p.port, key: randomBytes(32).toString('base64') })),
    };
  }

  async function announceNewcomer(newcomer: PeerEntry, intros: PeerEntry[]): Promise<void> {
    const pairId = ctx.settings.get().pairing.pairId;
    await Promise.all(
      intros.map(async (member) => {
        const p = paired().find((x) => x.id === member.id);
        if (!p) return;
        try {
          await rpc(p, 'introduce', { pairId, peer: { ...newcomer, key: member.key } });
        } catch (err) {
          log.warn('could not introduce the new member to a peer', { peer: p.name, err: (err as Error).message });
          ctx.store.notify({
            level: 'warning',
            code: 'pairing_introduce',
            message: `${p.name} could not be told about ${newcomer.name} (${(err as Error).message}). Pair ${newcomer.name} with ${p.name} directly if they do not see each other.`,
          });
        }
      }),
    );
  }

  // ── Validation of what other hosts send ────────────────────────────────────────────────────

  function parseCard(v: unknown): HostCard {
    const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
    if (typeof o.id !== 'string' || !UUID.test(o.id)) throw new CoreError('bad_request', 'card.id must be a host id (UUID)', 'card.id');
    if (typeof o.name !== 'string' || o.name.length < 1 || o.name.length > 255) throw new CoreError('bad_request', 'card.name must be 1-255 characters', 'card.name');
    if (o.role !== 'primary' && o.role !== 'fallback') throw new CoreError('bad_request', 'card.role must be primary or fallback', 'card.role');
    if (!Number.isInteger(o.prio) || (o.prio as number) < 0 || (o.prio as number) > 255) throw new CoreError('bad_request', 'card.prio must be 0-255', 'card.prio');
    if (!Number.isInteger(o.port) || (o.port as number) < 1 || (o.port as number) > 65535) throw new CoreError('bad_request', 'card.port must be a port', 'card.port');
    if (o.pairId !== null && (typeof o.pairId !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(o.pairId))) throw new CoreError('bad_request', 'card.pairId is invalid', 'card.pairId');
    return { id: o.id.toLowerCase(), name: o.name, role: o.role as Role, prio: o.prio as number, port: o.port as number, pairId: o.pairId as string | null };
  }

  function parseEntries(v: unknown): PeerEntry[] {
    if (!Array.isArray(v) || v.length > 16) throw new Error('introductions malformed');
    return v.map((x) => {
      const card = parseCard({ ...(typeof x === 'object' && x !== null ? x : {}), pairId: null });
      const o = x as Record<string, unknown>;
      if (!b64(o.key, 32)) throw new Error('introduction key malformed');
      const addresses = Array.isArray(o.addresses) ? o.addresses.filter((a): a is string => typeof a === 'string' && a.length <= 64).slice(0, 16) : [];
      return { id: card.id, name: card.name, role: card.role, prio: card.prio, port: card.port, addresses, key: o.key as string };
    });
  }

  function conflictOfPairs(mine: string | null, theirs: string | null): string | null {
    if (mine && theirs && mine !== theirs) {
      return 'Both hosts already belong to different pairs. Unpair one of them first, then pair it with the other pair.';
    }
    return null;
  }

  const newPairId = () => randomBytes(4).toString('hex');

  // ── Peer-facing API ────────────────────────────────────────────────────────────────────────

  const peerApi: PeerApi = {
    async request(body, client) {
      const o = (body ?? {}) as Record<string, unknown>;
      if (o.v !== 1) throw new CoreError('bad_request', 'Unsupported pairing version (this host speaks v1).', 'v');
      const card = parseCard(o.card);
      if (card.id === me()) throw new CoreError('conflict', 'A host cannot pair with itself.');
      const clash = conflictOfPairs(ctx.settings.get().pairing.pairId, card.pairId);
      if (clash) throw new CoreError('conflict', clash);
      const address = unmap(client);
      const r = responder.request(card, address);
      if (!r.ok) {
        if (r.reason === 'locked') throw new CoreError('forbidden', r.message);
        throw new CoreError('conflict', r.message);
      }
      const inc = r.incoming;
      const request: IncomingRequest = {
        code: inc.code,
        fromId: card.id,
        fromName: card.name,
        address,
        expiresAt: new Date(inc.expiresAt).toISOString(),
        attemptsLeft: responder.maxFailures,
      };
      log.info('pairing requested', { from: card.name, address });
      if (ctx.settings.get().notifications.pairing) {
        // The code itself stays off the open snapshot: the dashboard and the tray read it locally.
        ctx.store.notify({
          level: 'info',
          code: 'pairing_request',
          message: `${card.name} (${address}) asks to pair with this computer. Open the dashboard's Pairing section (or the tray) to see the 6-digit code and type it on ${card.name}. It is valid for 2 minutes.`,
        });
      }
      ctx.events.broadcast('pairing', { incoming: request });
      requests.emit('request', request);
      schedulePublish();
      return { v: 1, sid: inc.sid.toString('base64'), share: inc.share.share.toString('base64'), card: myCard(), expiresInSeconds: Math.round(responder.ttlMs / 1000) };
    },

    async finish(body, client) {
      const o = (body ?? {}) as Record<string, unknown>;
      const share = b64(o.share, 32);
      const mac = b64(o.mac, 32);
      if (typeof o.sid !== 'string' || typeof o.id !== 'string' || !share || !mac) throw new CoreError('bad_request', 'sid, id, share and mac are required');
      // Bound to the requester: only the request made from this address, with its sid, is looked at.
      const r = responder.finish(o.sid, o.id.toLowerCase(), share, mac, unmap(client));
      schedulePublish();
      if (!r.ok) {
        if (r.locked) {
          ctx.store.notify({
            level: 'warning',
            code: 'pairing_locked',
            message: `Pairing from ${unmap(client)} is locked for 10 minutes after ${responder.maxFailures} wrong codes. If that was not you, someone on the network tried to pair with this computer; other computers can still pair. Cancel in the dashboard to unlock.`,
          });
          throw new CoreError('forbidden', r.message);
        }
        if (r.reason === 'none') throw new CoreError('not_found', r.message);
        throw new CoreError('unauthorized', r.message);
      }
      const inc = r.incoming;
      const aad = `${inc.sid.toString('base64')}|${inc.from.id}|${me()}`;
      let theirs: { card: HostCard; introductions: PeerEntry[] };
      try {
        const boxed = open(r.keys.boxInitiator, o.box, aad) as Record<string, unknown>;
        theirs = { card: parseCard(boxed.card), introductions: parseEntries(boxed.introductions ?? []) };
      } catch (err) {
        throw new CoreError('bad_request', `The pairing payload could not be opened (${(err as Error).message}).`);
      }
      const mine = ctx.settings.get().pairing;
      const clash = conflictOfPairs(mine.pairId, theirs.card.pairId);
      if (clash) throw new CoreError('conflict', clash);
      const pairId = mine.pairId ?? theirs.card.pairId ?? newPairId();
      const newcomer: PeerEntry = {
        id: inc.from.id,
        name: theirs.card.name,
        role: theirs.card.role,
        prio: theirs.card.prio,
        port: theirs.card.port,
        addresses: [inc.address],
        key: r.keys.pairKey.toString('base64'),
      };
      // Only the side that already has members introduces (the other side is the newcomer).
      const intros = theirs.card.pairId === null && mine.peers.some((p) => p.id !== newcomer.id) ? introductions(newcomer.id).entries : [];
      upsertPeers([newcomer, ...theirs.introductions], pairId);
      lastError = null;
      ctx.store.notify({ level: 'info', code: 'pairing_done', message: `Paired with ${newcomer.name}.` });
      log.info('paired', { with: newcomer.name, pairId, introduced: theirs.introductions.length + intros.length });
      dispatch({ type: 'peers', now: mono(), ids: paired().map((p) => p.id) });
      sendAll();
      void announceNewcomer(newcomer, intros);
      return {
        mac: hmac(r.keys.confirmResponder, r.transcript).toString('base64'),
        box: seal(r.keys.boxResponder, { pairId, card: myCard(), introductions: intros }, aad),
      };
    },

    nonce(body) {
      const o = (body ?? {}) as Record<string, unknown>;
      if (typeof o.from !== 'string' || !paired().some((p) => p.id === o.from)) {
        rejectedRequests++;
        schedulePublish();
        throw new CoreError('unauthorized', 'Not a paired host.');
      }
      const now = ctx.clock.now();
      for (const [n, v] of nonces) if (v.expires <= now) nonces.delete(n);
      while (nonces.size >= MAX_NONCES) nonces.delete(nonces.keys().next().value!);
      const nonce = randomBytes(16).toString('base64');
      nonces.set(nonce, { from: o.from, expires: now + NONCE_TTL_MS });
      return { nonce };
    },

    async rpc(body) {
      const o = (body ?? {}) as Record<string, unknown>;
      const reject = (why: string): never => {
        rejectedRequests++;
        log.debug('peer request refused', { why });
        schedulePublish();
        throw new CoreError('unauthorized', 'Peer request refused.');
      };
      if (typeof o.from !== 'string' || typeof o.nonce !== 'string') return reject('malformed');
      const p = paired().find((x) => x.id === o.from);
      if (!p) return reject('not paired');
      const n = nonces.get(o.nonce);
      nonces.delete(o.nonce);
      if (!n || n.from !== p.id || n.expires <= ctx.clock.now()) return reject('unknown or stale nonce');
      let msg: { op?: unknown; data?: unknown };
      try {
        msg = open(keysOf(p).rpc, o.box, `${p.id}|${me()}|${o.nonce}`) as typeof msg;
      } catch {
        return reject('bad box');
      }
      const data = (msg.data ?? {}) as Record<string, unknown>;
      switch (msg.op) {
        case 'introduce': {
          const pairId = typeof data.pairId === 'string' ? data.pairId : null;
          const mine = ctx.settings.get().pairing.pairId;
          if (!pairId || (mine && mine !== pairId)) throw new CoreError('conflict', 'Introduced to another pair.');
          const [entry] = parseEntries([data.peer]);
          upsertPeers([entry!], pairId);
          log.info('a new member joined the pair', { name: entry!.name, via: p.name });
          ctx.store.notify({ level: 'info', code: 'pairing_member', message: `${entry!.name} joined the pair (introduced by ${p.name}).` });
          break;
        }
        case 'leave':
          removePeers([p.id]);
          log.info('a peer left the pair', { name: p.name });
          ctx.store.notify({ level: 'info', code: 'pairing_left', message: `${p.name} left the pair.` });
          break;
        case 'remove': {
          const id = typeof data.id === 'string' ? data.id : '';
          if (id === me()) {
            removePeers(paired().map((x) => x.id));
            ctx.store.notify({ level: 'info', code: 'pairing_removed', message: `${p.name} removed this computer from the pair.` });
          } else if (paired().some((x) => x.id === id)) {
            const gone = paired().find((x) => x.id === id)!;
            removePeers([id]);
            ctx.store.notify({ level: 'info', code: 'pairing_left', message: `${p.name} removed ${gone.name} from the pair.` });
          }
          break;
        }
        default:
          throw new CoreError('bad_request', 'Unknown operation.');
      }
      return { ok: true };
    },
  };

  // ── The capability ─────────────────────────────────────────────────────────────────────────

  /**
   * Nothing paired, no pairing under way, nobody discovered: a tick would send nothing and change
   * nothing (the election's own deadlines have their timer, see schedule()), so it is skipped.
   */
  const quiet = () =>
    peersView().length === 0 && !outgoing && !responder.pending() && responder.lockedFor() === 0 && !opts.discovery?.list().length;

  function startHeartbeats(): void {
    if (hbTimer) clearInterval(hbTimer);
    hbTimer = setInterval(() => {
      if (quiet()) return;
      sendAll();
      dispatch({ type: 'tick', now: mono() });
    }, cfg().intervalMs);
    hbTimer.unref();
  }

  const pairing: Pairing = {
    name: 'pairing',

    async start() {
      if (running) return;
      running = true;
      seenActivityIso = ctx.store.get('hibernation').lastActivityAt;
      const addr = opts.address();
      if (addr) {
        try {
          socket = await openDatagrams(
            { address: addr.address, port: addr.port },
            onDatagram,
            (err) => log.debug('heartbeat socket error', { err: err.message }),
          );
        } catch (err) {
          lastError = `Heartbeats cannot use UDP port ${addr.port} (${(err as Error).message}). Paired hosts will not see this one; free the port or change api.port.`;
          log.error(lastError);
          ctx.store.notify({ level: 'error', code: 'pairing_udp', message: lastError });
        }
      }
      offs.push(
        ctx.store.onChange((s) => {
          noteActivity(s);
          writeCannotServe(s);
          const st = selfStatus(s);
          if (!sameStatus(st, election.self)) dispatch({ type: 'self', now: mono(), status: st });
        }),
        ctx.commands.onExecute((cmd) => {
          if (cmd.type === 'activity' || (cmd.type === 'wake' && !cmd.source.startsWith('pairing'))) {
            noteActivityAt(ctx.clock.now());
            const st = selfStatus();
            if (!sameStatus(st, election.self)) dispatch({ type: 'self', now: mono(), status: st });
          }
        }),
        ctx.settings.onChange(({ next, prev }) => {
          const ids = next.pairing.peers.map((p) => p.id).join(',');
          if (ids !== prev.pairing.peers.map((p) => p.id).join(',')) dispatch({ type: 'peers', now: mono(), ids: next.pairing.peers.map((p) => p.id) });
          if (next.pairing.heartbeatIntervalMs !== prev.pairing.heartbeatIntervalMs) startHeartbeats();
          schedulePublish();
        }),
      );
      if (opts.discovery) offs.push(opts.discovery.onChange(() => schedulePublish()));
      // Restart the listening window now that we can hear (construction may be long before start).
      election = initialElection(me(), selfStatus(), paired().map((p) => p.id), mono(), cfg());
      ctx.store.update('host', (h) => ({ ...h, serving: election.serving }));
      startHeartbeats();
      sendAll();
      schedule();
      publish();
    },

    async stop(reason?: StopReason) {
      if (!running) return;
      // Hand off before anything else stops: the next host promotes on this heartbeat.
      await pairing.handoff(reason ?? 'quit');
      running = false;
      for (const off of offs.splice(0)) off();
      if (hbTimer) clearInterval(hbTimer);
      if (deadlineTimer) clearTimeout(deadlineTimer);
      hbTimer = deadlineTimer = null;
      for (const t of lateTimers.values()) clearTimeout(t);
      lateTimers.clear();
      await socket?.close();
      socket = null;
    },

    async handoff(reason) {
      if (election.leaving) return;
      dispatch({ type: 'leave', now: mono(), reason });
      // Datagrams can be lost: say it three times, a few ms apart (fresh sequence numbers each).
      sendAll();
      for (const ms of [20, 60]) {
        await new Promise((r) => setTimeout(r, ms));
        sendAll();
      }
    },

    rejoin() {
      dispatch({ type: 'rejoin', now: mono() });
      sendAll();
    },

    status() {
      const inc = responder.pending();
      const now = mono();
      const c = cfg();
      return {
        ...section(),
        incoming: inc
          ? {
              code: inc.code,
              fromId: inc.from.id,
              fromName: inc.from.name,
              address: inc.address,
              expiresAt: new Date(inc.expiresAt).toISOString(),
              attemptsLeft: responder.maxFailures - inc.failures,
            }
          : null,
        incomingAll: responder.all().map((i) => ({
          code: i.code,
          fromId: i.from.id,
          fromName: i.from.name,
          address: i.address,
          expiresAt: new Date(i.expiresAt).toISOString(),
          attemptsLeft: responder.attemptsLeft(i.address),
        })),
        peers: paired().map(({ key: _key, ...p }) => {
          const t = election.peers[p.id];
          return { ...p, alive: !!t && t.lastSeen !== null && now - t.lastSeen < c.deadAfterMs };
        }),
      };
    },

    pair: (target) => startPairing(target),
    confirm: (code) => confirmPairing(code),

    cancel() {
      outgoing = null;
      responder.cancel();
      lastError = null;
      schedulePublish();
    },

    async unpair(id) {
      const all = paired();
      const unreachable: string[] = [];
      let removed: string[];
      if (!id || id === me()) {
        removed = all.map((p) => p.id);
        await Promise.all(
          all.map((p) =>
            rpc(p, 'leave', {}).catch((err: unknown) => {
              unreachable.push(p.id);
              log.warn('could not tell a peer we leave', { peer: p.name, err: (err as Error).message });
            }),
          ),
        );
      } else {
        const target = all.find((p) => p.id === id);
        if (!target) throw new CoreError('not_found', `No paired host with id ${id}.`);
        removed = [id];
        await Promise.all(
          all.map((p) =>
            rpc(p, 'remove', { id }).catch((err: unknown) => {
              unreachable.push(p.id);
              log.warn('could not tell a peer about the removal', { peer: p.name, err: (err as Error).message });
            }),
          ),
        );
      }
      removePeers(removed);
      const names = (ids: string[]) => ids.map((x) => all.find((p) => p.id === x)?.name ?? x).join(', ');
      ctx.store.notify({
        level: unreachable.length ? 'warning' : 'info',
        code: 'pairing_unpaired',
        message: unreachable.length
          ? `Unpaired ${names(removed)} here. ${names(unreachable)} could not be reached and still trusts this computer until it is unpaired there too (its heartbeats are ignored here).`
          : `Unpaired ${names(removed)}.`,
      });
      return { removed, unreachable };
    },

    stopServing() {
      dispatch({ type: 'standby', now: mono(), on: true });
    },

    resumeServing() {
      dispatch({ type: 'standby', now: mono(), on: false });
    },

    onRequest(listener) {
      return requests.on('request', listener);
    },

    forwardTo(forwarded, service) {
      const now = mono();
      const c = cfg();
      const peers = peersView().map((p) => {
        const t = election.peers[p.id];
        const alive = !!t && t.lastSeen !== null && now - t.lastSeen < c.deadAfterMs;
        return { id: p.id, address: p.addresses.find((a) => isIPv4(unmap(a))) ?? '', alive, serving: alive && !!t?.advert?.serving };
      });
      const target = forwardTarget({ selfServing: election.serving, forwarded, peers, unreachableUntil: unreachable, now });
      if (!target) return null;
      // Its service ports as it advertises them (they may differ from ours).
      const txtPorts = opts.discovery?.list().find((d) => d.id === target.id)?.txt.ports ?? {};
      const ports = Object.fromEntries(
        Object.entries(SERVICE_PORT_TXT_KEYS).flatMap(([id, key]) => (txtPorts[key] !== undefined ? [[id, txtPorts[key]]] : [])),
      );
      return { peerId: target.id, host: unmap(target.address), port: service ? advertisedPort({ ports }, service) : null };
    },

    forwardFailed(peerId, why, refused) {
      // Until the election has had time to notice (a host is gone after deadAfter) or the peer answers again.
      unreachable.set(peerId, mono() + cfg().deadAfterMs);
      log.info('the serving host cannot be reached: serving requests here', { peer: peerId, why });
      // Refused: its app may be gone; its control port says for sure (a service port can be closed
      // on a live host, e.g. a service it does not run).
      if (refused) void probeGone(peerId);
    },

    peerApi,
  };

  async function startPairing(target: { id?: string; address?: string; port?: number }) {
    let address = target.address;
    let port = target.port;
    if (target.id) {
      const d = opts.discovery?.list().find((h) => h.id === target.id);
      if (!d) fail(`No host with id ${target.id} is visible on the network right now.`);
      address = unmap(d.via.address || d.addresses[0] || '');
      port = d.port;
    }
    if (!address || !port) fail('Say which host to pair with: a discovered host id, or an address and port.');
    if (outgoing && outgoing.expiresAt > ctx.clock.now() && outgoing.address !== address) {
      log.info('abandoning the previous pairing attempt', { with: outgoing.card.name });
    }
    const mine = myCard();
    let answer: Record<string, unknown>;
    try {
      answer = (await post(address, port, '/api/pairing/request', { v: 1, card: mine })) as Record<string, unknown>;
    } catch (err) {
      lastError = (err as Error).message;
      schedulePublish();
      throw err;
    }
    const card = parseCard(answer.card);
    const sid = b64(answer.sid, 16);
    const share = b64(answer.share, 32);
    if (!sid || !share) fail(`${address}:${port} sent a malformed pairing answer.`);
    if (card.id === mine.id) fail('That is this host.');
    const clash = conflictOfPairs(mine.pairId, card.pairId);
    if (clash) fail(clash);
    const ttl = typeof answer.expiresInSeconds === 'number' ? Math.min(120, answer.expiresInSeconds) : 120;
    outgoing = { card, address, port, sid, share, expiresAt: ctx.clock.now() + ttl * 1000 };
    lastError = null;
    log.info('pairing started: waiting for the code', { with: card.name, address });
    schedulePublish();
    return { peerId: card.id, peerName: card.name, expiresInSeconds: ttl };
  }

  async function confirmPairing(code: string) {
    const o = outgoing;
    if (!o || o.expiresAt <= ctx.clock.now()) {
      outgoing = null;
      fail('No pairing in progress (or its code expired). Start again and type the code the other host shows.');
    }
    const typed = code.replace(/\s+/g, '');
    if (!isCode(typed)) throw new CoreError('bad_request', 'The code is 6 digits.', 'code');
    const mine = myCard();
    const fin = initiatorFinish(typed, o.sid, mine.id, o.card.id, o.share);
    const aad = `${o.sid.toString('base64')}|${mine.id}|${o.card.id}`;
    // If this host already has members and the other host is new, it gets a key with each of them.
    const intros = o.card.pairId === null && paired().some((p) => p.id !== o.card.id) ? introductions(o.card.id).entries : [];
    let answer: Record<string, unknown>;
    try {
      answer = (await post(o.address, o.port, '/api/pairing/finish', {
        sid: o.sid.toString('base64'),
        id: mine.id,
        share: fin.share.toString('base64'),
        mac: fin.mac.toString('base64'),
        box: seal(fin.keys.boxInitiator, { card: mine, introductions: intros }, aad),
      })) as Record<string, unknown>;
    } catch (err) {
      const e = err as CoreError;
      if (e.code === 'forbidden' || e.code === 'not_found') outgoing = null;
      lastError = e.message;
      schedulePublish();
      throw err;
    }
    const mac = b64(answer.mac, 32);
    if (!mac || !tagsEqual(mac, fin.expectResponderMac)) {
      outgoing = null;
      fail(`${o.card.name} could not prove it knows the code: not paired. Someone on the network may be interfering; try again.`);
    }
    let theirs: { pairId: string; card: HostCard; introductions: PeerEntry[] };
    try {
      const boxed = open(fin.keys.boxResponder, answer.box, aad) as Record<string, unknown>;
      if (typeof boxed.pairId !== 'string') throw new Error('no pair id');
      theirs = { pairId: boxed.pairId, card: parseCard(boxed.card), introductions: parseEntries(boxed.introductions ?? []) };
    } catch (err) {
      outgoing = null;
      fail(`The answer of ${o.card.name} could not be opened (${(err as Error).message}): not paired.`);
    }
    const peer: PeerEntry = {
      id: o.card.id,
      name: theirs.card.name,
      role: theirs.card.role,
      prio: theirs.card.prio,
      port: o.port,
      addresses: [o.address],
      key: fin.keys.pairKey.toString('base64'),
    };
    upsertPeers([peer, ...theirs.introductions], theirs.pairId);
    outgoing = null;
    lastError = null;
    ctx.store.notify({ level: 'info', code: 'pairing_done', message: `Paired with ${peer.name}.` });
    log.info('paired', { with: peer.name, pairId: theirs.pairId });
    dispatch({ type: 'peers', now: mono(), ids: paired().map((p) => p.id) });
    sendAll();
    await announceNewcomer(peer, intros);
    return { peerId: peer.id, peerName: peer.name, pairId: theirs.pairId };
  }

  return pairing;
}
