// The pairing flow on the host the user pairs from (the initiator): ask the other host (it shows a
// code), then finish the handshake with the code the user types. The other side is handlers.ts.

import type { CoreContext, SeenHosts } from '../context.js';
import type { Logger } from '../util/logger.js';
import { conflictOfPairs, parseCard, parseEntries, type PeerEntry } from './cards.js';
import type { PostJson } from './client.js';
import { b64, isCode, open, seal, tagsEqual } from './crypto.js';
import { PairingError } from './errors.js';
import { initiatorFinish, type HostCard } from './handshake.js';
import type { Membership } from './membership.js';
import type { PeersStore } from './peers-store.js';
import type { Tally } from './snapshot.js';
import { unmap } from './transport.js';

/** A pairing this host asked for, waiting for the code. */
export interface Outgoing {
  card: HostCard;
  address: string;
  port: number;
  sid: Buffer;
  share: Buffer;
  expiresAt: number;
}

export interface PairingFlowDeps {
  ctx: CoreContext;
  log: Logger;
  post: PostJson;
  peers: PeersStore;
  members: Membership;
  discovery: SeenHosts | null;
  card: () => HostCard;
  tally: Tally;
  publishSoon: () => void;
  /** Paired: tell the election, and the new member, at once. */
  joined: () => void;
}

export class PairingFlow {
  #outgoing: Outgoing | null = null;

  constructor(private readonly d: PairingFlowDeps) {}

  get outgoing(): Outgoing | null {
    return this.#outgoing;
  }

  /** Abandons the pairing under way here. */
  cancel(): void {
    this.#outgoing = null;
  }

  #fail(message: string): never {
    this.d.tally.lastError = message;
    this.d.publishSoon();
    throw new PairingError('invalid', message);
  }

  async start(target: { id?: string; address?: string; port?: number }) {
    let address = target.address;
    let port = target.port;
    if (target.id) {
      const d = this.d.discovery?.list().find((h) => h.id === target.id);
      if (!d) this.#fail(`No host with id ${target.id} is visible on the network right now.`);
      address = unmap(d.via.address || d.addresses[0] || '');
      port = d.port;
    }
    if (!address || !port)
      this.#fail('Say which host to pair with: a discovered host id, or an address and port.');
    if (
      this.#outgoing &&
      this.#outgoing.expiresAt > this.d.ctx.clock.now() &&
      this.#outgoing.address !== address
    ) {
      this.d.log.info('abandoning the previous pairing attempt', {
        with: this.#outgoing.card.name,
      });
    }
    const mine = this.d.card();
    let answer: Record<string, unknown>;
    try {
      answer = (await this.d.post(address, port, '/api/pairing/request', {
        v: 1,
        card: mine,
      })) as Record<string, unknown>;
    } catch (err) {
      this.d.tally.lastError = (err as Error).message;
      this.d.publishSoon();
      throw err;
    }
    const card = parseCard(answer.card);
    const sid = b64(answer.sid, 16);
    const share = b64(answer.share, 32);
    if (!sid || !share) this.#fail(`${address}:${port} sent a malformed pairing answer.`);
    if (card.id === mine.id) this.#fail('That is this host.');
    const clash = conflictOfPairs(mine.pairId, card.pairId);
    if (clash) this.#fail(clash);
    const ttl =
      typeof answer.expiresInSeconds === 'number' ? Math.min(120, answer.expiresInSeconds) : 120;
    this.#outgoing = {
      card,
      address,
      port,
      sid,
      share,
      expiresAt: this.d.ctx.clock.now() + ttl * 1000,
    };
    this.d.tally.lastError = null;
    this.d.log.info('pairing started: waiting for the code', { with: card.name, address });
    this.d.publishSoon();
    return { peerId: card.id, peerName: card.name, expiresInSeconds: ttl };
  }

  async confirm(code: string) {
    const o = this.#outgoing;
    if (!o || o.expiresAt <= this.d.ctx.clock.now()) {
      this.#outgoing = null;
      this.#fail(
        'No pairing in progress (or its code expired). Start again and type the code the other host shows.',
      );
    }
    const typed = code.replace(/\s+/g, '');
    if (!isCode(typed)) throw new PairingError('invalid', 'The code is 6 digits.', 'code');
    const mine = this.d.card();
    const fin = initiatorFinish(typed, o.sid, mine.id, o.card.id, o.share);
    const aad = `${o.sid.toString('base64')}|${mine.id}|${o.card.id}`;
    // If this host already has members and the other host is new, it gets a key with each of them.
    const intros =
      o.card.pairId === null && this.d.peers.list().some((p) => p.id !== o.card.id)
        ? this.d.members.introductions(o.card.id)
        : [];
    let answer: Record<string, unknown>;
    try {
      answer = (await this.d.post(o.address, o.port, '/api/pairing/finish', {
        sid: o.sid.toString('base64'),
        id: mine.id,
        share: fin.share.toString('base64'),
        mac: fin.mac.toString('base64'),
        box: seal(fin.keys.boxInitiator, { card: mine, introductions: intros }, aad),
      })) as Record<string, unknown>;
    } catch (err) {
      const e = err as PairingError;
      if (e.peer?.code === 'forbidden' || e.peer?.code === 'not_found') this.#outgoing = null;
      this.d.tally.lastError = e.message;
      this.d.publishSoon();
      throw err;
    }
    const mac = b64(answer.mac, 32);
    if (!mac || !tagsEqual(mac, fin.expectResponderMac)) {
      this.#outgoing = null;
      this.#fail(
        `${o.card.name} could not prove it knows the code: not paired. Someone on the network may be interfering; try again.`,
      );
    }
    let theirs: { pairId: string; card: HostCard; introductions: PeerEntry[] };
    try {
      const boxed = open(fin.keys.boxResponder, answer.box, aad) as Record<string, unknown>;
      if (typeof boxed.pairId !== 'string') throw new Error('no pair id');
      theirs = {
        pairId: boxed.pairId,
        card: parseCard(boxed.card),
        introductions: parseEntries(boxed.introductions ?? []),
      };
    } catch (err) {
      this.#outgoing = null;
      this.#fail(
        `The answer of ${o.card.name} could not be opened (${(err as Error).message}): not paired.`,
      );
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
    this.d.peers.upsert([peer, ...theirs.introductions], theirs.pairId);
    this.#outgoing = null;
    this.d.tally.lastError = null;
    this.d.ctx.store.notify({
      level: 'info',
      code: 'pairing_done',
      message: `Paired with ${peer.name}.`,
    });
    this.d.log.info('paired', { with: peer.name, pairId: theirs.pairId });
    this.d.joined();
    await this.d.members.announceNewcomer(peer, intros);
    return { peerId: peer.id, peerName: peer.name, pairId: theirs.pairId };
  }
}
