// The front door's question, answered from the election's view (issue 14): where a request at this
// host goes now (here, or the paired host that serves), and the peers a forwarded request could not
// reach lately. The decision itself is forwarding.ts (pure).

import { isIPv4 } from 'node:net';
import type { SeenHosts } from '../context.js';
import { SERVICE_PORT_TXT_KEYS } from '../contract.js';
import type { Logger } from '../util/logger.js';
import type { Election } from './election.js';
import { advertisedPort, forwardTarget } from './forwarding.js';
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
  /** Hosts seen on the LAN: a paired host's record says its service ports. */
  discovery?: SeenHosts | null;
}

export class ForwardState {
  /** Peers a forwarded request could not reach, until when (monotonic). */
  readonly #unreachable = new Map<string, number>();

  constructor(private readonly d: ForwardDeps) {}

  /** `port`: the port the serving host advertises for `service` (null: unknown, use ours). */
  forwardTo(
    forwarded: boolean,
    service?: string,
  ): { peerId: string; host: string; port: number | null } | null {
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
    if (!target) return null;
    return {
      peerId: target.id,
      host: unmap(target.address),
      port: service ? advertisedPort({ ports: this.#ports(target.id) }, service) : null,
    };
  }

  /** The service ports a host advertises in its mDNS record, by service id (they may differ from ours). */
  #ports(peerId: string): Record<string, number> {
    const txt = this.d.discovery?.list().find((h) => h.id === peerId)?.txt.ports ?? {};
    const out: Record<string, number> = {};
    for (const [id, key] of Object.entries(SERVICE_PORT_TXT_KEYS)) {
      const port = txt[key];
      if (port !== undefined) out[id] = port;
    }
    return out;
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
