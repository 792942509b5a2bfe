// The snapshot's `peers` (CONTRACT §3): the paired peers, as their heartbeats describe them, then the
// other UnaMentis hosts discovery sees on the LAN (`paired: false`, candidates to pair with). Pure.

import { toPeer, type Peer, type SeenHost } from '../contract.js';
import type { PairedPeer } from '../settings/schema.js';
import type { DeepReadonly } from '../settings/store.js';
import { isAlive, type ElectionConfig, type PeerTrack } from './election.js';

/** What the last accepted heartbeat of a peer said besides its advert. */
export interface PeerCard {
  name: string;
  role: PairedPeer['role'];
}

export function composePeers(input: {
  paired: readonly DeepReadonly<PairedPeer>[];
  tracks: Record<string, PeerTrack>;
  cards: Record<string, PeerCard>;
  discovered: SeenHost[];
  selfId: string;
  /** Monotonic now (the tracks' clock) and wall now (discovery's clock). */
  mono: number;
  wall: number;
  cfg: ElectionConfig;
}): Peer[] {
  const { paired, tracks, cards, discovered, mono, wall, cfg } = input;
  const byId = new Map(discovered.map((d) => [d.id, d]));
  const out: Peer[] = [];
  for (const p of paired) {
    const t = tracks[p.id];
    const alive = t ? isAlive(t, mono, cfg) : false;
    const a = t?.advert ?? null;
    const d = byId.get(p.id);
    const card = cards[p.id];
    let lastSeenSeconds = -1;
    if (t?.lastSeen != null) lastSeenSeconds = Math.max(0, Math.round((mono - t.lastSeen) / 1000));
    out.push({
      id: p.id,
      name: card?.name ?? d?.name ?? p.name,
      role: card?.role ?? d?.txt.role ?? p.role,
      prio: a?.prio ?? d?.txt.prio ?? p.prio,
      // Only a peer we hear counts as serving: a stale flag must not hide that nobody serves.
      serving: alive && a !== null && a.serving,
      state: a?.state ?? d?.txt.state ?? 'dormant',
      lastSeenSeconds,
      paired: true,
      alive,
      ready: alive && a !== null && a.ready,
      addresses: [...p.addresses],
      port: p.port,
    });
  }
  const pairedIds = new Set(paired.map((p) => p.id));
  const others = discovered
    .filter((d) => !pairedIds.has(d.id) && d.id !== input.selfId)
    .map((d) => ({ ...toPeer(d, wall), paired: false }))
    .sort((a, b) => b.prio - a.prio || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return [...out, ...others];
}
