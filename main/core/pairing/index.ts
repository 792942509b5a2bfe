// Pairing: Mac-primary / PC-fallback failover for a group of paired hosts (issue 7).
// - the handshake (handshake.ts, crypto.ts) over the control port's HTTP routes;
// - heartbeats (heartbeat.ts) over UDP on the control port number, every heartbeatIntervalMs;
// - the election (election.ts, driven by driver.ts), whose result is `host.serving` (and so the mDNS TXT `serving`);
// - the snapshot's `peers` (paired peers + discovered unpaired hosts) and `pairing` sections.
// See README.md beside this file for the protocol, its security argument and the choices made.

import type { AddressInfo } from 'node:net';
import { isIPv4 } from 'node:net';
import type { CoreContext, StopReason } from '../context.js';
import type { Snapshot } from '../contract.js';
import type { SeenHosts } from '../context.js';
import { ElectionDriver } from './driver.js';
import { HeartbeatSocket } from './heartbeat-socket.js';
import { PeersStore } from './peers-store.js';
import { myCard as cardOf } from './cards.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import {
  advertOf,
  electionConfig,
  type ElectionConfig,
} from './election.js';
import { Responder, type HostCard } from './handshake.js';
import { unmap } from './transport.js';
import { applyServing } from './serving.js';
import { SelfView } from './self-status.js';
import { Membership } from './membership.js';
import { PairingFlow } from './pairing-flow.js';
import { createPeerApi } from './handlers.js';
import { ForwardState } from './forward-state.js';
import { PairingSnapshot, type Tally } from './snapshot.js';
import type { IncomingRequest, Pairing } from './types.js';
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



export function createPairing(ctx: CoreContext, opts: PairingOptions): Pairing {
  const log = ctx.logger.child('pairing');
  const mono = opts.monotonic ?? (() => performance.now());
  const post = opts.postJson ?? defaultPostJson;
  const requests = new Emitter<{ request: IncomingRequest }>();
  const responder = new Responder(() => ({ id: me() }), () => ctx.clock.now());
  const tally: Tally = { lastError: null, rejectedRequests: 0 };
  let running = false;
  const offs: Unsubscribe[] = [];

  // view(), not get(): heartbeats, ticks and publishes read these many times a second, and get() deep-copies
  // all the settings each time. `peersView` is frozen: only for code that reads (`paired()` is a copy).
  const store = new PeersStore(ctx, (id, removed) => heartbeats.forget(id, removed));
  const me = store.me;
  const cfg = (): ElectionConfig => electionConfig(ctx.settings.view().pairing);
  const paired = store.list;
  const peersView = store.view;

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

  const peerApi = createPeerApi({
    ctx,
    log,
    responder,
    peers: store,
    members,
    myCard,
    tally,
    publishSoon,
    onRequest: (r) => requests.emit('request', r),
    joined,
  });

  const forwarding = new ForwardState({
    log,
    mono,
    deadAfterMs: () => cfg().deadAfterMs,
    peers: store,
    election: () => driver.election,
    alive: (id, now) => driver.alive(id, now),
    checkGone: (id) => void driver.checkGone(id),
  });

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

    forwardTo: (forwarded) => forwarding.forwardTo(forwarded),
    forwardFailed: (peerId, why, refused) => forwarding.forwardFailed(peerId, why, refused),
    peerApi,
  };

  return pairing;
}
