// The pairing handshake's two sides, without sockets: the responder (the host that shows the code)
// keeps at most one pending request, with its expiry, failure count and lock-out; the initiator
// (where the user types the code) computes its share and confirmation. Time is injected.
//
//   A → B  request {A's card}                 B: new code (shown to B's user), sid, B's share Yb
//   B → A  {sid, B's card, Yb}
//   user types the code on A
//   A → B  finish {sid, Ya, macA, boxA}         B: checks macA (a wrong one counts; 5 lock)
//   B → A  {macB, boxB}                        A: checks macB (B proves it knows the code too)

import { randomBytes } from 'node:crypto';
import type { Role } from '../contract.js';
import {
  cpaceKey,
  cpaceShare,
  hmac,
  newCode,
  sessionKeys,
  tagsEqual,
  transcript,
  type CpaceContext,
  type CpaceShare,
  type SessionKeys,
} from './crypto.js';

/** What a host says about itself when pairing (public: no secrets). */
export interface HostCard {
  id: string;
  name: string;
  role: Role;
  prio: number;
  /** Its control port (API and heartbeats). */
  port: number;
  pairId: string | null;
}

export const CODE_TTL_MS = 120_000;
export const MAX_FAILURES = 5;
export const LOCK_MS = 10 * 60_000;

export interface Incoming {
  sid: Buffer;
  code: string;
  from: HostCard;
  /** The address the request came from (where we will send heartbeats). */
  address: string;
  createdAt: number;
  expiresAt: number;
  failures: number;
  share: CpaceShare;
}

export type FinishResult =
  | { ok: true; incoming: Incoming; keys: SessionKeys; transcript: Buffer }
  | { ok: false; reason: 'none' | 'expired' | 'locked' | 'mismatch' | 'malformed'; attemptsLeft: number; locked: boolean; message: string };

/** The responder's desk: one request at a time, 2-minute codes, 5 wrong codes lock pairing. */
export class Responder {
  #incoming: Incoming | null = null;
  #lockedUntil: number | null = null;

  constructor(
    private readonly me: () => { id: string },
    private readonly now: () => number,
    private readonly opts: { ttlMs?: number; maxFailures?: number; lockMs?: number; code?: () => string } = {},
  ) {}

  get ttlMs(): number {
    return this.opts.ttlMs ?? CODE_TTL_MS;
  }

  get maxFailures(): number {
    return this.opts.maxFailures ?? MAX_FAILURES;
  }

  /** The pending request, if it has not expired. */
  pending(): Incoming | null {
    if (this.#incoming && this.now() >= this.#incoming.expiresAt) this.#incoming = null;
    return this.#incoming;
  }

  /** Milliseconds of lock-out left, or 0. */
  lockedFor(): number {
    if (this.#lockedUntil === null) return 0;
    const left = this.#lockedUntil - this.now();
    if (left <= 0) this.#lockedUntil = null;
    return Math.max(0, left);
  }

  /** A new request. Refused while locked, or while another request is pending. */
  request(from: HostCard, address: string): { ok: true; incoming: Incoming } | { ok: false; reason: 'locked' | 'busy'; message: string } {
    const locked = this.lockedFor();
    if (locked > 0) {
      return {
        ok: false,
        reason: 'locked',
        message: `Pairing is locked for ${Math.ceil(locked / 60_000)} more minute(s) after ${this.maxFailures} wrong codes. The user of this host can unlock it.`,
      };
    }
    const current = this.pending();
    if (current) {
      return { ok: false, reason: 'busy', message: `This host is already pairing with ${current.from.name}; try again in ${Math.ceil((current.expiresAt - this.now()) / 1000)} s or cancel it there.` };
    }
    const sid = randomBytes(16);
    const code = (this.opts.code ?? newCode)();
    const ctx: CpaceContext = { sid, initiator: from.id, responder: this.me().id };
    const now = this.now();
    this.#incoming = { sid, code, from, address, createdAt: now, expiresAt: now + this.ttlMs, failures: 0, share: cpaceShare(code, ctx) };
    return { ok: true, incoming: this.#incoming };
  }

  /** The initiator's confirmation. A wrong one counts; the last allowed one locks pairing. */
  finish(sidB64: string, fromId: string, initiatorShare: Buffer, mac: Buffer): FinishResult {
    const fail = (reason: Exclude<FinishResult, { ok: true }>['reason'], message: string, locked = false): FinishResult => ({
      ok: false,
      reason,
      attemptsLeft: this.#incoming ? this.maxFailures - this.#incoming.failures : 0,
      locked,
      message,
    });
    if (this.lockedFor() > 0) return fail('locked', 'Pairing is locked after too many wrong codes.', true);
    const inc = this.pending();
    if (!inc || inc.sid.toString('base64') !== sidB64 || inc.from.id !== fromId) {
      return fail('none', 'No such pairing request here (it expired, was cancelled or replaced). Start again.');
    }
    const ctx: CpaceContext = { sid: inc.sid, initiator: inc.from.id, responder: this.me().id };
    const shares = { initiator: initiatorShare, responder: inc.share.share };
    let keys: SessionKeys;
    try {
      keys = sessionKeys(cpaceKey(inc.share, initiatorShare, ctx, shares), inc.sid);
    } catch {
      // An invalid group element is an attack or a bug, never a typo: it counts like a wrong code.
      return this.#failure('malformed', 'The pairing message was malformed.');
    }
    const t = transcript(ctx, shares);
    if (!tagsEqual(hmac(keys.confirmInitiator, t), mac)) {
      return this.#failure('mismatch', 'Wrong code.');
    }
    this.#incoming = null;
    return { ok: true, incoming: inc, keys, transcript: t };
  }

  #failure(reason: 'mismatch' | 'malformed', what: string): FinishResult {
    const inc = this.#incoming!;
    inc.failures += 1;
    const left = this.maxFailures - inc.failures;
    if (left <= 0) {
      this.#incoming = null;
      this.#lockedUntil = this.now() + (this.opts.lockMs ?? LOCK_MS);
      return { ok: false, reason, attemptsLeft: 0, locked: true, message: `${what} That was the ${this.maxFailures}th wrong attempt: pairing is locked.` };
    }
    return { ok: false, reason, attemptsLeft: left, locked: false, message: `${what} ${left} attempt(s) left.` };
  }

  /** The local user cancels the request and lifts a lock-out. */
  cancel(): void {
    this.#incoming = null;
    this.#lockedUntil = null;
  }
}

/** The initiator's half, once the user typed the code. */
export function initiatorFinish(
  code: string,
  sid: Buffer,
  me: string,
  peer: string,
  responderShare: Buffer,
): { share: Buffer; keys: SessionKeys; mac: Buffer; expectResponderMac: Buffer } {
  const ctx: CpaceContext = { sid, initiator: me, responder: peer };
  const own = cpaceShare(code, ctx);
  const shares = { initiator: own.share, responder: responderShare };
  const keys = sessionKeys(cpaceKey(own, responderShare, ctx, shares), sid);
  const t = transcript(ctx, shares);
  return { share: own.share, keys, mac: hmac(keys.confirmInitiator, t), expectResponderMac: hmac(keys.confirmResponder, t) };
}
