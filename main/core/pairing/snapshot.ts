// Pairing in the snapshot: the `pairing` section (open to the LAN: no codes), the `peers` section,
// and the local status (`GET /api/pairing`, the tray), which adds the codes and the paired hosts.

import type { CoreContext, SeenHosts } from '../context.js';
import type { PairingSection } from '../contract.js';
import type { Election, ElectionConfig } from './election.js';
import type { Responder } from './handshake.js';
import type { HeartbeatSocket } from './heartbeat-socket.js';
import type { Outgoing } from './pairing-flow.js';
import { composePeers } from './peer-list.js';
import type { PeersStore } from './peers-store.js';
import type { PairingStatus } from './types.js';

/** What the handlers and the flows report for the views. */
export interface Tally {
  lastError: string | null;
  /** Peer operations refused (not paired, stale nonce, bad box). */
  rejectedRequests: number;
}

export interface SnapshotDeps {
  ctx: CoreContext;
  mono: () => number;
  config: () => ElectionConfig;
  peers: PeersStore;
  discovery: SeenHosts | null;
  responder: Responder;
  heartbeats: HeartbeatSocket;
  election: () => Election;
  alive: (peerId: string, now: number) => boolean;
  outgoing: () => Outgoing | null;
  tally: Tally;
}

export class PairingSnapshot {
  #queued = false;

  constructor(private readonly d: SnapshotDeps) {}

  /** Ids in reasons → names, for people. */
  describe(reason: string): string {
    let out = reason;
    for (const p of this.d.peers.view())
      out = out.split(p.id).join(this.d.heartbeats.cards[p.id]?.name ?? p.name);
    return out;
  }

  section(): PairingSection {
    const { ctx, responder, tally } = this.d;
    const election = this.d.election();
    const outgoing = this.d.outgoing();
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
      lockedOut: responder
        .lockedOut()
        .map((l) => ({ address: l.address, forSeconds: Math.ceil(l.forMs / 1000) })),
      servingId: election.servingId,
      reason: this.describe(election.reason),
      standby: election.standby,
      claim: election.claim,
      heartbeats: { ...this.d.heartbeats.counters },
      rejectedRequests: tally.rejectedRequests,
      lastError: tally.lastError,
    };
  }

  publish(): void {
    const { ctx } = this.d;
    ctx.store.set('pairing', this.section());
    ctx.store.set(
      'peers',
      composePeers({
        paired: this.d.peers.view(),
        tracks: this.d.election().peers,
        cards: this.d.heartbeats.cards,
        discovered: this.d.discovery?.list() ?? [],
        selfId: this.d.peers.me(),
        mono: this.d.mono(),
        wall: ctx.clock.now(),
        cfg: this.d.config(),
      }),
    );
  }

  /** Once, after what is running now (many changes in a row publish once). */
  publishSoon(): void {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      this.publish();
    });
  }

  /** The local view: the section, the codes to show, and the paired hosts (without keys). */
  status(): PairingStatus {
    const { responder } = this.d;
    const inc = responder.pending();
    const now = this.d.mono();
    return {
      ...this.section(),
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
      peers: this.d.peers
        .list()
        .map(({ key: _key, ...p }) => ({ ...p, alive: this.d.alive(p.id, now) })),
    };
  }
}
