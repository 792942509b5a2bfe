// Pairing: Mac-primary / PC-fallback failover for a group of paired hosts (issue 7). This file only
// wires the parts, one job each (README.md beside it has the protocol, its security argument and the
// choices made):
// - peers-store.ts: the pair's members and keys (settings); cards.ts: host cards, checked strictly;
// - heartbeat-socket.ts: heartbeats over UDP on the control port number;
// - driver.ts: the election (election.ts) over what we hear, its timers on the injected clock; its
//   result is `host.serving` (serving.ts: the wake and the notice; so the mDNS TXT `serving`);
// - self-status.ts: this host as the election sees it; forward-state.ts: the front door's question;
// - pairing-flow.ts (this host asks), handlers.ts (other hosts ask), membership.ts (peer operations);
// - snapshot.ts: the snapshot's `pairing` and `peers` sections and the local status.

import type { AddressInfo } from 'node:net';
import { isIPv4 } from 'node:net';
import type { ActivityFeed, CoreContext, SeenHosts, StopReason } from '../context.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import { myCard } from './cards.js';
import { postJson as defaultPostJson, type PostJson } from './client.js';
import { ElectionDriver } from './driver.js';
import { advertOf, electionConfig, type ElectionConfig } from './election.js';
import { ForwardState } from './forward-state.js';
import { Responder, type HostCard } from './handshake.js';
import { createPeerApi } from './handlers.js';
import { HeartbeatSocket } from './heartbeat-socket.js';
import { Membership } from './membership.js';
import { PairingFlow } from './pairing-flow.js';
import { PeersStore } from './peers-store.js';
import { connectRefused } from './probe.js';
import { SelfView } from './self-status.js';
import { applyServing } from './serving.js';
import { PairingSnapshot, type Tally } from './snapshot.js';
import { unmap } from './transport.js';
import type { IncomingRequest, Pairing } from './types.js';

export type { PairingSection } from '../contract.js';
export type { IncomingRequest, PairingControl, PairingStatus, PeerApi, Pairing } from './types.js';

export interface PairingOptions {
  /** The API's bound address and port (the heartbeat socket uses the same address and port number). */
  address: () => AddressInfo | null;
  discovery?: SeenHosts | null;
  /** Hibernation's activity (the session the election protects from a failback). */
  activity?: ActivityFeed | null;
  postJson?: PostJson;
}

