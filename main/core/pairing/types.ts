// What pairing offers the rest of the core (the API routes, the tray, the front door): its control
// surface, the local status with the codes, and the handlers other hosts call.

import type { Capability } from '../context.js';
import type { PairingSection } from '../contract.js';
import type { PairedPeer } from '../settings/schema.js';
import type { Unsubscribe } from '../util/emitter.js';

/** A pairing request shown on this host (local views only: it holds the code). */
export interface IncomingRequest {
  code: string;
  fromId: string;
  fromName: string;
  address: string;
  expiresAt: string;
  attemptsLeft: number;
}

export interface PairingStatus extends PairingSection {
  /** The code to show, when another host asked to pair with this one. Local views only. */
  incoming: IncomingRequest | null;
  /** Every pending request (one per requester address, at most 4), oldest first, with its code. */
  incomingAll: IncomingRequest[];
  peers: (Omit<PairedPeer, 'key'> & { alive: boolean })[];
}

export interface PairingControl {
  status(): PairingStatus;
  /** Ask another host to pair: by its discovery id, or by address and port. It then shows a code. */
  pair(target: {
    id?: string;
    address?: string;
    port?: number;
  }): Promise<{ peerId: string; peerName: string; expiresInSeconds: number }>;
  /** The code the other host shows. Throws a clear error for a wrong code (with attempts left). */
  confirm(code: string): Promise<{ peerId: string; peerName: string; pairId: string }>;
  cancel(): void;
  /** Without id: leave the pair. With a peer id: remove that host from the pair. Works when the others are unreachable. */
  unpair(id?: string): Promise<{ removed: string[]; unreachable: string[] }>;
  stopServing(): void;
  resumeServing(): void;
  /** Announce a handoff now (the shell calls this on OS suspend, before anything else). */
  handoff(reason: string): Promise<void>;
  /** Back from OS sleep: listen again and rejoin the election. */
  rejoin(): void;
  onRequest(listener: (r: IncomingRequest) => void): Unsubscribe;
  /**
   * The front door asks where a request for `service` goes (issue 14): the paired host that
   * serves, or null = here. `forwarded`: the request already came from a host of the pair. `port`:
   * the port that host advertises for the service (mDNS TXT), null when unknown.
   */
  forwardTo(
    forwarded: boolean,
    service?: string,
  ): { peerId: string; host: string; port: number | null } | null;
  /**
   * A connection to that host failed: serve here for a moment, without waiting for the election.
   * `refused`: its machine refused the connection (nothing listens: its app is gone).
   */
  forwardFailed(peerId: string, why: string, refused: boolean): void;
  /** The peer-facing HTTP handlers (routes/pairing.ts). */
  readonly peerApi: PeerApi;
}

export interface PeerApi {
  request(body: unknown, client: string): Promise<unknown>;
  finish(body: unknown, client: string): Promise<unknown>;
  nonce(body: unknown, client: string): unknown;
  rpc(body: unknown, client: string): Promise<unknown>;
}

export type Pairing = Capability & PairingControl;
