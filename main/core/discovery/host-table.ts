// The live list of other UnaMentis hosts, as a pure state machine: DNS records and /health results
// go in with the time they arrived; `up` / `update` / `down` changes come out. No sockets, no timers:
// the browser (browser.ts) owns those and calls in.
//
// Liveness is not left to TTLs (120 s+ in practice): a host stays listed while it is *heard*, i.e.
// its mDNS records arrive or its /health answers, and leaves `staleMs` after the last of those.
// The browser re-queries a host whose /health fails, so a host with a blocked HTTP port but a
// working responder stays (marked unhealthy), and a host that vanished without a goodbye leaves
// within a few seconds.

import { parseTxt, SERVICE_DOMAIN, type HostTxt, type TxtProblem } from './txt.js';

/** A decoded resource record, as dns-packet gives it (fields checked here: they come off the wire). */
export interface DnsRecord {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}

interface HealthState {
  /** null until the first check. */
  ok: boolean | null;
  ready: boolean | null;
  latencyMs: number | null;
  checkedAt: number | null;
  /** Consecutive failures. */
  failures: number;
}

/** One other UnaMentis host, as the phone would see it. */
export interface DiscoveredHost {
  id: string;
  /** The instance name ("Studio Mac", "Studio Mac (2)"). */
  name: string;
  /** `<name>._unamentis._tcp.local` */
  fqdn: string;
  /** The SRV target (`Studio-Mac.local`). */
  hostname: string;
  port: number;
  /** A/AAAA addresses, IPv4 first. */
  addresses: string[];
  txt: HostTxt;
  /** The address its last packet came from (reachable from here), and the interface it came in on. */
  via: { address: string; interface: string };
  /** When it was last heard (mDNS or /health), ms since the epoch. */
  lastSeenAt: number;
  health: HealthState;
}

export type HostChange =
  | { type: 'up'; host: DiscoveredHost }
  | { type: 'update'; host: DiscoveredHost; previous: DiscoveredHost }
  | { type: 'down'; host: DiscoveredHost; reason: 'goodbye' | 'stale' | 'expired' | 'invalid' };

export type Counter = TxtProblem | 'claimsOurId' | 'tableFull' | 'badRecord' | 'healthIdMismatch';

export interface HostTableOptions {
  /** A host not heard for this long leaves the list. */
  staleMs?: number;
  maxHosts?: number;
  maxAddresses?: number;
  /** Unconfirmed entries per source address (default 16). */
  perSource?: number;
}

interface Entry {
  fqdn: string;
  name: string;
  ptrUntil: number | null;
  srv: { target: string; port: number; until: number } | null;
  txt: HostTxt | null;
  txtUntil: number | null;
  txtError: string | null;
  via: { address: string; interface: string };
  lastHeard: number;
  health: HealthState;
  /** What we last reported, for change detection; null while not listed. */
  listed: DiscoveredHost | null;
  claimsOurIdCounted: boolean;
  /** Its /health answered with its id once: a real host, never evicted for an unconfirmed one. */
  confirmed: boolean;
}

/**
 * Unconfirmed entries one source address may hold (issue #20: 5,000 fake hosts from one machine
 * filled the 64 entries and a real host that came during the flood was never listed).
 */
const PER_SOURCE = 16;

const SUFFIX = `.${SERVICE_DOMAIN}`;

export class HostTable {
  readonly #entries = new Map<string, Entry>();
  /** hostname (lowercase) → address → expiry */
  readonly #addresses = new Map<string, Map<string, number>>();
  readonly #staleMs: number;
  readonly #maxHosts: number;
  readonly #maxAddresses: number;
  readonly #perSource: number;
  #selfId: string | null = null;
  readonly #selfNames = new Set<string>();
  /** Ignored input, by reason. */
  readonly counters: Partial<Record<Counter, number>> = {};

  constructor(opts: HostTableOptions = {}) {
    this.#staleMs = opts.staleMs ?? 6_000;
    this.#maxHosts = opts.maxHosts ?? 64;
    this.#maxAddresses = opts.maxAddresses ?? 16;
    this.#perSource = opts.perSource ?? PER_SOURCE;
  }

