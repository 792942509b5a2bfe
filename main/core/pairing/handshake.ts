// The pairing handshake's two sides, without sockets: the responder (the host that shows the code)
// keeps the pending requests, one per requester address, with expiry, failure counts and lock-outs
// per address; the initiator
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

const CODE_TTL_MS = 120_000;
const MAX_FAILURES = 5;
const LOCK_MS = 10 * 60_000;
/** Requests pending at once, each from its own address. */
const MAX_PENDING = 4;

export interface Incoming {
  sid: Buffer;
  code: string;
  from: HostCard;
  /** The address the request came from (where we will send heartbeats); `finish` must come from it too. */
  address: string;
  createdAt: number;
  expiresAt: number;
  /** Wrong codes from this address so far (they count across its requests until a lock-out). */
  failures: number;
  share: CpaceShare;
}

export type FinishResult =
  | { ok: true; incoming: Incoming; keys: SessionKeys; transcript: Buffer }
  | {
      ok: false;
      reason: 'none' | 'expired' | 'locked' | 'mismatch' | 'malformed';
      attemptsLeft: number;
      locked: boolean;
      message: string;
    };

/**
 * The responder's desk, per requester address (issue #20: with one global slot and one global
 * lock-out, anyone on the LAN could hold the slot for 2 minutes under a name of their choosing,
 * lock pairing for 10 minutes with 5 bad `finish`es, and void the user's request by replaying its
 * `sid` from elsewhere). Now: one pending request per address and `MAX_PENDING` in all; 2-minute
 * codes; a `finish` counts only from the address that made the request, with its `sid`; 5 wrong
 * codes lock that address alone for 10 minutes. The local user sees every request and lock-out.
 */
export class Responder {
  readonly #incoming = new Map<string, Incoming>();
  readonly #failures = new Map<string, number>();
  readonly #locks = new Map<string, number>();

  constructor(
    private readonly me: () => { id: string },
    private readonly now: () => number,
    private readonly opts: {
      ttlMs?: number;
      maxFailures?: number;
      lockMs?: number;
      maxPending?: number;
      code?: () => string;
    } = {},
  ) {}

  get ttlMs(): number {
    return this.opts.ttlMs ?? CODE_TTL_MS;
  }

  get maxFailures(): number {
    return this.opts.maxFailures ?? MAX_FAILURES;
  }

