// Discovered host → the snapshot's `Peer` (CONTRACT §3). Pure.
//
// Interim: until the pairing capability owns `peers`, discovery writes every host it sees there.
// Pairing merges its paired peers with `discovery.list()` through the same `toPeer` (a paired peer
// that is also discovered gets its live role/state/serving from it, plus `paired: true`), which
// lives in the contract so that pairing need not import this folder.

import { toPeer, type Peer } from '../contract.js';
import type { DiscoveredHost } from './host-table.js';

export { toPeer };

/** Stable order for the snapshot: serving first, then priority, then name. */
export function toPeers(hosts: DiscoveredHost[], now: number): Peer[] {
  return hosts
    .map((h) => toPeer(h, now))
    .sort(
      (a, b) =>
        Number(b.serving) - Number(a.serving) ||
        b.prio - a.prio ||
        a.name.localeCompare(b.name) ||
        a.id.localeCompare(b.id),
    );
}

/**
 * The host the iPhone would use now (CONTRACT §1): the one with `serving=1`; if none, the highest
 * `prio` whose /health answers. Null when none qualifies.
 */
export function phoneChoice<T extends Pick<DiscoveredHost, 'txt' | 'health' | 'name'>>(
  hosts: T[],
): T | null {
  const serving = hosts
    .filter((h) => h.txt.serving)
    .sort((a, b) => b.txt.prio - a.txt.prio || a.name.localeCompare(b.name));
  if (serving[0]) return serving[0];
  const answering = hosts
    .filter((h) => h.health.ok === true)
    .sort((a, b) => b.txt.prio - a.txt.prio || a.name.localeCompare(b.name));
  return answering[0] ?? null;
}
