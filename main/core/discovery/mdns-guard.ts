// What an mDNS packet may cost us before any library decodes it. @homebridge/ciao 1.3.12 decodes names
// recursively with no 255-octet limit, on the main thread: one 8.9 KB response whose 592 names each
// point to the previous one held the event loop 230 ms (issue #20). `precheckMdns` walks the packet
// once, without building strings, and refuses what no real responder sends: names over 255 octets
// (RFC 1035 §3.1), pointers that do not point backwards or chain more than `maxPointers` times,
// label types other than plain and pointer, more than `maxRecords` records, and more expanded name
// octets in total than `maxNameWork`. `MdnsGate` adds token buckets per source address and for all
// sources together, so even well-formed floods cannot keep the decoders busy. Pure; clock injected.

/** `UNAMENTIS_MDNS_GUARD=off` lets packets through unchecked: only for the bench's baseline row. */
export function mdnsGuardOn(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.UNAMENTIS_MDNS_GUARD !== 'off';
}

export interface MdnsLimits {
  /** RFC 1035 §3.1: a name is at most 255 octets, length bytes and the root included. */
  maxNameOctets: number;
  /** Compression pointers followed for one name (real encoders: 1, at most one per label). */
  maxPointers: number;
  /** Questions + answers + authorities + additionals. */
  maxRecords: number;
  /** Octets of all names of the packet once expanded: what the decoders will copy. */
  maxNameWork: number;
  /** Pointers followed for all names of the packet (ciao recurses and concatenates per pointer). */
  maxPointerWork: number;
}

/**
 * A 9 KB packet of real records (Apple's largest answers: ~60 records of ~40-octet names) stays far
 * below these; the hostile chain of issue #20 expands to 175,000 octets through 175,000 pointers. Within these
 * limits ciao decodes the costliest packet in under 1 ms (test/unit/discovery-guard.test.ts).
 */
export const MDNS_LIMITS: MdnsLimits = {
  maxNameOctets: 255,
  maxPointers: 32,
  maxRecords: 256,
  maxNameWork: 24_576,
  maxPointerWork: 1_024,
};

/** Record types whose RDATA holds a name the decoders expand: [type, offset of the name(s)]. */
const NAMES_IN_RDATA: ReadonlyMap<number, number[]> = new Map([
  [2, [0]], // NS
  [5, [0]], // CNAME
  [6, [0, -1]], // SOA: mname, then rname right after it
  [12, [0]], // PTR
  [15, [2]], // MX
  [33, [6]], // SRV
  [47, [0]], // NSEC: next domain name
]);

class MdnsRejected extends Error {}

/** Reasons that are about cost (a well-formed packet no real responder sends); the others mean malformed. */
export const COSTLY: ReadonlySet<string> = new Set([
  'too many records',
  'too many pointers',
  'name too long',
  'names too costly',
]);

/** Null when the packet may go to a decoder, else why not (for the counters). */
export function precheckMdns(buf: Uint8Array, limits: MdnsLimits = MDNS_LIMITS): string | null {
  try {
    walk(buf, limits);
    return null;
  } catch (err) {
    if (err instanceof MdnsRejected) return err.message;
    throw err;
  }
}

function walk(buf: Uint8Array, limits: MdnsLimits): void {
  if (buf.length < 12) throw new MdnsRejected('truncated header');
  const byte = (at: number): number => buf[at] ?? 0; // callers check the bounds first
  const u16 = (at: number): number => {
    if (at + 2 > buf.length) throw new MdnsRejected('truncated');
    return (byte(at) << 8) | byte(at + 1);
  };
  const questions = u16(4);
  const records = u16(6) + u16(8) + u16(10);
  if (questions + records > limits.maxRecords) throw new MdnsRejected('too many records');
  let work = 0;
  let pointerWork = 0;
  // Returns the offset just after the name where it starts (its wire length), checking its expansion.
  const name = (start: number): number => {
    let at = start;
    let end = -1;
    let octets = 1; // the root label
    let hops = 0;
    let lowest = start; // pointers must point before every place this name was read from
    for (;;) {
      if (at >= buf.length) throw new MdnsRejected('truncated name');
      const len = byte(at);
      if (len === 0) {
        if (end < 0) end = at + 1;
        break;
      }
      const kind = len & 0xc0;
      if (kind === 0xc0) {
        if (at + 1 >= buf.length) throw new MdnsRejected('truncated pointer');
        const target = ((len & 0x3f) << 8) | byte(at + 1);
        if (end < 0) end = at + 2;
        if (target >= lowest) throw new MdnsRejected('pointer not backwards');
        if (++hops > limits.maxPointers) throw new MdnsRejected('too many pointers');
        if (++pointerWork > limits.maxPointerWork) throw new MdnsRejected('names too costly');
        at = lowest = target;
        continue;
      }
      if (kind !== 0) throw new MdnsRejected('bad label type');
      octets += len + 1;
      if (octets > limits.maxNameOctets) throw new MdnsRejected('name too long');
      at += len + 1;
    }
    work += octets;
    if (work > limits.maxNameWork) throw new MdnsRejected('names too costly');
    return end;
  };
  let at = 12;
  for (let i = 0; i < questions; i++) {
    at = name(at) + 4;
    if (at > buf.length) throw new MdnsRejected('truncated question');
  }
  for (let i = 0; i < records; i++) {
    at = name(at);
    const type = u16(at);
    const rdlength = u16(at + 8);
    const rdata = at + 10;
    at = rdata + rdlength;
    if (at > buf.length) throw new MdnsRejected('truncated record');
    const inRdata = NAMES_IN_RDATA.get(type);
    if (!inRdata) continue;
    let next = rdata;
    for (const offset of inRdata) {
      const where = offset < 0 ? next : rdata + offset;
      if (where >= at) throw new MdnsRejected('truncated record');
      next = name(where);
      if (next > at) throw new MdnsRejected('name beyond its record');
    }
  }
}

