// Heartbeat datagrams between paired hosts (UDP on the control port number), pure: encoding,
// strict decoding, HMAC-SHA256 authentication with the pair's heartbeat key, and the replay guard.
//
// Datagram: "UMHB1" | HMAC-SHA256(key, "UMHB1" | json) (32 bytes) | json
// json: {v, from, to, boot, seq, ts, echo, name, role, port, pairId, advert}
//  - boot: random per run of the sender; seq: strictly increasing within a boot.
//  - echo: the receiver's own boot, as the sender last heard it. The receiver accepts a heartbeat
//    only when echo is its current boot, so nothing recorded before it started can be replayed to
//    it; within its run, (boot, seq) must move forward, and a boot once superseded is never again
//    accepted. Clock-free: the hosts' clocks need not agree.
//  - epoch: greater for every run of the sender than for any earlier one (persisted in the data dir,
//    `nextBootEpoch`). The guard above lives in memory, so after both hosts restarted, heartbeats
//    recorded from an earlier run looked new: their `boot` had never been seen (issue #20: seven of
//    them replayed at host A made A echo a dead boot to B, B stopped hearing A, both served). Now a
//    heartbeat whose epoch is below the newest seen from that peer, or another boot in that same
//    epoch, is a replay, before and after the echo is confirmed.

import fs from 'node:fs';
import path from 'node:path';
import { HIBERNATION_STATES, type HibernationState, type Role } from '../contract.js';
import { hmac, tagsEqual } from './crypto.js';
import type { Advert } from './election.js';

export const MAGIC = Buffer.from('UMHB1', 'ascii');
const MAX_DATAGRAM = 1200;
const TAG = 32;

export interface Heartbeat {
  v: 1;
  from: string;
  to: string;
  boot: string;
  /** Orders the sender's runs (see the header); 0 from a sender that predates it. */
  epoch: number;
  seq: number;
  /** Sender's wall clock (ms), for display only. */
  ts: number;
  echo: string | null;
  name: string;
  role: Role;
  port: number;
  pairId: string | null;
  advert: Advert;
}

export function encodeHeartbeat(hb: Heartbeat, key: Buffer): Buffer {
  const body = Buffer.from(JSON.stringify(hb), 'utf8');
  const tag = hmac(key, Buffer.concat([MAGIC, body]));
  return Buffer.concat([MAGIC, tag, body]);
}

export type DecodeResult =
  | { ok: true; hb: Heartbeat }
  | { ok: false; reason: 'malformed' | 'unauthenticated'; detail: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BOOT = /^[0-9a-f]{16}$/;

/**
 * Parses and authenticates a datagram. `keyFor(from)` gives the heartbeat key of a paired peer (null
 * for a stranger). Anything short of a valid tag from a paired peer, addressed to `me`, is refused.
 */
export function decodeHeartbeat(
  buf: Buffer,
  keyFor: (from: string) => Buffer | null,
  me: string,
): DecodeResult {
  const bad = (detail: string): DecodeResult => ({ ok: false, reason: 'malformed', detail });
  if (buf.length > MAX_DATAGRAM) return bad('too large');
  if (buf.length < MAGIC.length + TAG + 2 || !buf.subarray(0, MAGIC.length).equals(MAGIC))
    return bad('not a heartbeat');
  const tag = buf.subarray(MAGIC.length, MAGIC.length + TAG);
  const body = buf.subarray(MAGIC.length + TAG);
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    return bad('not JSON');
  }
  const hb = validate(raw);
  if (typeof hb === 'string') return bad(hb);
  const key = keyFor(hb.from);
  if (!key) return { ok: false, reason: 'unauthenticated', detail: 'not from a paired host' };
  if (!tagsEqual(hmac(key, Buffer.concat([MAGIC, body])), tag))
    return { ok: false, reason: 'unauthenticated', detail: 'bad tag' };
  if (hb.to !== me)
    return { ok: false, reason: 'unauthenticated', detail: 'addressed to another host' };
  return { ok: true, hb };
}

