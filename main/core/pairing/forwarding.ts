// Where a request that reaches this host's front door should be served: here, or at the paired host
// that serves (every host is a door to the serving host). Pure: the caller passes what the election
// and the relay know, and `now`.
//
// - This host serves: here.
// - A request that another host of the pair already forwarded: here (never twice: no loops, even
//   while two hosts briefly disagree about who serves).
// - A paired host that is heard (alive) and serves: there, unless a connection to it failed a moment
//   ago: then here at once, without waiting for the election to notice (`unreachableUntil`).
// - Nobody serves that we can reach: here (waking if needed), so the phone gets an answer.

export interface ForwardPeer {
  id: string;
  /** Its IPv4 address on the LAN (the last one its heartbeats came from). */
  address: string;
  alive: boolean;
  serving: boolean;
  /** The public port of each service it advertises (mDNS TXT), by service id; absent: unknown. */
  ports?: Readonly<Record<string, number>>;
}

export interface ForwardInput {
  selfServing: boolean;
  /** The request carries the pair's forwarded mark. */
  forwarded: boolean;
  peers: ForwardPeer[];
  /** Peer id → until when it is treated as unreachable (a connection to it failed). */
  unreachableUntil: ReadonlyMap<string, number>;
  now: number;
}

export function forwardTarget(i: ForwardInput): ForwardPeer | null {
  if (i.selfServing || i.forwarded) return null;
  return (
    i.peers.find(
      (p) =>
        p.alive &&
        p.serving &&
        p.address !== '' &&
        (i.unreachableUntil.get(p.id) ?? -Infinity) <= i.now,
    ) ?? null
  );
}

/**
 * The port that host advertises for `service`, or null when it says none (the caller then uses its
 * own public port for the service: the pair's hosts usually share the settings' ports).
 */
export function advertisedPort(peer: Pick<ForwardPeer, 'ports'>, service: string): number | null {
  const port = peer.ports?.[service];
  return port !== undefined && Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
}

/** The header that marks a request one host of the pair passed to another. */
export const FORWARDED_HEADER = 'x-unamentis-forwarded';
