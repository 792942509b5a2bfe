// Pairing's own errors, in pairing's words. The API layer (api/routes/pairing.ts) maps each kind to
// the contract's error code and HTTP status; docs/api.md lists what another host sees.

import type { ErrorCode } from '../contract.js';

export type PairingErrorKind =
  /** A malformed request or answer, or nothing to act on (no pairing under way, no such host visible). */
  | 'invalid'
  /** Not proven: a wrong code, not a paired host, a refused peer operation. */
  | 'unauthenticated'
  /** Too many wrong codes from this address. */
  | 'locked'
  /** No such request or paired host. */
  | 'unknown'
  /** Busy, this host itself, or another pair. */
  | 'conflict'
  /** The other host did not answer. */
  | 'unreachable'
  /** Something on this side broke (the pair could not be saved), or the other host is not an UnaMentis server. */
  | 'failed'
  /** The other host's own error answer, passed on as it came (`peer`). */
  | 'peer';

export class PairingError extends Error {
  constructor(
    readonly kind: PairingErrorKind,
    message: string,
    /** The request field at fault. */
    readonly field?: string,
    /** For `peer`: the other host's error code and HTTP status. */
    readonly peer?: { code: ErrorCode; status: number },
  ) {
    super(message);
    this.name = 'PairingError';
  }
}
