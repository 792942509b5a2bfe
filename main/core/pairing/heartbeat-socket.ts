// The heartbeat socket: UDP on the control port number. Sends this host's heartbeat to each paired
// peer, reads theirs (authenticated, replay-checked: heartbeat.ts), counts what it drops, and hands
// each accepted one to its owner. The encoding and the checks are heartbeat.ts; this is the IO.

import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { CoreContext, SeenHosts } from '../context.js';
import type { PairingSection } from '../contract.js';
import type { PairedPeer } from '../settings/schema.js';
import type { DeepReadonly } from '../settings/store.js';
import type { Logger } from '../util/logger.js';
import type { Advert } from './election.js';
import type { HostCard } from './handshake.js';
import {
  decodeHeartbeat,
  encodeHeartbeat,
  nextBootEpoch,
  ReplayGuard,
  type Heartbeat,
} from './heartbeat.js';
import type { PeerCard } from './peer-list.js';
import type { PeersStore } from './peers-store.js';
import { openDatagrams, unmap, type Datagrams } from './transport.js';

export interface HeartbeatSocketDeps {
  ctx: CoreContext;
  log: Logger;
  peers: PeersStore;
  discovery: SeenHosts | null;
  mono: () => number;
  card: () => HostCard;
  /** What our heartbeats say now (the election's advert). */
  advert: (now: number) => Advert;
  /** Heard from lately: then only its known address is used. */
  alive: (peerId: string, now: number) => boolean;
  /** An authenticated, fresh heartbeat from `address`. */
  accepted: (hb: Heartbeat, address: string) => void;
  /** A counter moved. */
  changed: () => void;
}

/** Where a peer may be: its known addresses, then what discovery sees of it (IPv4, at most 4). */
export function candidateAddresses(
  p: DeepReadonly<PairedPeer>,
  discovery: SeenHosts | null,
): string[] {
  const found = discovery?.list().find((d) => d.id === p.id);
  const all = [...p.addresses, ...(found ? [found.via.address, ...found.addresses] : [])]
    .map(unmap)
    .filter((a) => isIPv4(a));
  return [...new Set(all)].slice(0, 4);
}

export class HeartbeatSocket {
  readonly counters: PairingSection['heartbeats'] = {
    sent: 0,
    received: 0,
    accepted: 0,
    malformed: 0,
    unauthenticated: 0,
    replayed: 0,
    unconfirmed: 0,
  };
  /** Names and roles as the peers' own heartbeats say them. */
  readonly cards: Record<string, PeerCard> = {};
  readonly #boot = randomBytes(8).toString('hex');
  readonly #epoch: number;
  readonly #replay = new ReplayGuard(this.#boot);
  /** The boot id each peer last told us (echoed back so it can tell our heartbeats are fresh). */
  readonly #peerBoot = new Map<string, string>();
  readonly #lastReply = new Map<string, number>();
  #seq = 0;
  #socket: Datagrams | null = null;

  constructor(private readonly d: HeartbeatSocketDeps) {
    const { epoch, error } = nextBootEpoch(d.ctx.dataDir, d.ctx.clock.now());
    if (error)
      d.log.warn('could not save the heartbeat epoch; the clock orders this run', { err: error });
    this.#epoch = epoch;
  }

  /** Binds the API's address and port number (UDP). Throws when it cannot. */
  async open(addr: { address: string; port: number }): Promise<void> {
    this.#socket = await openDatagrams(
      { address: addr.address, port: addr.port },
      (buf, from) => this.#onDatagram(buf, from),
      (err) => this.d.log.debug('heartbeat socket error', { err: err.message }),
    );
  }

  async close(): Promise<void> {
    await this.#socket?.close();
    this.#socket = null;
  }

  /** What was heard from that peer is stale (re-paired or removed). */
  forget(id: string, removed: boolean): void {
    this.#replay.forget(id);
    this.#peerBoot.delete(id);
    if (removed) delete this.cards[id];
  }

  /** A heartbeat to every paired peer; or to one, at the address and port it wrote from (`only`). */
  send(only?: { peer: string; address: string; port: number }): void {
    const socket = this.#socket;
    if (!socket) return;
    const { ctx, mono, peers } = this.d;
    const card = this.d.card();
    const now = mono();
    const advert = this.d.advert(now);
    for (const p of peers.view()) {
      if (only && only.peer !== p.id) continue;
      const hb: Heartbeat = {
        v: 1,
        from: card.id,
        to: p.id,
        boot: this.#boot,
        epoch: this.#epoch,
        seq: ++this.#seq,
        ts: ctx.clock.now(),
        echo: this.#peerBoot.get(p.id) ?? null,
        name: card.name,
        role: card.role,
        port: card.port,
        pairId: card.pairId,
        advert,
      };
      const alive = this.d.alive(p.id, now);
      // Known address first; while the peer is silent, also try the others we know of (DHCP moves).
      const buf = encodeHeartbeat(hb, peers.keysOf(p).heartbeat);
      if (only) {
        socket.send(buf, only.port, only.address);
        this.counters.sent++;
        continue;
      }
      const targets = alive ? p.addresses.slice(0, 1) : candidateAddresses(p, this.d.discovery);
      for (const addr of targets) {
        socket.send(buf, p.port, addr);
        this.counters.sent++;
      }
    }
  }

  #onDatagram(buf: Buffer, from: { address: string; port: number }): void {
    const { log, mono, peers } = this.d;
    const counters = this.counters;
    counters.received++;
    const list = peers.view();
    const d = decodeHeartbeat(
      buf,
      (id) => {
        const p = list.find((x) => x.id === id);
        return p ? peers.keysOf(p).heartbeat : null;
      },
      peers.me(),
    );
    if (!d.ok) {
      counters[d.reason]++;
      log.debug('heartbeat dropped', { reason: d.reason, detail: d.detail, from: from.address });
      this.d.changed();
      return;
    }
    const hb = d.hb;
    const verdict = this.#replay.check(hb);
    if (verdict === 'replayed') {
      counters.replayed++;
      log.debug('replayed heartbeat dropped', { from: from.address, peer: hb.from });
      this.d.changed();
      return;
    }
    this.#peerBoot.set(hb.from, hb.boot);
    if (verdict === 'unconfirmed') {
      counters.unconfirmed++;
      // The peer has not heard us since we started: answer now so it can echo our boot. Answer
      // where the datagram came from (its socket is its control port), not where we think it is:
      // a peer that restarted on another address or port is found again this way.
      const last = this.#lastReply.get(hb.from) ?? -Infinity;
      if (mono() - last > 200) {
        this.#lastReply.set(hb.from, mono());
        this.send({ peer: hb.from, address: from.address, port: from.port });
      }
      this.d.changed();
      return;
    }
    counters.accepted++;
    this.cards[hb.from] = { name: hb.name, role: hb.role };
    this.d.accepted(hb, from.address);
  }
}