export function createPairing(ctx: CoreContext, opts: PairingOptions): Pairing {
  const log = ctx.logger.child('pairing');
  // Liveness (when a peer was last heard) on the same clock as the timers, so a sped-up or manual
  // clock moves both; monotonic, so a wall-clock jump kills no peer.
  const mono = () => ctx.clock.monotonic();
  const post = opts.postJson ?? defaultPostJson;
  const discovery = opts.discovery ?? null;
  const requests = new Emitter<{ request: IncomingRequest }>();
  const tally: Tally = { lastError: null, rejectedRequests: 0 };
  const config = (): ElectionConfig => electionConfig(ctx.settings.view().pairing);
  const card = (): HostCard => myCard(ctx, opts.address());
  let running = false;
  const offs: Unsubscribe[] = [];

  const peers = new PeersStore(ctx, (id, removed) => heartbeats.forget(id, removed));
  const responder = new Responder(
    () => ({ id: peers.me() }),
    () => ctx.clock.now(),
  );
  const self = new SelfView(ctx, mono);
  const members = new Membership({ ctx, log, post, peers, discovery });

  const driver = new ElectionDriver({
    clock: ctx.clock,
    log,
    config,
    selfId: peers.me,
    peerIds: () => peers.list().map((p) => p.id),
    self: () => self.status(),
    send: () => heartbeats.send(),
    quiet: () => quiet(),
    setServing: (serving) => ctx.store.update('host', (h) => ({ ...h, serving })),
    serve: (serving, kind, reason) =>
      applyServing({ ctx, log, describe: (r) => snapshot.describe(r) }, serving, kind, reason),
    publish: () => snapshot.publish(),
    probe: async (peerId, timeoutMs) => {
      const p = peers.view().find((x) => x.id === peerId);
      const address = p?.addresses.map(unmap).find((a) => isIPv4(a));
      if (!p || !address) return null;
      return {
        refused: await connectRefused(address, p.port, timeoutMs),
        where: `${address}:${p.port}`,
      };
    },
  });

  const heartbeats = new HeartbeatSocket({
    ctx,
    log,
    peers,
    discovery,
    mono,
    card,
    advert: (now) => advertOf(driver.election, now),
    alive: (id, now) => driver.alive(id, now),
    accepted: (hb, address) => {
      peers.learnAddress(hb, address);
      driver.heard(hb.from, hb.advert);
    },
    changed: () => snapshot.publishSoon(),
  });

  /** The members changed here (paired, introduced): tell the election, and the others, at once. */
  const joined = () => {
    driver.peersChanged(peers.list().map((p) => p.id));
    heartbeats.send();
  };
  const publishSoon = () => snapshot.publishSoon();
  const flow = new PairingFlow({
    ctx,
    log,
    post,
    peers,
    members,
    discovery,
    card,
    tally,
    publishSoon,
    joined,
  });
  const peerApi = createPeerApi({
    ctx,
    log,
    responder,
    peers,
    members,
    myCard: card,
    tally,
    publishSoon,
    onRequest: (r) => requests.emit('request', r),
    joined,
  });
  const snapshot = new PairingSnapshot({
    ctx,
    mono,
    config,
    peers,
    discovery,
    responder,
    heartbeats,
    election: () => driver.election,
    alive: (id, now) => driver.alive(id, now),
    outgoing: () => flow.outgoing,
    tally,
  });
  const forwarding = new ForwardState({
    log,
    mono,
    deadAfterMs: () => config().deadAfterMs,
    peers,
    election: () => driver.election,
    alive: (id, now) => driver.alive(id, now),
    checkGone: (id) => void driver.checkGone(id),
    discovery,
  });

  /**
   * Nothing paired, no pairing under way, nobody discovered: a tick would send nothing and change
   * nothing (the election's own deadlines have their own timer), so it is skipped.
   */
  const quiet = () =>
    peers.view().length === 0 &&
    !flow.outgoing &&
    !responder.pending() &&
    responder.lockedFor() === 0 &&
    !discovery?.list().length;

  const pairing: Pairing = {
    name: 'pairing',

    async start() {
      if (running) return;
      running = true;
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
          self.writeCannotServe(s);
          driver.selfChanged(self.status(s));
        }),
        ctx.settings.onChange(({ next, prev }) => {
          const ids = next.pairing.peers.map((p) => p.id).join(',');
          if (ids !== prev.pairing.peers.map((p) => p.id).join(','))
            driver.peersChanged(next.pairing.peers.map((p) => p.id));
          if (next.pairing.heartbeatIntervalMs !== prev.pairing.heartbeatIntervalMs)
            driver.restartHeartbeats();
          snapshot.publishSoon();
        }),
      );
      if (discovery) offs.push(discovery.onChange(() => snapshot.publishSoon()));
      // Session activity: hibernation's, with its source (our own wake is told apart by it).
      if (opts.activity)
        offs.push(opts.activity.onActivity((a) => self.noteActivity(a) && driver.selfChanged()));
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

    handoff: (reason) => driver.handoff(reason),
    rejoin: () => driver.rejoin(),
    status: () => snapshot.status(),
    pair: (target) => flow.start(target),
    confirm: (code) => flow.confirm(code),

    cancel() {
      flow.cancel();
      responder.cancel();
      tally.lastError = null;
      snapshot.publishSoon();
    },

    unpair: (id) => members.unpair(id),
    stopServing: () => driver.standby(true),
    resumeServing: () => driver.standby(false),
    onRequest: (listener) => requests.on('request', listener),
    forwardTo: (forwarded, service) => forwarding.forwardTo(forwarded, service),
    forwardFailed: (peerId, why, refused) => forwarding.forwardFailed(peerId, why, refused),
    peerApi,
  };

  return pairing;
}