export interface MdnsRates {
  /** Packets one source address may send in a burst, and per second after it. */
  perSource: { burst: number; perSecond: number };
  /** All sources together (source addresses are trivially spoofed on a LAN). */
  total: { burst: number; perSecond: number };
}

/** A busy home LAN sends a few packets per second per device; the total leaves room for dozens. */
const MDNS_RATES: MdnsRates = {
  perSource: { burst: 40, perSecond: 20 },
  total: { burst: 400, perSecond: 200 },
};

interface Bucket {
  tokens: number;
  at: number;
}

export type MdnsVerdict = 'ok' | 'rate' | string;

/** One gate per process for every mDNS socket we own (ciao's and the browser's see the same packets). */
export class MdnsGate {
  readonly #sources = new Map<string, Bucket>();
  readonly #total: Bucket;
  readonly counters: Record<string, number> = {};

  constructor(
    private readonly now: () => number = Date.now,
    private readonly rates: MdnsRates = MDNS_RATES,
    private readonly limits: MdnsLimits = MDNS_LIMITS,
    private readonly maxSources = 4_096,
  ) {
    this.#total = { tokens: rates.total.burst, at: now() };
  }

  /** 'ok' when `buf` from `source` may be decoded; otherwise the reason it was dropped (also counted). */
  check(buf: Uint8Array, source: string): MdnsVerdict {
    const now = this.now();
    const verdict = this.#take(source, now) ? (precheckMdns(buf, this.limits) ?? 'ok') : 'rate';
    if (verdict !== 'ok') this.counters[verdict] = (this.counters[verdict] ?? 0) + 1;
    return verdict;
  }

  #take(source: string, now: number): boolean {
    refill(this.#total, this.rates.total, now);
    // Loopback cannot be sent from the LAN (the kernel drops it as martian); hosts and tests sharing
    // 127.0.0.1 would otherwise share one source's budget. The total still applies.
    if (isLoopback(source)) {
      if (this.#total.tokens < 1) return false;
      this.#total.tokens -= 1;
      return true;
    }
    let b = this.#sources.get(source);
    if (!b) {
      if (this.#sources.size >= this.maxSources) this.#prune(now);
      b = { tokens: this.rates.perSource.burst, at: now };
      this.#sources.set(source, b);
    }
    refill(b, this.rates.perSource, now);
    if (b.tokens < 1 || this.#total.tokens < 1) return false;
    b.tokens -= 1;
    this.#total.tokens -= 1;
    return true;
  }

  #prune(now: number): void {
    for (const [key, b] of this.#sources) {
      refill(b, this.rates.perSource, now);
      if (b.tokens >= this.rates.perSource.burst) this.#sources.delete(key);
    }
    // Still full (a scan of spoofed addresses): forget the oldest; the total bucket still holds.
    for (const key of this.#sources.keys()) {
      if (this.#sources.size < this.maxSources) break;
      this.#sources.delete(key);
    }
  }
}

function isLoopback(address: string): boolean {
  return (
    address.startsWith('127.') ||
    address === '::1' ||
    address.startsWith('::ffff:127.') ||
    address.includes('%lo')
  );
}

function refill(b: Bucket, rule: { burst: number; perSecond: number }, now: number): void {
  b.tokens = Math.min(rule.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * rule.perSecond);
  b.at = now;
}
