// The cryptography of pairing, in one place (see README.md beside this file for the protocol and
// why it is safe). Nothing here is home-made: the group is ristretto255 from @noble/curves (audited),
// with RFC 9380 hash-to-curve; hashing, HKDF, HMAC and AES-256-GCM come from node:crypto. What this
// file adds is the CPace message flow (draft-irtf-cfrg-cpace) and the key schedule. Pure apart from
// randomness, which callers may inject for tests.

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from 'node:crypto';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';

const Point = ristretto255.Point;
type RPoint = InstanceType<typeof Point>;

const DSI = 'CPaceRistretto255';
const H2C_DST = 'CPaceRistretto255_XMD:SHA-512_R255MAP_RO_unamentis-pair-v1';
const CODE_DIGITS = 6;

/** A 6-digit code, uniformly random (leading zeros kept). */
export function newCode(rand: (max: number) => number = randomInt): string {
  return String(rand(10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
}

export function isCode(s: unknown): s is string {
  return typeof s === 'string' && new RegExp(`^\\d{${CODE_DIGITS}}$`).test(s);
}

/** Length-value concatenation: each part prefixed by its length (no ambiguity between parts). */
function lv(...parts: (Buffer | string)[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    const b = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    out.push(len, b);
  }
  return Buffer.concat(out);
}

export interface CpaceContext {
  /** Session id chosen by the responder (random, 16 bytes). */
  sid: Buffer;
  /** Host ids of the initiator (the host the code is typed into) and the responder (shows it). */
  initiator: string;
  responder: string;
}

/** The code-dependent generator: nobody knows its discrete log relative to another code's. */
function generator(code: string, c: CpaceContext): RPoint {
  const msg = lv(DSI, code, `${c.initiator}|${c.responder}`, c.sid);
  return ristretto255_hasher.hashToCurve(msg, { DST: H2C_DST }) as RPoint;
}

export interface CpaceShare {
  scalar: bigint;
  /** Y = y·G(code), 32 bytes, sent to the other side. */
  share: Buffer;
}

/** One side's ephemeral share for `code`. */
export function cpaceShare(
  code: string,
  c: CpaceContext,
  rand: (n: number) => Buffer = randomBytes,
): CpaceShare {
  const order = Point.Fn.ORDER;
  let scalar = 0n;
  while (scalar === 0n) scalar = BigInt(`0x${rand(64).toString('hex')}`) % order;
  return { scalar, share: Buffer.from(generator(code, c).multiply(scalar).toBytes()) };
}

/** Decodes a peer's share; throws on anything that is not a canonical, non-identity group element. */
export function decodeShare(bytes: Buffer): RPoint {
  if (bytes.length !== 32) throw new Error('share must be 32 bytes');
  const p = Point.fromBytes(new Uint8Array(bytes));
  if (p.is0()) throw new Error('share is the identity element');
  return p;
}

/**
 * The intermediate session key. `ya`/`yb` are the initiator's and responder's shares (bytes as sent).
 * Throws when the peer's share is invalid or the shared point is the identity.
 */
export function cpaceKey(
  own: CpaceShare,
  peerShare: Buffer,
  c: CpaceContext,
  shares: { initiator: Buffer; responder: Buffer },
): Buffer {
  const k = decodeShare(peerShare).multiply(own.scalar);
  if (k.is0()) throw new Error('shared point is the identity element');
  return createHash('sha512')
    .update(
      lv(
        `${DSI}_ISK`,
        c.sid,
        Buffer.from(k.toBytes()),
        shares.initiator,
        c.initiator,
        shares.responder,
        c.responder,
      ),
    )
    .digest();
}

export interface SessionKeys {
  /** HMAC key of the initiator's confirmation, and of the responder's. */
  confirmInitiator: Buffer;
  confirmResponder: Buffer;
  /** AES-256-GCM keys of the payload each side sends. */
  boxInitiator: Buffer;
  boxResponder: Buffer;
  /** The long-term key of this pair of hosts (stored in settings). */
  pairKey: Buffer;
}

export function sessionKeys(isk: Buffer, sid: Buffer): SessionKeys {
  const k = (label: string) => derive(isk, `unamentis pair v1 ${label}`, sid);
  return {
    confirmInitiator: k('confirm initiator'),
    confirmResponder: k('confirm responder'),
    boxInitiator: k('box initiator'),
    boxResponder: k('box responder'),
    pairKey: k('pair key'),
  };
}

/** HKDF-SHA256 → 32 bytes. */
function derive(key: Buffer, info: string, salt: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.from(hkdfSync('sha256', key, salt, info, 32));
}

/** Keys used with a stored pair key, one per purpose. */
export function peerKeys(pairKey: Buffer): { heartbeat: Buffer; rpc: Buffer } {
  return {
    heartbeat: derive(pairKey, 'unamentis heartbeat v1'),
    rpc: derive(pairKey, 'unamentis rpc v1'),
  };
}

/** The transcript both confirmations cover. */
export function transcript(
  c: CpaceContext,
  shares: { initiator: Buffer; responder: Buffer },
): Buffer {
  return lv(
    'unamentis pair v1 transcript',
    c.sid,
    c.initiator,
    c.responder,
    shares.initiator,
    shares.responder,
  );
}

export function hmac(key: Buffer, data: Buffer | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Constant-time tag comparison. */
export function tagsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface Box {
  iv: string;
  data: string;
}

/** AES-256-GCM over JSON; `aad` binds the box to its context (session, sender, recipient). */
export function seal(key: Buffer, value: unknown, aad: string): Box {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(JSON.stringify(value), 'utf8'), c.final(), c.getAuthTag()]);
  return { iv: iv.toString('base64'), data: ct.toString('base64') };
}

/** Opens a box; throws when it was not made with this key and aad (or was altered). */
export function open(key: Buffer, box: unknown, aad: string): unknown {
  if (typeof box !== 'object' || box === null) throw new Error('box missing');
  const { iv, data } = box as Partial<Box>;
  if (typeof iv !== 'string' || typeof data !== 'string') throw new Error('box malformed');
  const ivb = Buffer.from(iv, 'base64');
  const all = Buffer.from(data, 'base64');
  if (ivb.length !== 12 || all.length < 16) throw new Error('box malformed');
  const d = createDecipheriv('aes-256-gcm', key, ivb);
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(all.subarray(all.length - 16));
  const pt = Buffer.concat([d.update(all.subarray(0, all.length - 16)), d.final()]);
  return JSON.parse(pt.toString('utf8'));
}

/** Strict base64 of an expected byte length, or null. */
export function b64(s: unknown, bytes: number): Buffer | null {
  if (typeof s !== 'string' || s.length > 4 * Math.ceil(bytes / 3) + 4) return null;
  const b = Buffer.from(s, 'base64');
  return b.length === bytes && b.toString('base64') === s ? b : null;
}