function validate(v: unknown): Heartbeat | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const o = v as Record<string, unknown>;
  if (o.v !== 1) return 'unsupported version';
  if (typeof o.from !== 'string' || !UUID.test(o.from)) return 'from';
  if (typeof o.to !== 'string' || !UUID.test(o.to)) return 'to';
  if (typeof o.boot !== 'string' || !BOOT.test(o.boot)) return 'boot';
  if (o.epoch !== undefined && (!Number.isSafeInteger(o.epoch) || (o.epoch as number) < 0))
    return 'epoch';
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 0) return 'seq';
  if (typeof o.ts !== 'number' || !Number.isFinite(o.ts)) return 'ts';
  if (o.echo !== null && (typeof o.echo !== 'string' || !BOOT.test(o.echo))) return 'echo';
  if (typeof o.name !== 'string' || o.name.length > 255) return 'name';
  if (o.role !== 'primary' && o.role !== 'fallback') return 'role';
  if (!Number.isInteger(o.port) || (o.port as number) < 1 || (o.port as number) > 65535)
    return 'port';
  if (o.pairId !== null && (typeof o.pairId !== 'string' || o.pairId.length > 64)) return 'pairId';
  const a = o.advert as Record<string, unknown> | null;
  if (typeof a !== 'object' || a === null) return 'advert';
  if (!Number.isInteger(a.prio) || (a.prio as number) < 0 || (a.prio as number) > 255)
    return 'advert.prio';
  for (const k of ['ready', 'failed', 'serving', 'claim', 'eligible'] as const)
    if (typeof a[k] !== 'boolean') return `advert.${k}`;
  if (!(HIBERNATION_STATES as readonly string[]).includes(a.state as string)) return 'advert.state';
  if (
    a.activityAgeMs !== null &&
    (typeof a.activityAgeMs !== 'number' ||
      !(a.activityAgeMs >= 0) ||
      !Number.isFinite(a.activityAgeMs))
  ) {
    return 'advert.activityAgeMs';
  }
  return {
    v: 1,
    from: o.from.toLowerCase(),
    to: o.to.toLowerCase(),
    boot: o.boot,
    epoch: (o.epoch as number | undefined) ?? 0,
    seq: o.seq as number,
    ts: o.ts,
    echo: o.echo as string | null,
    name: o.name,
    role: o.role,
    port: o.port as number,
    pairId: o.pairId as string | null,
    advert: {
      prio: a.prio as number,
      ready: a.ready as boolean,
      failed: a.failed as boolean,
      state: a.state as HibernationState,
      serving: a.serving as boolean,
      claim: a.claim as boolean,
      eligible: a.eligible as boolean,
      activityAgeMs: a.activityAgeMs as number | null,
    },
  };
}

export type ReplayVerdict = 'ok' | 'replayed' | 'unconfirmed';

const MAX_RETIRED = 64;

/** Per-peer freshness: see the header. `myBoot` is this run's boot id. */
export class ReplayGuard {
  readonly #peers = new Map<string, { boot: string; seq: number; retired: string[] }>();
  /** The newest run heard from each peer (authenticated, confirmed or not). */
  readonly #newest = new Map<string, { epoch: number; boot: string }>();

  constructor(private readonly myBoot: string) {}

  check(hb: Pick<Heartbeat, 'from' | 'boot' | 'seq' | 'echo'> & { epoch?: number }): ReplayVerdict {
    const epoch = hb.epoch ?? 0;
    const n = this.#newest.get(hb.from);
    // An earlier run, or a second boot in one run (epoch 0 is a sender without epochs: not ordered).
    if (n && (epoch < n.epoch || (epoch === n.epoch && epoch > 0 && hb.boot !== n.boot)))
      return 'replayed';
    if (!n || epoch > n.epoch) this.#newest.set(hb.from, { epoch, boot: hb.boot });
    const p = this.#peers.get(hb.from);
    if (p && (p.retired.includes(hb.boot) || (p.boot === hb.boot && hb.seq <= p.seq)))
      return 'replayed';
    // Not provably made after we started: possibly recorded earlier. Also what a peer sends until it hears us.
    if (hb.echo !== this.myBoot) return 'unconfirmed';
    if (!p) this.#peers.set(hb.from, { boot: hb.boot, seq: hb.seq, retired: [] });
    else if (p.boot === hb.boot) p.seq = hb.seq;
    else {
      p.retired.push(p.boot);
      if (p.retired.length > MAX_RETIRED) p.retired.shift();
      p.boot = hb.boot;
      p.seq = hb.seq;
    }
    return 'ok';
  }

  forget(peer: string): void {
    this.#peers.delete(peer);
    this.#newest.delete(peer);
  }
}

export const EPOCH_FILE = 'heartbeat-epoch';

/**
 * This run's epoch: one more than the last run's on this data dir, and never below the wall clock in
 * ms, so a lost or unwritable file still moves forward (unless the clock went back as well). Written
 * before the first heartbeat (temp file + rename, 0600); a failed write is returned, not thrown.
 */
export function nextBootEpoch(
  dataDir: string,
  now = Date.now(),
): { epoch: number; error: Error | null } {
  const file = path.join(dataDir, EPOCH_FILE);
  let last = 0;
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    if (Number.isSafeInteger(n) && n > 0) last = n;
  } catch {
    // first run, or unreadable: the clock alone decides
  }
  const epoch = Math.max(last + 1, Math.floor(now));
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, `${epoch}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
    return { epoch, error: null };
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    return { epoch, error: err as Error };
  }
}
