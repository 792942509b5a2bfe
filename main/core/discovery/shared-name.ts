// The pair's shared host name (`unamentis.local`): an RFC 6762 responder for one A record, as a pure
// state machine. step(state, event, config) → [state, effects]; time comes with each event, nothing
// here sends a packet or sets a timer (name-responder.ts does, per interface, with that interface's
// address in the record).
//
// Who holds the name is not decided here: the election does (the serving host holds it), and the
// caller says `want`. This machine does what RFC 6762 asks of whoever holds it:
//  - probe (§8.1: three queries 250 ms apart, after 0–250 ms) before first claiming the name, unless
//    the caller says the pair already holds it (a handoff, or a takeover after the holder crashed):
//    the name belongs to the pair, not to one host, so moving it inside the pair is not a new claim;
//  - announce (§8.3: twice, one second apart, with the cache-flush bit, so that a phone drops the
//    previous holder's address from its cache, §10.2);
//  - answer queries for the name (multicast; legacy unicast queries from a port other than 5353 get
//    a unicast answer with the query's id and a TTL of at most 10 s, §6.7), with known-answer
//    suppression (§7.1);
//  - send a goodbye (TTL 0, §10.1) when it stops holding the name;
//  - a conflict (§9) is another host, not one of the pair, answering for the name with another
//    address, or winning the simultaneous-probe tie-break (§8.2). The name is never renamed (the
//    app's user typed it): the conflict is reported, the name is let go, and probed again later.

type NamePhase = 'released' | 'probing' | 'holding' | 'conflict';

export interface NameState {
  /** The caller wants this host to hold the name. */
  want: boolean;
  phase: NamePhase;
  probesSent: number;
  /** Announcements still to send (after the first). */
  announcesLeft: number;
  /** When the next probe, announcement or conflict retry is due; null = nothing pending. */
  nextAt: number | null;
  /** The address of the stranger that claims the name (phase `conflict`, or the last one). */
  conflictWith: string | null;
  /** Answers sent, queries ignored, conflicts seen: for the log and the tests. */
  counts: {
    probes: number;
    announcements: number;
    answers: number;
    goodbyes: number;
    suppressed: number;
    conflicts: number;
  };
}

export interface NameConfig {
  /** §8.1: 250 ms between probes. */
  probeGapMs: number;
  probes: number;
  /** §8.3: at least two announcements, one second apart. */
  announceGapMs: number;
  announcements: number;
  /** TTL of the A record; §10 recommends 120 s for records carrying a host name. */
  ttlSeconds: number;
  /** After a conflict, probe again this much later (the stranger may have gone). */
  conflictRetryMs: number;
}

export const NAME_CONFIG: NameConfig = {
  probeGapMs: 250,
  probes: 3,
  announceGapMs: 1_000,
  announcements: 2,
  ttlSeconds: 120,
  conflictRetryMs: 60_000,
};

/** A resource record as the network brought it (only what this machine looks at). */
export interface SeenRecord {
  name: string;
  type: string;
  ttl?: number;
  data?: unknown;
}

export type NameEvent =
  /**
   * The caller's wish. `probe`: false when the pair already holds the name (the previous holder is a
   * paired host), true for a first claim. `jitterMs` (0–250) delays the first probe (§8.1).
   */
  | { type: 'want'; now: number; hold: boolean; probe: boolean; jitterMs: number }
  | { type: 'tick'; now: number }
  /**
   * A query heard on an interface. `ours`: this host's address on that interface. `known`: the
   * query's known answers. `authority`: its authority section (a probe's proposed records).
   */
  | {
      type: 'query';
      now: number;
      id: number;
      questions: { name: string; type: string }[];
      known: SeenRecord[];
      authority: SeenRecord[];
      from: { address: string; port: number };
      ours: string;
      /** The addresses of this host and of the pair's hosts: never a conflict. */
      friends: string[];
    }
  /** A response heard: someone answering or announcing. */
  | {
      type: 'response';
      now: number;
      records: SeenRecord[];
      from: { address: string };
      friends: string[];
    };

export type NameEffect =
  | { type: 'probe' }
  | { type: 'announce' }
  | { type: 'goodbye' }
  /** Answer a query; `unicast` for a legacy unicast query (§6.7), else multicast on that interface. */
  | { type: 'answer'; unicast: { address: string; port: number; id: number } | null; aaaa: boolean }
  | { type: 'conflict'; with: string }
  | { type: 'conflict-cleared' };

export function initialName(): NameState {
  return {
    want: false,
    phase: 'released',
    probesSent: 0,
    announcesLeft: 0,
    nextAt: null,
    conflictWith: null,
    counts: { probes: 0, announcements: 0, answers: 0, goodbyes: 0, suppressed: 0, conflicts: 0 },
  };
}

const MDNS_PORT = 5353;

export function sameName(a: string, b: string): boolean {
  return a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
}

