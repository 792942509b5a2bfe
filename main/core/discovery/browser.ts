// Browsing for other UnaMentis hosts: bonjour-service's multicast socket (one per interface) feeds
// the pure HostTable; this file owns the sockets, the timers, the queries and the /health checks.
//
// Why not bonjour-service's own Browser: it ignores a packet without a PTR record, so the TXT-only
// update that ciao (and Apple's mDNSResponder) send never reaches it; it decodes TXT lossily (last
// duplicate wins, invalid UTF-8 replaced); it emits `down` only on a goodbye and never refreshes
// `lastSeen`. We keep its transport (multicast-dns + dns-packet, group membership and sending per
// interface) and do the record keeping ourselves.

import { Bonjour } from 'bonjour-service';
import { createSocket } from 'node:dgram';
import { COSTLY, MdnsGate, mdnsGuardOn } from './mdns-guard.js';
import type { Clock } from '../util/clock.js';
import { httpGetUrl } from '../util/http-get.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import type { Logger } from '../util/logger.js';
import { HostTable, type Counter, type DiscoveredHost, type HostChange } from './host-table.js';
import { onSubnet, type SelectedInterface } from './interfaces.js';
import { SERVICE_DOMAIN } from './txt.js';

export interface Question {
  name: string;
  type: 'PTR' | 'SRV' | 'TXT' | 'A';
}

export interface TransportHandlers {
  response(
    packet: { answers?: unknown; additionals?: unknown },
    from: { address: string; port: number },
  ): void;
  /** A packet that could not be decoded, or a socket warning. */
  warning(err: unknown): void;
  error(err: unknown): void;
  /** A packet refused before decoding (mdns-guard.ts): over a source's or the total rate, or too costly. */
  dropped?(why: 'rateLimited' | 'costlyPacket' | 'malformedPacket'): void;
}

/** One multicast socket on one interface. */
export interface MdnsTransport {
  query(questions: Question[]): void;
  close(): Promise<void>;
}

export type TransportFactory = (
  iface: SelectedInterface,
  handlers: TransportHandlers,
) => MdnsTransport;

/** GET http://addr:port/health → the id and readiness it answers with, or null. */
export type HealthCheck = (
  url: string,
  timeoutMs: number,
) => Promise<{ id: string; ready: boolean } | null>;

export interface BrowserOptions {
  interfaces: SelectedInterface[];
  clock: Clock;
  logger: Logger;
  transport?: TransportFactory;
  health?: HealthCheck;
  /** /health of each listed host this often (default 1.5 s). */
  healthIntervalMs?: number;
  healthTimeoutMs?: number;
  /** A host not heard for this long leaves (default 5 s). */
  staleMs?: number;
  /**
   * Delays between PTR queries (RFC 6762 §5.2: start fast, back off), then `queryEveryMs`.
   * Liveness does not depend on these: /health does that.
   */
  queryBackoffMs?: number[];
  queryEveryMs?: number;
  /** How often the table is swept and missing records asked for (default 1 s). */
  tickMs?: number;
}

export type BrowserCounter =
  Counter | 'malformedPacket' | 'foreignSource' | 'socketError' | 'rateLimited' | 'costlyPacket';

export class HostBrowser {
  readonly #table: HostTable;
  readonly #events: Emitter<{ change: HostChange }>;
  readonly #transports: { iface: SelectedInterface; t: MdnsTransport }[] = [];
  readonly #inFlight = new Set<string>();
  readonly #extra: Partial<Record<BrowserCounter, number>> = {};
  #timer: unknown = null;
  #queryTimer: unknown = null;
  #queryStep = 0;
  #running = false;