  /** Our own id and the instance names we advertise(d): our own records are not a peer, and anyone else using our id is ignored. */
  setSelf(id: string | null, names: string[] = []): HostChange[] {
    this.#selfId = id?.toLowerCase() ?? null;
    for (const n of names) this.#selfNames.add(fqdnOf(n));
    return this.#refreshAll();
  }

  list(): DiscoveredHost[] {
    return [...this.#entries.values()].flatMap((e) =>
      e.listed ? [structuredClone(e.listed)] : [],
    );
  }

  get(fqdn: string): DiscoveredHost | null {
    const e = this.#entries.get(fqdn.toLowerCase());
    return e?.listed ? structuredClone(e.listed) : null;
  }

  /** Records from one response packet (answers + additionals), received at `now` from `from`. */
  observe(
    records: unknown[],
    from: { address: string; interface: string },
    now: number,
  ): HostChange[] {
    const touched = new Set<Entry>();
    const removed: HostChange[] = [];
    for (const r of records) {
      if (!isRecord(r)) {
        this.#count('badRecord');
        continue;
      }
      const name = r.name.toLowerCase().replace(/\.$/, '');
      const until = now + r.ttl * 1000;
      switch (r.type) {
        case 'PTR': {
          if (name !== SERVICE_DOMAIN) break;
          if (typeof r.data !== 'string' || r.data.length > 255) {
            this.#count('badRecord');
            break;
          }
          const fqdn = r.data.toLowerCase().replace(/\.$/, '');
          if (r.ttl === 0) {
            const e = this.#entries.get(fqdn);
            if (e) removed.push(...this.#remove(e, 'goodbye'));
            break;
          }
          const e = this.#entry(fqdn, r.data.replace(/\.$/, ''), from, now, removed);
          if (e) {
            e.ptrUntil = until;
            touched.add(e);
          }
          break;
        }
        case 'SRV':
        case 'TXT': {
          if (!name.endsWith(SUFFIX) || name.length === SUFFIX.length) break;
          if (r.ttl === 0) {
            const e = this.#entries.get(name);
            if (e) removed.push(...this.#remove(e, 'goodbye'));
            break;
          }
          const e = this.#entry(name, r.name.replace(/\.$/, ''), from, now, removed);
          if (!e) break;
          touched.add(e);
          if (r.type === 'SRV') {
            const d = r.data as { target?: unknown; port?: unknown } | null;
            if (
              !d ||
              typeof d.target !== 'string' ||
              !Number.isInteger(d.port) ||
              (d.port as number) < 1 ||
              (d.port as number) > 65535
            ) {
              this.#count('badRecord');
              break;
            }
            e.srv = {
              target: d.target.toLowerCase().replace(/\.$/, ''),
              port: d.port as number,
              until,
            };
          } else {
            const parsed = parseTxt(r.data);
            for (const p of parsed.problems) this.#count(p);
            if (parsed.ok) {
              e.txt = parsed.txt;
              e.txtUntil = until;
              e.txtError = null;
            } else {
              // A host that starts sending garbage is not trusted on its old record either.
              e.txt = null;
              e.txtUntil = null;
              e.txtError = parsed.reason;
            }
          }
          break;
        }
        case 'A':
        case 'AAAA': {
          if (typeof r.data !== 'string') {
            this.#count('badRecord');
            break;
          }
          let map = this.#addresses.get(name);
          if (r.ttl === 0) {
            map?.delete(r.data);
          } else {
            if (!map) {
              if (this.#addresses.size >= this.#maxHosts * 2) this.#pruneAddresses();
              if (this.#addresses.size >= this.#maxHosts * 2) break;
              this.#addresses.set(name, (map = new Map()));
            }
            if (map.has(r.data) || map.size < this.#maxAddresses) map.set(r.data, until);
          }
          for (const e of this.#entries.values()) if (e.srv?.target === name) touched.add(e);
          break;
        }
        default:
          break;
      }
    }
    // Hearing any record of a host counts as hearing the host.
    for (const e of touched) {
      e.lastHeard = now;
      e.via = { ...from };
    }
    const changes = [...removed];
    for (const e of touched) if (this.#entries.has(e.fqdn)) changes.push(...this.#refresh(e));
    return changes;
  }

  /** Hosts whose /health is due (`intervalMs` since the last check). */
  healthDue(now: number, intervalMs: number): DiscoveredHost[] {
    return this.list().filter(
      (h) => h.health.checkedAt === null || now - h.health.checkedAt >= intervalMs,
    );
  }

  /** Records a /health answer (`id` = the id it answered with) or a failure (null). */
  healthResult(
    fqdn: string,
    result: { id: string; ready: boolean; latencyMs: number } | null,
    now: number,
  ): HostChange[] {
    const e = this.#entries.get(fqdn.toLowerCase());
    if (!e) return [];
    const h = e.health;
    h.checkedAt = now;
    if (result && e.txt && result.id.toLowerCase() === e.txt.id) {
      e.confirmed = true;
      h.ok = true;
      h.ready = result.ready;
      h.latencyMs = Math.round(result.latencyMs);
      h.failures = 0;
      e.lastHeard = now;
    } else {
      if (result) this.#count('healthIdMismatch');
      h.ok = false;
      h.ready = null;
      h.latencyMs = null;
      h.failures++;
    }
    return this.#refresh(e);
  }

  /** Drops hosts not heard for `staleMs` and records past their TTL. Call every second or so. */
  sweep(now: number): HostChange[] {
    const changes: HostChange[] = [];
    for (const [name, map] of this.#addresses) {
      for (const [addr, until] of map) if (until <= now) map.delete(addr);
      if (map.size === 0) this.#addresses.delete(name);
    }
    for (const e of [...this.#entries.values()]) {
      if (now - e.lastHeard > this.#staleMs) changes.push(...this.#remove(e, 'stale'));
      else if ((e.srv && e.srv.until <= now) || (e.txtUntil !== null && e.txtUntil <= now))
        changes.push(...this.#remove(e, 'expired'));
      else if (e.ptrUntil !== null && e.ptrUntil <= now) e.ptrUntil = null;
    }
    return changes;
  }

  /** Names we know of but cannot list yet (missing SRV, TXT or address): the browser asks for them. */
  incomplete(): { name: string; type: 'SRV' | 'TXT' | 'A' }[] {
    const out: { name: string; type: 'SRV' | 'TXT' | 'A' }[] = [];
    for (const e of this.#entries.values()) {
      if (this.#isSelf(e)) continue;
      if (!e.srv) out.push({ name: e.fqdn, type: 'SRV' });
      if (!e.txt && !e.txtError) out.push({ name: e.fqdn, type: 'TXT' });
      if (e.srv && !this.#addresses.get(e.srv.target)?.size)
        out.push({ name: e.srv.target, type: 'A' });
    }
    return out;
  }

  #entry(
    fqdn: string,
    display: string,
    from: { address: string; interface: string },
    now: number,
    removed: HostChange[],
  ): Entry | null {
    let e = this.#entries.get(fqdn);
    if (e) return e;
    const victim = this.#victim(from.address);
    if (victim === 'full') {
      this.#count('tableFull');
      return null;
    }
    if (victim) {
      this.#count('tableFull');
      removed.push(...this.#remove(victim, 'stale'));
    }
    const name =
      display.length > SUFFIX.length && display.toLowerCase().endsWith(SUFFIX)
        ? display.slice(0, -SUFFIX.length)
        : display;
    e = {
      fqdn,
      name,
      ptrUntil: null,
      srv: null,
      txt: null,
      txtUntil: null,
      txtError: null,
      via: { ...from },
      lastHeard: now,
      health: { ok: null, ready: null, latencyMs: null, checkedAt: null, failures: 0 },
      listed: null,
      claimsOurIdCounted: false,
      confirmed: false,
    };
    this.#entries.set(fqdn, e);
    return e;
  }

  /**
   * Room for a new entry from `source`: null (there is room), an unconfirmed entry to drop, or 'full'.
   * A source at its quota gives up its own least recently heard entry; in a full table, the source
   * holding the most unconfirmed entries gives up one. Confirmed hosts are never dropped for a newcomer.
   */
  #victim(source: string): Entry | 'full' | null {
    const bySource = new Map<string, Entry[]>();
    for (const e of this.#entries.values()) {
      if (e.confirmed) continue;
      const list = bySource.get(e.via.address) ?? [];
      list.push(e);
      bySource.set(e.via.address, list);
    }
    const oldest = (list: Entry[]) => list.reduce((a, b) => (b.lastHeard < a.lastHeard ? b : a));
    const mine = bySource.get(source) ?? [];
    if (mine.length >= this.#perSource) return oldest(mine);
    if (this.#entries.size < this.#maxHosts) return null;
    let most: Entry[] = [];
    for (const list of bySource.values()) if (list.length > most.length) most = list;
    return most.length ? oldest(most) : 'full';
  }

  /** Address records of names no entry points to (a flood's leftovers) make room for real ones. */
  #pruneAddresses(): void {
    const targets = new Set(
      [...this.#entries.values()].flatMap((e) => (e.srv ? [e.srv.target] : [])),
    );
    for (const name of this.#addresses.keys()) if (!targets.has(name)) this.#addresses.delete(name);
  }

  #isSelf(e: Entry): boolean {
    return this.#selfNames.has(e.fqdn) && (e.txt === null || e.txt.id === this.#selfId);
  }

  #refreshAll(): HostChange[] {
    return [...this.#entries.values()].flatMap((e) => this.#refresh(e));
  }

  /** Recomputes what the public list says about `e`, and reports the difference. */
  #refresh(e: Entry): HostChange[] {
    let next: DiscoveredHost | null = null;
    if (e.srv && e.txt && !this.#isSelf(e)) {
      if (this.#selfId !== null && e.txt.id === this.#selfId) {
        // Someone else claims our id (a copied settings folder, or a spoof): never list it.
        if (!e.claimsOurIdCounted) {
          e.claimsOurIdCounted = true;
          this.#count('claimsOurId');
        }
      } else {
        const addrs = [...(this.#addresses.get(e.srv.target)?.keys() ?? [])];
        addrs.sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
        next = {
          id: e.txt.id,
          name: e.name,
          fqdn: e.fqdn,
          hostname: e.srv.target,
          port: e.srv.port,
          addresses: addrs,
          txt: e.txt,
          via: { ...e.via },
          lastSeenAt: e.lastHeard,
          health: { ...e.health },
        };
      }
    }
    const prev = e.listed;
    e.listed = next;
    if (!prev && next) return [{ type: 'up', host: structuredClone(next) }];
    if (prev && !next) return [{ type: 'down', host: structuredClone(prev), reason: 'invalid' }];
    if (prev && next && !sameHost(prev, next))
      return [{ type: 'update', host: structuredClone(next), previous: structuredClone(prev) }];
    return [];
  }

  #remove(e: Entry, reason: 'goodbye' | 'stale' | 'expired'): HostChange[] {
    this.#entries.delete(e.fqdn);
    return e.listed ? [{ type: 'down', host: structuredClone(e.listed), reason }] : [];
  }

  #count(c: Counter): void {
    this.counters[c] = (this.counters[c] ?? 0) + 1;
  }
}

/** Same for listeners: everything but the last-heard time (which moves on every packet). */
function sameHost(a: DiscoveredHost, b: DiscoveredHost): boolean {
  const strip = (h: DiscoveredHost) => ({
    ...h,
    lastSeenAt: 0,
    via: null,
    health: { ...h.health, checkedAt: 0, latencyMs: 0, failures: 0 },
  });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function isRecord(r: unknown): r is DnsRecord {
  if (typeof r !== 'object' || r === null) return false;
  const x = r as Record<string, unknown>;
  return (
    typeof x.name === 'string' &&
    x.name.length <= 255 &&
    typeof x.type === 'string' &&
    typeof x.ttl === 'number' &&
    x.ttl >= 0
  );
}

/** `Studio Mac` → `studio mac._unamentis._tcp.local` */
function fqdnOf(instance: string): string {
  return `${instance}${SUFFIX}`.toLowerCase();
}