export function stepName(
  s: NameState,
  ev: NameEvent,
  name: string,
  cfg: NameConfig = NAME_CONFIG,
): [NameState, NameEffect[]] {
  const n: NameState = { ...s, counts: { ...s.counts } };
  const fx: NameEffect[] = [];
  const announce = () => {
    fx.push({ type: 'announce' });
    n.counts.announcements++;
  };
  const startHolding = (now: number) => {
    n.phase = 'holding';
    n.probesSent = 0;
    announce();
    n.announcesLeft = cfg.announcements - 1;
    n.nextAt = n.announcesLeft > 0 ? now + cfg.announceGapMs : null;
  };
  const startProbing = (at: number) => {
    n.phase = 'probing';
    n.probesSent = 0;
    n.nextAt = at;
  };
  const conflict = (now: number, by: string) => {
    if (n.phase === 'holding') {
      // Our record is wrong for everyone now: let go of it (goodbye) so phones stop using it.
      fx.push({ type: 'goodbye' });
      n.counts.goodbyes++;
    }
    n.phase = 'conflict';
    n.conflictWith = by;
    n.counts.conflicts++;
    n.nextAt = now + cfg.conflictRetryMs;
    fx.push({ type: 'conflict', with: by });
  };

  switch (ev.type) {
    case 'want': {
      n.want = ev.hold;
      if (ev.hold) {
        if (n.phase === 'released') {
          if (ev.probe) startProbing(ev.now + Math.max(0, Math.min(250, ev.jitterMs)));
          else startHolding(ev.now);
        } else if (n.phase === 'probing' && !ev.probe) {
          startHolding(ev.now); // the pair vouches for the name now: no need to finish probing
        }
      } else {
        if (n.phase === 'holding') {
          fx.push({ type: 'goodbye' });
          n.counts.goodbyes++;
        }
        if (n.phase === 'conflict') fx.push({ type: 'conflict-cleared' });
        n.phase = 'released';
        n.probesSent = 0;
        n.announcesLeft = 0;
        n.nextAt = null;
      }
      break;
    }
    case 'tick': {
      if (n.nextAt === null || ev.now < n.nextAt) break;
      if (n.phase === 'probing') {
        if (n.probesSent < cfg.probes) {
          fx.push({ type: 'probe' });
          n.probesSent++;
          n.counts.probes++;
          n.nextAt = ev.now + cfg.probeGapMs;
        } else {
          // Three probes and 250 ms after the last without a conflicting answer: the name is ours.
          if (n.conflictWith !== null) fx.push({ type: 'conflict-cleared' });
          n.conflictWith = null;
          startHolding(ev.now);
        }
      } else if (n.phase === 'holding') {
        if (n.announcesLeft > 0) {
          announce();
          n.announcesLeft--;
          n.nextAt = n.announcesLeft > 0 ? ev.now + cfg.announceGapMs : null;
        } else n.nextAt = null;
      } else if (n.phase === 'conflict') {
        if (n.want) startProbing(ev.now);
        else n.nextAt = null;
      }
      break;
    }
    case 'query': {
      const asks = ev.questions.filter(
        (q) => sameName(q.name, name) && (q.type === 'A' || q.type === 'AAAA' || q.type === 'ANY'),
      );
      if (asks.length === 0) break;
      const friend = ev.friends.includes(ev.from.address) || ev.from.address === ev.ours;
      if (n.phase === 'probing' && !friend) {
        // §8.2: another host probing for the same name at the same time. Compare the proposed data
        // (an A record's address, as bytes): the greater one wins; the loser waits 1 s and probes again.
        const theirs = ev.authority
          .filter((r) => sameName(r.name, name) && r.type === 'A')
          .map((r) => String(r.data));
        if (theirs.length && theirs.some((addr) => compareAddr(addr, ev.ours) > 0)) {
          n.probesSent = 0;
          n.nextAt = ev.now + 1_000;
        }
        break;
      }
      if (n.phase !== 'holding') break;
      const legacy = ev.from.port !== MDNS_PORT;
      // §7.1: the asker already has our record with at least half its TTL left: say nothing.
      const knownOurs = ev.known.some(
        (r) =>
          sameName(r.name, name) &&
          r.type === 'A' &&
          r.data === ev.ours &&
          (r.ttl ?? 0) >= cfg.ttlSeconds / 2,
      );
      if (knownOurs && !legacy) {
        n.counts.suppressed++;
        break;
      }
      fx.push({
        type: 'answer',
        unicast: legacy ? { address: ev.from.address, port: ev.from.port, id: ev.id } : null,
        aaaa: asks.some((q) => q.type === 'AAAA'),
      });
      n.counts.answers++;
      break;
    }
    case 'response': {
      if (n.phase !== 'probing' && n.phase !== 'holding') break;
      if (ev.friends.includes(ev.from.address)) break; // the pair's own hosts (a handoff in flight)
      const claims = ev.records.filter(
        (r) => sameName(r.name, name) && r.type === 'A' && (r.ttl ?? 1) > 0,
      );
      const stranger = claims.find((r) => !ev.friends.includes(String(r.data)));
      if (stranger) conflict(ev.now, `${ev.from.address}`);
      break;
    }
  }
  return [n, fx];
}

/** Byte-wise comparison of two IPv4 addresses (§8.2's lexicographic order of the rdata). */
export function compareAddr(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Whether a new claim must probe first: not when the pair already holds the name. A paired host
 * heard in this run (alive now, or the holder that just went silent) vouches for it; an unpaired
 * host, or a paired one that has heard nobody since it started, probes.
 */
export function needsProbe(input: { paired: boolean; heardPeer: boolean }): boolean {
  return !input.paired || !input.heardPeer;
}

/** `settings.discovery.sharedName` → the full name: `unamentis` → `unamentis.local`. */
export function sharedFqdn(label: string): string {
  return `${label.replace(/\.local\.?$/i, '').toLowerCase()}.local`;
}
