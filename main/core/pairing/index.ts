// Pairing: Mac-primary / PC-fallback failover for a group of paired hosts (issue 7).
// - the handshake (handshake.ts, crypto.ts) over the control port's HTTP routes;
// - heartbeats (heartbeat.ts) over UDP on the control port number, every heartbeatIntervalMs;
// - the election (election.ts, driven by driver.ts), whose result is `host.serving` (and so the mDNS TXT `serving`);
// - the snapshot's `peers` (paired peers + discovered unpaired hosts) and `pairing` sections.
// See README.md beside this file for the protocol, its security argument and the choices made.

import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { isIPv4 } from 'node:net';
import type { CoreContext, StopReason } from '../context.js';
import type { Snapshot } from '../contract.js';
import type { PairedPeer } from '../settings/schema.js';
import type { SeenHosts } from '../context.js';
import { PairingError } from './errors.js';
import { ElectionDriver } from './driver.js';
import { HeartbeatSocket } from './heartbeat-socket.js';
import { PeersStore } from './peers-store.js';
import { conflictOfPairs, myCard as cardOf, parseCard, parseEntries, type PeerEntry } from './cards.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import { b64, hmac, open, seal } from './crypto.js';
import {
  advertOf,
  electionConfig,
  type ElectionConfig,
} from './election.js';
import { Responder, type HostCard } from './handshake.js';
import { forwardTarget } from './forwarding.js';
import { unmap } from './transport.js';
import { applyServing } from './serving.js';
import { SelfView } from './self-status.js';
import { Membership } from './membership.js';
import { PairingFlow } from './pairing-flow.js';
import { PairingSnapshot, type Tally } from './snapshot.js';
import type { IncomingRequest, Pairing, PeerApi } from './types.js';
import { connectRefused } from './probe.js';
import { postJson as defaultPostJson, type PostJson } from './client.js';

export type { PairingSection } from '../contract.js';
export type { IncomingRequest, PairingControl, PairingStatus, PeerApi, Pairing } from './types.js';

export interface PairingOptions {
  /** The API's bound address and port (the heartbeat socket uses the same address and port number). */
  address: () => AddressInfo | null;
  discovery?: SeenHosts | null;
  /** Monotonic milliseconds for liveness (wall-clock jumps must not kill peers). */
  monotonic?: () => number;
  postJson?: PostJson;
}


const NONCE_TTL_MS = 30_000;
const MAX_NONCES = 64;

