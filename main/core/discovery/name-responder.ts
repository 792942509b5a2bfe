// The IO half of the shared name (shared-name.ts decides): one multicast socket per interface
// (bonjour-service's multicast-dns, the transport the browser already uses), the timers, and the
// packets. Each interface answers with its own IPv4 address (RFC 6762 §6.2: an address the asker can
// reach), plus an NSEC saying there is no AAAA unless `ipv6` is on (§6.1: so a resolver asking for
// both does not wait for an AAAA that never comes).
//
// Why not ciao: its host names belong to a service instance (the SRV target), are probed with it and
// renamed on conflict ("unamentis-(2).local", an event we could only follow), and a second host
// announcing the same name makes ciao rename one of them: exactly what must not happen inside a pair.
// See README.md ("The shared name").

import { Bonjour } from 'bonjour-service';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { onSubnet, type SelectedInterface } from './interfaces.js';
import {
  initialName,
  NAME_CONFIG,
  stepName,
  type NameConfig,
  type NameEffect,
  type NameEvent,
  type NameState,
  type SeenRecord,
} from './shared-name.js';

interface Packet {
  type?: string;
  id?: number;
  flags?: number;
  questions?: { name: string; type: string }[];
  answers?: SeenRecord[];
  additionals?: SeenRecord[];
  authorities?: SeenRecord[];
}

export interface NameSocket {
  send(packet: object, to?: { address: string; port: number }): void;
  close(): Promise<void>;
}

export type NameSocketFactory = (
  iface: SelectedInterface,
  handlers: {
    packet(p: Packet, from: { address: string; port: number }): void;
    error(err: unknown): void;
  },
) => NameSocket;

export interface NameResponderOptions {
  /** `unamentis.local`. */
  name: string;
  interfaces: SelectedInterface[];
  ipv6: boolean;
  logger: Logger;
  /** Protocol timing is real time (RFC 6762's seconds), never the core's (accelerated) clock. */
  clock?: Clock;
  socket?: NameSocketFactory;
  config?: NameConfig;
  onConflict?(by: string): void;
  onCleared?(): void;
  /** The phase moved (released → probing → holding, conflict). */
  onPhase?(phase: NameState['phase']): void;
  random?: () => number;
}

export class NameResponder {
  #state: NameState = initialName();
  readonly #sockets: { iface: SelectedInterface; s: NameSocket }[] = [];
  #friends: string[] = [];
  #timer: unknown = null;
  readonly #clock: Clock;

  constructor(private readonly opts: NameResponderOptions) {
    this.#clock = opts.clock ?? systemClock;
    const factory = opts.socket ?? bonjourNameSocket;
    for (const iface of opts.interfaces) {
      try {
        const s = factory(iface, {
          packet: (p, from) => this.#onPacket(iface, p, from),
          error: (err) =>
            opts.logger.debug('shared name socket error', { interface: iface.name, err }),
        });
        this.#sockets.push({ iface, s });
      } catch (err) {
        opts.logger.warn('cannot answer the shared name on this interface', {
          interface: iface.name,
          err,
        });
      }
    }
  }

  get state(): Readonly<NameState> {
    return this.#state;
  }

  get holding(): boolean {
    return this.#state.phase === 'holding';
  }

  /** The pair's hosts' addresses: their answers for the name are never a conflict. */
  setFriends(addresses: string[]): void {
    this.#friends = [...new Set(addresses)];
  }

  want(hold: boolean, probe: boolean): void {
    const st = this.#state;
    const now = this.#clock.now();
    // The "stranger" turned out to be a host of the pair (both served before they were paired): no
    // conflict after all; the election decides, and the name is ours again at once.
    if (
      hold &&
      st.phase === 'conflict' &&
      st.conflictWith !== null &&
      this.#friends.includes(st.conflictWith)
    ) {
      this.#dispatch({ type: 'want', now, hold: false, probe: false, jitterMs: 0 });
      this.#dispatch({ type: 'want', now, hold: true, probe: false, jitterMs: 0 });
      return;
    }
    if (hold === st.want && (hold ? st.phase !== 'released' : st.phase === 'released')) {
      if (!(hold && !probe && st.phase === 'probing')) return;
    }
    const jitterMs = Math.floor((this.opts.random ?? Math.random)() * 250);
    this.#dispatch({ type: 'want', now, hold, probe, jitterMs });
  }

  /** Goodbye if held, then the sockets close. Bounded: quitting never hangs on the network. */
  async stop(): Promise<void> {
    this.want(false, false);
    this.#clock.clearTimeout(this.#timer);
    // Let the goodbye leave before the sockets close.
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all(this.#sockets.splice(0).map(({ s }) => s.close().catch(() => {})));
  }

  #ours(iface: SelectedInterface): string[] {
    return [iface.ipv4];
  }