  /** Every pending request that has not expired, oldest first. */
  all(): Incoming[] {
    const now = this.now();
    for (const [address, inc] of this.#incoming)
      if (now >= inc.expiresAt) this.#incoming.delete(address);
    return [...this.#incoming.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** The newest pending request, if any. */
  pending(): Incoming | null {
    return this.all().at(-1) ?? null;
  }

  /** Milliseconds of lock-out left for `address`, or without one the longest of any address; 0 = none. */
  lockedFor(address?: string): number {
    const now = this.now();
    for (const [a, until] of this.#locks) if (until <= now) this.#locks.delete(a);
    if (address !== undefined) return Math.max(0, (this.#locks.get(address) ?? now) - now);
    return Math.max(0, ...[...this.#locks.values()].map((u) => u - now));
  }

  /** Addresses locked out now, with the milliseconds left. */
  lockedOut(): { address: string; forMs: number }[] {
    this.lockedFor();
    const now = this.now();
    return [...this.#locks].map(([address, until]) => ({ address, forMs: until - now }));
  }

  /** Wrong codes `address` may still send before it is locked out. */
  attemptsLeft(address: string): number {
    return this.maxFailures - (this.#failures.get(address) ?? 0);
  }

  /** A new request from `address` (replacing its own earlier one). Refused while it is locked out, or all slots are taken. */
  request(
    from: HostCard,
    address: string,
  ): { ok: true; incoming: Incoming } | { ok: false; reason: 'locked' | 'busy'; message: string } {
    const locked = this.lockedFor(address);
    if (locked > 0) {
      return {
        ok: false,
        reason: 'locked',
        message: `Pairing from ${address} is locked for ${Math.ceil(locked / 60_000)} more minute(s) after ${this.maxFailures} wrong codes. The user of this host can unlock it.`,
      };
    }
    const others = this.all().filter((i) => i.address !== address);
    const max = this.opts.maxPending ?? MAX_PENDING;
    if (others.length >= max) {
      const soonest = Math.min(...others.map((i) => i.expiresAt));
      return {
        ok: false,
        reason: 'busy',
        message: `This host already has ${max} pairing requests pending; try again in ${Math.ceil((soonest - this.now()) / 1000)} s, or cancel them there.`,
      };
    }
    const sid = randomBytes(16);
    const code = (this.opts.code ?? newCode)();
    const ctx: CpaceContext = { sid, initiator: from.id, responder: this.me().id };
    const now = this.now();
    const inc: Incoming = {
      sid,
      code,
      from,
      address,
      createdAt: now,
      expiresAt: now + this.ttlMs,
      failures: this.#failures.get(address) ?? 0,
      share: cpaceShare(code, ctx),
    };
    this.#incoming.delete(address); // a replaced request goes to the end: it is the newest
    this.#incoming.set(address, inc);
    return { ok: true, incoming: inc };
  }

  /**
   * The initiator's confirmation, from `address`. Only the request made from that address, with its
   * `sid`, is looked at; a wrong code counts against that address, and its last allowed one locks it.
   */
  finish(
    sidB64: string,
    fromId: string,
    initiatorShare: Buffer,
    mac: Buffer,
    address: string,
  ): FinishResult {
    const fail = (
      reason: Exclude<FinishResult, { ok: true }>['reason'],
      message: string,
      locked = false,
    ): FinishResult => ({
      ok: false,
      reason,
      attemptsLeft: this.attemptsLeft(address),
      locked,
      message,
    });
    if (this.lockedFor(address) > 0)
      return fail(
        'locked',
        'Pairing from this address is locked after too many wrong codes.',
        true,
      );
    this.all();
    const inc = this.#incoming.get(address);
    if (!inc || inc.sid.toString('base64') !== sidB64 || inc.from.id !== fromId) {
      return fail(
        'none',
        'No such pairing request from this address (it expired, was cancelled or replaced). Start again.',
      );
    }
    const ctx: CpaceContext = { sid: inc.sid, initiator: inc.from.id, responder: this.me().id };
    const shares = { initiator: initiatorShare, responder: inc.share.share };
    let keys: SessionKeys;
    try {
      keys = sessionKeys(cpaceKey(inc.share, initiatorShare, ctx, shares), inc.sid);
    } catch {
      // An invalid group element is an attack or a bug, never a typo: it counts like a wrong code.
      return this.#failure(inc, 'malformed', 'The pairing message was malformed.');
    }
    const t = transcript(ctx, shares);
    if (!tagsEqual(hmac(keys.confirmInitiator, t), mac)) {
      return this.#failure(inc, 'mismatch', 'Wrong code.');
    }
    this.#incoming.delete(address);
    this.#failures.delete(address);
    return { ok: true, incoming: inc, keys, transcript: t };
  }

  #failure(inc: Incoming, reason: 'mismatch' | 'malformed', what: string): FinishResult {
    const failures = (this.#failures.get(inc.address) ?? 0) + 1;
    inc.failures = failures;
    const left = this.maxFailures - failures;
    if (left <= 0) {
      this.#incoming.delete(inc.address);
      this.#failures.delete(inc.address);
      this.#locks.set(inc.address, this.now() + (this.opts.lockMs ?? LOCK_MS));
      return {
        ok: false,
        reason,
        attemptsLeft: 0,
        locked: true,
        message: `${what} That was the ${this.maxFailures}th wrong attempt: pairing from this address is locked.`,
      };
    }
    this.#failures.set(inc.address, failures);
    return {
      ok: false,
      reason,
      attemptsLeft: left,
      locked: false,
      message: `${what} ${left} attempt(s) left.`,
    };
  }

  /** The local user cancels every request and lifts every lock-out. */
  cancel(): void {
    this.#incoming.clear();
    this.#failures.clear();
    this.#locks.clear();
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
  return {
    share: own.share,
    keys,
    mac: hmac(keys.confirmInitiator, t),
    expectResponderMac: hmac(keys.confirmResponder, t),
  };
}