  constructor(private readonly opts: BrowserOptions) {
    this.#table = new HostTable({ staleMs: opts.staleMs ?? 5_000 });
    this.#events = new Emitter((err) => opts.logger.error('discovery listener failed', { err }));
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const factory = this.opts.transport ?? bonjourTransport;
    for (const iface of this.opts.interfaces) {
      try {
        const t = factory(iface, {
          response: (packet, from) => this.#onResponse(iface, packet, from),
          // multicast-dns reports undecodable packets and non-fatal socket trouble (which carries a code) alike.
          warning: (err) =>
            this.#count(
              (err as { code?: unknown } | null)?.code ? 'socketError' : 'malformedPacket',
            ),
          error: (err) => {
            this.#count('socketError');
            this.opts.logger.warn('mDNS socket error', { interface: iface.name, err });
          },
          dropped: (why) => this.#count(why),
        });
        this.#transports.push({ iface, t });
      } catch (err) {
        this.#count('socketError');
        this.opts.logger.warn('cannot browse on interface', { interface: iface.name, err });
      }
    }
    this.#queryStep = 0;
    this.#scheduleQuery(0);
    this.#scheduleTick();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.opts.clock.clearTimeout(this.#timer);
    this.opts.clock.clearTimeout(this.#queryTimer);
    const ts = this.#transports.splice(0);
    await Promise.all(ts.map(({ t }) => t.close().catch(() => {})));
    // Nobody is browsing: nobody is listed.
    for (const h of this.#table.list())
      this.#events.emit('change', { type: 'down', host: h, reason: 'stale' });
    this.#table.sweep(Number.MAX_SAFE_INTEGER);
  }

  list(): DiscoveredHost[] {
    return this.#table.list();
  }

  onChange(listener: (c: HostChange) => void): Unsubscribe {
    return this.#events.on('change', listener);
  }

  /** Our id and advertised names: not listed as a peer; anyone else with our id is ignored. */
  setSelf(id: string | null, names: string[]): void {
    this.#emit(this.#table.setSelf(id, names));
  }

  /** Ignored input so far, by reason (malformed TXT, hostile packets, a peer claiming our id, …). */
  counters(): Partial<Record<BrowserCounter, number>> {
    const out: Partial<Record<BrowserCounter, number>> = { ...this.#table.counters };
    for (const [k, v] of Object.entries(this.#extra))
      out[k as BrowserCounter] = (out[k as BrowserCounter] ?? 0) + v;
    return out;
  }

  /** Asks every interface for the service list now (e.g. after a network change or on resume). */
  queryNow(): void {
    this.#query([{ name: SERVICE_DOMAIN, type: 'PTR' }]);
  }

  #onResponse(
    iface: SelectedInterface,
    packet: { answers?: unknown; additionals?: unknown },
    from: { address: string },
  ): void {
    if (!this.#running) return;
    // Sockets bound to 0.0.0.0 hear every interface the host joined the group on: keep only what came
    // from the subnet of an interface we were allowed to use (so we never chase a host on another LAN).
    if (!this.opts.interfaces.some((i) => onSubnet(from.address, i))) {
      this.#count('foreignSource');
      return;
    }
    try {
      const records = [
        ...(Array.isArray(packet.answers) ? packet.answers : []),
        ...(Array.isArray(packet.additionals) ? packet.additionals : []),
      ];
      const via = this.opts.interfaces.find((i) => onSubnet(from.address, i)) ?? iface;
      this.#emit(
        this.#table.observe(
          records,
          { address: from.address, interface: via.name },
          this.opts.clock.now(),
        ),
      );
    } catch (err) {
      this.#count('malformedPacket');
      this.opts.logger.warn('ignored an mDNS packet that could not be handled', { err });
    }
  }

  #emit(changes: HostChange[]): void {
    for (const c of changes) {
      this.#events.emit('change', c);
      if (c.type === 'up') void this.#checkHealth(c.host);
    }
  }

  #scheduleTick(): void {
    this.#timer = this.opts.clock.setTimeout(() => {
      if (!this.#running) return;
      this.#tick();
      this.#scheduleTick();
    }, this.opts.tickMs ?? 1_000);
  }

  #tick(): void {
    const now = this.opts.clock.now();
    this.#emit(this.#table.sweep(now));
    const missing = this.#table.incomplete();
    if (missing.length) this.#query(missing.slice(0, 16));
    for (const h of this.#table.healthDue(now, this.opts.healthIntervalMs ?? 1_500))
      void this.#checkHealth(h);
  }

  #scheduleQuery(delay: number): void {
    this.#queryTimer = this.opts.clock.setTimeout(() => {
      if (!this.#running) return;
      this.queryNow();
      const backoff = this.opts.queryBackoffMs ?? [1_000, 2_000, 4_000, 8_000, 16_000, 32_000];
      const next = backoff[this.#queryStep++] ?? this.opts.queryEveryMs ?? 60_000;
      this.#scheduleQuery(next);
    }, delay);
  }

  #query(questions: Question[]): void {
    for (const { iface, t } of this.#transports) {
      try {
        t.query(questions);
      } catch (err) {
        this.#count('socketError');
        this.opts.logger.debug('mDNS query failed', { interface: iface.name, err });
      }
    }
  }

  async #checkHealth(h: DiscoveredHost): Promise<void> {
    if (this.#inFlight.has(h.fqdn) || !this.#running) return;
    const address = healthAddress(h, this.opts.interfaces);
    if (!address) return;
    this.#inFlight.add(h.fqdn);
    const check = this.opts.health ?? fetchHealth;
    const started = performance.now();
    let result: { id: string; ready: boolean } | null;
    try {
      const host = address.includes(':') ? `[${address}]` : address;
      result = await check(`http://${host}:${h.port}/health`, this.opts.healthTimeoutMs ?? 1_500);
    } catch {
      result = null;
    } finally {
      this.#inFlight.delete(h.fqdn);
    }
    if (!this.#running) return;
    const changes = this.#table.healthResult(
      h.fqdn,
      result && { ...result, latencyMs: performance.now() - started },
      this.opts.clock.now(),
    );
    this.#emit(changes);
    // Not answering: ask the responder directly before giving up on the host (it leaves when neither answers).
    if (!result)
      this.#query([
        { name: h.fqdn, type: 'SRV' },
        { name: h.fqdn, type: 'TXT' },
      ]);
  }

  #count(c: BrowserCounter): void {
    this.#extra[c] = (this.#extra[c] ?? 0) + 1;
  }
}