export function createPairing(ctx: CoreContext, opts: PairingOptions): Pairing {
  const log = ctx.logger.child('pairing');
  const mono = opts.monotonic ?? (() => performance.now());
  const post = opts.postJson ?? defaultPostJson;
  const requests = new Emitter<{ request: IncomingRequest }>();
  const responder = new Responder(() => ({ id: me() }), () => ctx.clock.now());
  const tally: Tally = { lastError: null, rejectedRequests: 0 };
  let running = false;
  const offs: Unsubscribe[] = [];
  const nonces = new Map<string, { from: string; expires: number }>();
  /** Peers a forwarded request could not reach, until when (monotonic). */
  const unreachable = new Map<string, number>();

  // view(), not get(): heartbeats, ticks and publishes read these many times a second, and get() deep-copies
  // all the settings each time. `peersView` is frozen: only for code that reads (`paired()` is a copy).
  const store = new PeersStore(ctx, (id, removed) => heartbeats.forget(id, removed));
  const me = store.me;
  const cfg = (): ElectionConfig => electionConfig(ctx.settings.view().pairing);
  const paired = store.list;
  const peersView = store.view;
  const keysOf = (p: Pick<PairedPeer, 'id' | 'key'>) => store.keysOf(p);
  const upsertPeers = (entries: PeerEntry[], pairId: string | null) => store.upsert(entries, pairId);
  const removePeers = (ids: string[]) => store.remove(ids);

  // ── This host's status, as the election sees it ────────────────────────────────────────────

  const self = new SelfView(ctx, mono);
  const selfStatus = (snap?: Snapshot) => self.status(snap);

  // ── The election ───────────────────────────────────────────────────────────────────────────

  const driver = new ElectionDriver({
    clock: ctx.clock,
    mono,
    log,
    config: cfg,
    selfId: me,
    peerIds: () => paired().map((p) => p.id),
    self: () => selfStatus(),
    send: () => sendAll(),
    quiet: () => quiet(),
    setServing: (serving) => ctx.store.update('host', (h) => ({ ...h, serving })),
    serve: (serving, kind, reason) =>
      applyServing({ ctx, log, describe, ownWake: () => self.ownWake() }, serving, kind, reason),
    publish: () => publish(),
    probe: async (peerId, timeoutMs) => {
      const p = peersView().find((x) => x.id === peerId);
      const address = p?.addresses.map(unmap).find((a) => isIPv4(a));
      if (!p || !address) return null;
      return { refused: await connectRefused(address, p.port, timeoutMs), where: `${address}:${p.port}` };
    },
  });

  // ── Heartbeats ─────────────────────────────────────────────────────────────────────────────

  const myCard = (): HostCard => cardOf(ctx, opts.address());

  const heartbeats = new HeartbeatSocket({
    ctx,
    log,
    peers: store,
    discovery: opts.discovery ?? null,
    mono,
    card: myCard,
    advert: (now) => advertOf(driver.election, now),
    alive: (id, now) => driver.alive(id, now),
    accepted: (hb, address) => {
      store.learnAddress(hb, address);
      driver.heard(hb.from, hb.advert);
    },
    changed: () => schedulePublish(),
  });
  const sendAll = () => heartbeats.send();

  const publishSoon = () => snapshot.publishSoon();
  const schedulePublish = publishSoon;
  const publish = () => snapshot.publish();
  const describe = (reason: string) => snapshot.describe(reason);

  const members = new Membership({ ctx, log, post, peers: store, discovery: opts.discovery ?? null });

  /** The members changed here (paired, introduced): tell the election, and the others, at once. */
  const joined = () => {
    driver.peersChanged(paired().map((p) => p.id));
    sendAll();
  };
  const flow = new PairingFlow({ ctx, log, post, peers: store, members, discovery: opts.discovery ?? null, card: myCard, tally, publishSoon, joined });
  const snapshot = new PairingSnapshot({
    ctx,
    mono,
    config: cfg,
    peers: store,
    discovery: opts.discovery ?? null,
    responder,
    heartbeats,
    election: () => driver.election,
    alive: (id, now) => driver.alive(id, now),
    outgoing: () => flow.outgoing,
    tally,
  });

  const newPairId = () => randomBytes(4).toString('hex');

  // ── Peer-facing API ────────────────────────────────────────────────────────────────────────

  const peerApi: PeerApi = {
    async request(body, client) {
      const o = (body ?? {}) as Record<string, unknown>;
      if (o.v !== 1) throw new PairingError('invalid', 'Unsupported pairing version (this host speaks v1).', 'v');
      const card = parseCard(o.card);
      if (card.id === me()) throw new PairingError('conflict', 'A host cannot pair with itself.');
      const clash = conflictOfPairs(ctx.settings.get().pairing.pairId, card.pairId);
      if (clash) throw new PairingError('conflict', clash);
      const address = unmap(client);
      const r = responder.request(card, address);
      if (!r.ok) {
        if (r.reason === 'locked') throw new PairingError('locked', r.message);
        throw new PairingError('conflict', r.message);
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
      if (typeof o.sid !== 'string' || typeof o.id !== 'string' || !share || !mac) throw new PairingError('invalid', 'sid, id, share and mac are required');
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
          throw new PairingError('locked', r.message);
        }
        if (r.reason === 'none') throw new PairingError('unknown', r.message);
        throw new PairingError('unauthenticated', r.message);
      }
      const inc = r.incoming;
      const aad = `${inc.sid.toString('base64')}|${inc.from.id}|${me()}`;
      let theirs: { card: HostCard; introductions: PeerEntry[] };
      try {
        const boxed = open(r.keys.boxInitiator, o.box, aad) as Record<string, unknown>;
        theirs = { card: parseCard(boxed.card), introductions: parseEntries(boxed.introductions ?? []) };
      } catch (err) {
        throw new PairingError('invalid', `The pairing payload could not be opened (${(err as Error).message}).`);
      }
      const mine = ctx.settings.get().pairing;
      const clash = conflictOfPairs(mine.pairId, theirs.card.pairId);
      if (clash) throw new PairingError('conflict', clash);
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
      const intros = theirs.card.pairId === null && mine.peers.some((p) => p.id !== newcomer.id) ? members.introductions(newcomer.id) : [];
      upsertPeers([newcomer, ...theirs.introductions], pairId);
      tally.lastError = null;
      ctx.store.notify({ level: 'info', code: 'pairing_done', message: `Paired with ${newcomer.name}.` });
      log.info('paired', { with: newcomer.name, pairId, introduced: theirs.introductions.length + intros.length });
      driver.peersChanged(paired().map((p) => p.id));
      sendAll();
      void members.announceNewcomer(newcomer, intros);
      return {
        mac: hmac(r.keys.confirmResponder, r.transcript).toString('base64'),
        box: seal(r.keys.boxResponder, { pairId, card: myCard(), introductions: intros }, aad),
      };
    },

    nonce(body) {
      const o = (body ?? {}) as Record<string, unknown>;
      if (typeof o.from !== 'string' || !paired().some((p) => p.id === o.from)) {
        tally.rejectedRequests++;
        schedulePublish();
        throw new PairingError('unauthenticated', 'Not a paired host.');
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
        tally.rejectedRequests++;
        log.debug('peer request refused', { why });
        schedulePublish();
        throw new PairingError('unauthenticated', 'Peer request refused.');
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
          if (!pairId || (mine && mine !== pairId)) throw new PairingError('conflict', 'Introduced to another pair.');
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
          throw new PairingError('invalid', 'Unknown operation.');
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
    peersView().length === 0 && !flow.outgoing && !responder.pending() && responder.lockedFor() === 0 && !opts.discovery?.list().length;

  const pairing: Pairing = {
    name: 'pairing',

    async start() {
      if (running) return;
      running = true;
      self.reset();
      const addr = opts.address();
      if (addr) {
        try {
          await heartbeats.open(addr);
        } catch (err) {
          tally.lastError = `Heartbeats cannot use UDP port ${addr.port} (${(err as Error).message}). Paired hosts will not see this one; free the port or change api.port.`;
          log.error(tally.lastError);
          ctx.store.notify({ level: 'error', code: 'pairing_udp', message: tally.lastError });
        }
      }
      offs.push(
        ctx.store.onChange((s) => {
          self.noteActivity(s);
          self.writeCannotServe(s);
          driver.selfChanged(selfStatus(s));
        }),
        ctx.commands.onExecute((cmd) => {
          if (cmd.type === 'activity' || (cmd.type === 'wake' && !cmd.source.startsWith('pairing'))) {
            self.noteActivityAt(ctx.clock.now());
            driver.selfChanged();
          }
        }),
        ctx.settings.onChange(({ next, prev }) => {
          const ids = next.pairing.peers.map((p) => p.id).join(',');
          if (ids !== prev.pairing.peers.map((p) => p.id).join(',')) driver.peersChanged(next.pairing.peers.map((p) => p.id));
          if (next.pairing.heartbeatIntervalMs !== prev.pairing.heartbeatIntervalMs) driver.restartHeartbeats();
          schedulePublish();
        }),
      );
      if (opts.discovery) offs.push(opts.discovery.onChange(() => schedulePublish()));
      // Restart the listening window now that we can hear (construction may be long before start).
      driver.start();
    },

    async stop(reason?: StopReason) {
      if (!running) return;
      // Hand off before anything else stops: the next host promotes on this heartbeat.
      await pairing.handoff(reason ?? 'quit');
      running = false;
      for (const off of offs.splice(0)) off();
      driver.stop();
      await heartbeats.close();
    },

    async handoff(reason) {
      await driver.handoff(reason);
    },

    rejoin() {
      driver.rejoin();
    },

    status: () => snapshot.status(),

    pair: (target) => flow.start(target),
    confirm: (code) => flow.confirm(code),

    cancel() {
      flow.cancel();
      responder.cancel();
      tally.lastError = null;
      schedulePublish();
    },

    unpair: (id) => members.unpair(id),

    stopServing() {
      driver.standby(true);
    },

    resumeServing() {
      driver.standby(false);
    },

    onRequest(listener) {
      return requests.on('request', listener);
    },

    forwardTo(forwarded) {
      const now = mono();
      const c = cfg();
      const peers = peersView().map((p) => {
        const t = driver.election.peers[p.id];
        const alive = !!t && t.lastSeen !== null && now - t.lastSeen < c.deadAfterMs;
        return { id: p.id, address: p.addresses.find((a) => isIPv4(unmap(a))) ?? '', alive, serving: alive && !!t?.advert?.serving };
      });
      const target = forwardTarget({ selfServing: driver.election.serving, forwarded, peers, unreachableUntil: unreachable, now });
      return target ? { peerId: target.id, host: unmap(target.address) } : null;
    },

    forwardFailed(peerId, why, refused) {
      // Until the election has had time to notice (a host is gone after deadAfter) or the peer answers again.
      unreachable.set(peerId, mono() + cfg().deadAfterMs);
      log.info('the serving host cannot be reached: serving requests here', { peer: peerId, why });
      // Refused: its app may be gone; its control port says for sure (a service port can be closed
      // on a live host, e.g. a service it does not run).
      if (refused) void driver.checkGone(peerId);
    },

    peerApi,
  };

  return pairing;
}
