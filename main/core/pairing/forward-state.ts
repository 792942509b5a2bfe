// The front door's question, answered from the election's view (issue 14): where a request at this
// host goes now (here, or the paired host that serves), and the peers a forwarded request could not
// reach lately. The decision itself is forwarding.ts (pure).

import { isIPv4 } from 'node:net';
import type { Logger } from '../util/logger.js';
import type { Election } from './election.js';
import { forwardTarget } from './forwarding.js';
import type { PeersStore } from './peers-store.js';
import { unmap } from './transport.js';

export interface ForwardDeps {
  log: Logger;
  mono: () => number;
  deadAfterMs: () => number;
  peers: PeersStore;
  election: () => Election;
  alive: (peerId: string, now: number) => boolean;
  /** Is that peer's app gone? (its control port says for sure) */
  checkGone: (peerId: string) => void;
}

export class ForwardState {
  /** Peers a forwarded request could not reach, until when (monotonic). */
  readonly #unreachable = new Map<string, number>();

  constructor(private readonly d: ForwardDeps) {}

  forwardTo(forwarded: boolean): { peerId: string; host: string } | null {
    const now = this.d.mono();
    const election = this.d.election();
    const peers = this.d.peers.view().map((p) => {
      const t = election.peers[p.id];
      const alive = this.d.alive(p.id, now);
      return {
        id: p.id,
        address: p.addresses.find((a) => isIPv4(unmap(a))) ?? '',
        alive,
        serving: alive && !!t?.advert?.serving,
      };
    });
    const target = forwardTarget({
      selfServing: election.serving,
      forwarded,
      peers,
      unreachableUntil: this.#unreachable,
      now,
    });
    return target ? { peerId: target.id, host: unmap(target.address) } : null;
  }

  forwardFailed(peerId: string, why: string, refused: boolean): void {
    // Until the election has had time to notice (a host is gone after deadAfter) or the peer answers again.
    this.#unreachable.set(peerId, this.d.mono() + this.d.deadAfterMs());
    this.d.log.info('the serving host cannot be reached: serving requests here', {
      peer: peerId,
      why,
    });
    // Refused: its app may be gone; its control port says for sure (a service port can be closed
    // on a live host, e.g. a service it does not run).
    if (refused) this.d.checkGone(peerId);
  }
}