/** Where to reach a host's /health: the address its packets came from, else an IPv4 address on one of our subnets. */
export function healthAddress(
  h: Pick<DiscoveredHost, 'via' | 'addresses'>,
  interfaces: Pick<SelectedInterface, 'ipv4' | 'netmask'>[],
): string | null {
  if (interfaces.some((i) => onSubnet(h.via.address, i))) return h.via.address;
  return h.addresses.find((a) => interfaces.some((i) => onSubnet(a, i))) ?? null;
}

/** On a kept connection: every listed host is asked every 1.5 s (a fetch per check cost a connect and a timer each time). */
export const fetchHealth: HealthCheck = async (url, timeoutMs) => {
  const res = await httpGetUrl(url, timeoutMs);
  if ('error' in res || res.status < 200 || res.status > 299) return null;
  const text = res.body;
  if (text.length > 4096) return null;
  const body = JSON.parse(text) as { ok?: unknown; id?: unknown; ready?: unknown };
  if (body.ok !== true || typeof body.id !== 'string') return null;
  return { id: body.id, ready: body.ready === true };
};

interface MdnsSocket {
  on(event: string, listener: (...args: never[]) => void): void;
  query(q: { questions: { name: string; type: string }[] }, cb?: (err: Error | null) => void): void;
}

/** bonjour-service's multicast socket on one interface (its `server.mdns`, a multicast-dns instance). */
const bonjourTransport: TransportFactory = (iface, handlers) => {
  // `interface` selects group membership and the sending interface; binding 0.0.0.0 is needed to
  // receive multicast at all on Linux (a socket bound to a unicast address gets none).
  // The socket is ours so that every datagram passes the gate (mdns-guard.ts) before dns-packet
  // decodes it: it bounds names, but still took 16-33 ms on issue #20's packet, at any rate.
  const gate = mdnsGuardOn() ? new MdnsGate() : null;
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  const emit = socket.emit.bind(socket) as (event: string, ...args: unknown[]) => boolean;
  socket.emit = ((event: string, ...args: unknown[]) => {
    if (event === 'message' && gate) {
      const verdict = gate.check(args[0] as Buffer, (args[1] as { address: string }).address);
      if (verdict !== 'ok') {
        handlers.dropped?.(
          verdict === 'rate'
            ? 'rateLimited'
            : COSTLY.has(verdict)
              ? 'costlyPacket'
              : 'malformedPacket',
        );
        return false;
      }
    }
    return emit(event, ...args);
  }) as typeof socket.emit;
  const bonjour = new Bonjour(
    { interface: iface.ipv4, bind: '0.0.0.0', reuseAddr: true, socket } as never,
    (err: unknown) => handlers.error(err),
  );
  const mdns = (bonjour as unknown as { server?: { mdns?: MdnsSocket } }).server?.mdns;
  if (!mdns || typeof mdns.on !== 'function' || typeof mdns.query !== 'function') {
    bonjour.destroy();
    throw new Error(
      'bonjour-service has no server.mdns socket (its internals changed; 1.4.4 is pinned)',
    );
  }
  mdns.on('response', ((
    packet: { answers?: unknown; additionals?: unknown },
    rinfo: { address: string; port: number },
  ) => handlers.response(packet, rinfo)) as never);
  mdns.on('warning', ((err: unknown) => handlers.warning(err)) as never);
  mdns.on('error', ((err: unknown) => handlers.error(err)) as never);
  return {
    query(questions) {
      mdns.query({ questions }, (err) => {
        if (err) handlers.error(err);
      });
    },
    close: () => new Promise<void>((resolve) => bonjour.destroy(() => resolve())),
  };
};