  #allOurs(): string[] {
    return this.opts.interfaces.map((i) => i.ipv4);
  }

  #onPacket(iface: SelectedInterface, p: Packet, from: { address: string; port: number }): void {
    // Sockets bound to 0.0.0.0 hear every interface: handle a packet on the interface whose subnet it came from.
    const via = this.opts.interfaces.find((i) => onSubnet(from.address, i));
    if (!via || via.name !== iface.name) return;
    const friends = [...this.#friends, ...this.#allOurs()];
    try {
      if (p.type === 'query') {
        this.#dispatch(
          {
            type: 'query',
            now: this.#clock.now(),
            id: p.id ?? 0,
            questions: Array.isArray(p.questions) ? p.questions : [],
            known: Array.isArray(p.answers) ? p.answers : [],
            authority: Array.isArray(p.authorities) ? p.authorities : [],
            from,
            ours: iface.ipv4,
            friends,
          },
          iface,
        );
      } else if (p.type === 'response') {
        const records = [
          ...(Array.isArray(p.answers) ? p.answers : []),
          ...(Array.isArray(p.additionals) ? p.additionals : []),
        ];
        this.#dispatch({ type: 'response', now: this.#clock.now(), records, from, friends }, iface);
      }
    } catch (err) {
      this.opts.logger.debug('shared name: packet ignored', { err });
    }
  }

  #dispatch(ev: NameEvent, iface?: SelectedInterface): void {
    const [next, fx] = stepName(this.#state, ev, this.opts.name, this.opts.config ?? NAME_CONFIG);
    const before = this.#state.phase;
    this.#state = next;
    for (const f of fx) this.#effect(f, iface);
    this.#schedule();
    if (next.phase !== before) this.opts.onPhase?.(next.phase);
  }

  #schedule(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    const at = this.#state.nextAt;
    if (at === null) return;
    this.#timer = this.#clock.setTimeout(
      () => this.#dispatch({ type: 'tick', now: this.#clock.now() }),
      Math.max(0, at - this.#clock.now()),
    );
  }

  #effect(f: NameEffect, iface?: SelectedInterface): void {
    const ttl = (this.opts.config ?? NAME_CONFIG).ttlSeconds;
    switch (f.type) {
      case 'probe':
        for (const { iface: i, s } of this.#sockets) {
          s.send({
            type: 'query',
            id: 0,
            questions: [{ name: this.opts.name, type: 'ANY' }],
            authorities: this.#records(i, ttl, false),
          });
        }
        break;
      case 'announce':
        for (const { iface: i, s } of this.#sockets) s.send(this.#response(i, ttl));
        this.opts.logger.debug('shared name announced', { name: this.opts.name });
        break;
      case 'goodbye':
        for (const { iface: i, s } of this.#sockets) s.send(this.#response(i, 0));
        this.opts.logger.debug('shared name goodbye', { name: this.opts.name });
        break;
      case 'answer': {
        const entry = this.#sockets.find((x) => x.iface.name === iface?.name);
        if (!entry) break;
        if (f.unicast) {
          // §6.7 legacy unicast: the question repeated, the query's id, no cache-flush bit, TTL ≤ 10 s.
          const answers = this.#records(entry.iface, Math.min(10, ttl), false);
          entry.s.send(
            {
              type: 'response',
              id: f.unicast.id,
              flags: 0x8400,
              questions: [{ name: this.opts.name, type: 'A' }],
              answers,
            },
            { address: f.unicast.address, port: f.unicast.port },
          );
        } else entry.s.send(this.#response(entry.iface, ttl));
        break;
      }
      case 'conflict':
        this.opts.logger.warn('another host on the network answers the shared name', {
          name: this.opts.name,
          by: f.with,
        });
        this.opts.onConflict?.(f.with);
        break;
      case 'conflict-cleared':
        this.opts.onCleared?.();
        break;
    }
  }

  #records(iface: SelectedInterface, ttl: number, flush: boolean): object[] {
    const out: object[] = this.#ours(iface).map((a) => ({
      name: this.opts.name,
      type: 'A',
      class: 'IN',
      ttl,
      flush,
      data: a,
    }));
    if (this.opts.ipv6) {
      for (const a of iface.ipv6)
        out.push({ name: this.opts.name, type: 'AAAA', class: 'IN', ttl, flush, data: a });
    }
    return out;
  }

  /** An unsolicited or multicast answer: our records with the cache-flush bit (§10.2), and an NSEC. */
  #response(iface: SelectedInterface, ttl: number): object {
    const types = this.opts.ipv6 && iface.ipv6.length ? ['A', 'AAAA'] : ['A'];
    return {
      type: 'response',
      id: 0,
      flags: 0x8400,
      answers: this.#records(iface, ttl, true),
      additionals: [
        {
          name: this.opts.name,
          type: 'NSEC',
          class: 'IN',
          ttl,
          flush: true,
          data: { nextDomain: this.opts.name, rrtypes: types },
        },
      ],
    };
  }
}

interface MdnsSocket {
  on(event: string, listener: (...args: never[]) => void): void;
  send(
    packet: object,
    rinfo?: { address: string; port: number } | null,
    cb?: (err: Error | null) => void,
  ): void;
}

/** bonjour-service's multicast socket on one interface, as the browser opens it (see browser.ts). */
export const bonjourNameSocket: NameSocketFactory = (iface, handlers) => {
  const bonjour = new Bonjour(
    { interface: iface.ipv4, bind: '0.0.0.0', reuseAddr: true } as never,
    (err: unknown) => handlers.error(err),
  );
  const mdns = (bonjour as unknown as { server?: { mdns?: MdnsSocket } }).server?.mdns;
  if (!mdns || typeof mdns.on !== 'function' || typeof mdns.send !== 'function') {
    bonjour.destroy();
    throw new Error(
      'bonjour-service has no server.mdns socket (its internals changed; 1.4.4 is pinned)',
    );
  }
  mdns.on('packet', ((p: Packet, rinfo: { address: string; port: number }) =>
    handlers.packet(p, rinfo)) as never);
  mdns.on('error', ((err: unknown) => handlers.error(err)) as never);
  return {
    send(packet, to) {
      mdns.send(packet, to ?? null, (err) => {
        if (err) handlers.error(err);
      });
    },
    close: () => new Promise<void>((resolve) => bonjour.destroy(() => resolve())),
  };
};
