// The pair's members and keys, kept in the settings (`pairing.peers`, `pairing.pairId`; the settings
// file is 0600): reading them cheaply, saving, adding, removing, and the keys derived per peer.

import type { CoreContext } from '../context.js';
import type { PairedPeer, Settings } from '../settings/schema.js';
import type { DeepReadonly } from '../settings/store.js';
import { peerKeys } from './crypto.js';
import type { PeerEntry } from './cards.js';
import { PairingError } from './errors.js';
import type { Heartbeat } from './heartbeat.js';

export class PeersStore {
  readonly #keys = new Map<string, { key: string; heartbeat: Buffer; rpc: Buffer }>();

  /** `forget(id, removed)`: what was heard from that peer is stale (re-paired, or removed). */
  constructor(
    private readonly ctx: CoreContext,
    private readonly forget: (id: string, removed: boolean) => void,
  ) {}

  // view(), not get(): heartbeats, ticks and publishes read these many times a second, and get()
  // deep-copies all the settings each time. `view()` is frozen: only for code that reads.
  me = (): string => this.ctx.settings.view().hostId;
  view = (): DeepReadonly<PairedPeer[]> => this.ctx.settings.view().pairing.peers;
  /** A copy, for code that keeps or changes it. */
  list = (): PairedPeer[] => this.ctx.settings.get().pairing.peers;
  pairId = (): string | null => this.ctx.settings.view().pairing.pairId;

  /** The heartbeat and RPC keys of a peer, derived once per pair key. */
  keysOf(p: Pick<PairedPeer, 'id' | 'key'>): { heartbeat: Buffer; rpc: Buffer } {
    const c = this.#keys.get(p.id);
    if (c && c.key === p.key) return c;
    const k = { key: p.key, ...peerKeys(Buffer.from(p.key, 'base64')) };
    this.#keys.set(p.id, k);
    return k;
  }

  save(peers: PairedPeer[], pairId: string | null): void {
    const s = this.ctx.settings.get();
    const next: Settings = {
      ...s,
      pairing: { ...s.pairing, peers, pairId: peers.length ? pairId : null },
    };
    const r = this.ctx.settings.replace(next);
    if (!r.ok)
      throw new PairingError(
        'failed',
        `Could not save the pair: ${r.problem.field} ${r.problem.message}`,
      );
  }

  upsert(entries: PeerEntry[], pairId: string | null): void {
    const s = this.ctx.settings.get();
    const at = new Date(this.ctx.clock.now()).toISOString();
    const byId = new Map(s.pairing.peers.map((p) => [p.id, p]));
    for (const e of entries) {
      if (e.id === s.hostId) continue;
      byId.set(e.id, { ...e, pairedAt: at });
      this.forget(e.id, false);
    }
    this.save([...byId.values()], pairId ?? s.pairing.pairId);
  }

  remove(ids: string[]): void {
    const s = this.ctx.settings.get();
    for (const id of ids) this.forget(id, true);
    this.save(
      s.pairing.peers.filter((p) => !ids.includes(p.id)),
      s.pairing.pairId,
    );
  }

  /** An authenticated heartbeat from a new address or port: the peer moved (DHCP); remember it. */
  learnAddress(hb: Heartbeat, address: string): void {
    const p = this.view().find((x) => x.id === hb.from);
    if (!p) return;
    if (
      p.addresses[0] === address &&
      p.port === hb.port &&
      p.name === hb.name &&
      p.role === hb.role &&
      p.prio === hb.advert.prio
    )
      return;
    const s = this.ctx.settings.get();
    const next: PairedPeer = {
      ...p,
      name: hb.name.slice(0, 255),
      role: hb.role,
      prio: hb.advert.prio,
      port: hb.port,
      addresses: [address, ...p.addresses.filter((a) => a !== address)].slice(0, 16),
    };
    this.save(
      s.pairing.peers.map((x) => (x.id === p.id ? next : x)),
      s.pairing.pairId,
    );
  }
}
