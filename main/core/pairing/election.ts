// Who serves: the failover election of a pair (a group of N hosts), as a pure state machine:
// step(state, event, config) → [state, effects]. Time arrives with the event (`now`, a monotonic
// millisecond count); nothing here reads a clock, sets a timer or touches a socket. The runner
// (index.ts) feeds it heartbeats, this host's own status and ticks, and carries out the effects.
//
// Every host runs the same rules over its own view and acts only on itself:
//  - Nobody serves (as far as this host can see): the best-ranked eligible host starts serving
//    (promotion). Rank: fit first, then prio, then the lower id (deterministic ties).
//  - A serving host that sees another serving host (a partition healed): the one with a session
//    in progress keeps serving, else the better-ranked one; the other yields at once.
//  - Failback: a better-ranked host that is fit and has been stable for the hold-down *claims*;
//    the serving host hands back only when it has had no activity for `sessionIdle` (it is the
//    authority on its own sessions) and the claimant has been heard continuously for the hold-down.
//    Break before make: the incumbent stops first, then the claimant finds nobody serving.
//  - A host that quits, suspends or is told to stop serving says so (eligible=false) and the next
//    host promotes on that heartbeat, without waiting for the timeout.
//  - A host that just started listens for up to `deadAfter` before it may promote, so a primary
//    coming back does not grab the pair before it has heard who serves.

import type { HibernationState } from '../contract.js';

/** What a host says about itself in every heartbeat (and what this host says). */
export interface Advert {
  prio: number;
  /** Every enabled service is running and healthy (CONTRACT /health `ready`). */
  ready: boolean;
  /** An enabled service gave up (`failed`): this host cannot serve well. */
  failed: boolean;
  state: HibernationState;
  serving: boolean;
  /** Wants the serving host to hand back (failback). */
  claim: boolean;
  /** False while quitting, suspending or told to stop serving: never elect it. */
  eligible: boolean;
  /** Milliseconds since its last activity when sent; null when none since it started. */
  activityAgeMs: number | null;
}

export interface ElectionConfig {
  intervalMs: number;
  /** No heartbeat for this long = gone (3 intervals). */
  deadAfterMs: number;
  /** A returning better host must be stable this long before it takes over. */
  holdDownMs: number;
  /** A serving host with activity more recent than this is in a session: no failback. */
  sessionIdleMs: number;
}

export function electionConfig(p: {
  heartbeatIntervalMs: number;
  failbackHoldDownSeconds: number;
  sessionIdleSeconds: number;
}): ElectionConfig {
  return {
    intervalMs: p.heartbeatIntervalMs,
    deadAfterMs: 3 * p.heartbeatIntervalMs,
    holdDownMs: p.failbackHoldDownSeconds * 1000,
    sessionIdleMs: p.sessionIdleSeconds * 1000,
  };
}

/** This host's own status, from the snapshot. */
export interface SelfStatus {
  prio: number;
  ready: boolean;
  failed: boolean;
  state: HibernationState;
  /** Last real activity (ms, same clock as `now`); null when none since start. */
  activityAt: number | null;
}

export interface PeerTrack {
  advert: Advert | null;
  /** When its last accepted heartbeat arrived; null = not heard since we started. */
  lastSeen: number | null;
  /** Start of the current unbroken run of heartbeats. */
  aliveSince: number | null;
}

export type ServeKind = 'unpaired' | 'promotion' | 'failback' | 'handoff' | 'yield' | 'standby';

export interface Election {
  id: string;
  self: SelfStatus;
  startedAt: number;
  /** The user said "stop serving". */
  standby: boolean;
  /** Quitting or suspending: hand off and never serve again in this run. */
  leaving: boolean;
  /** When this host last became eligible (standby off / start). */
  eligibleSince: number;
  /** Since when it has been fit without a break; null = not fit. */
  fitSince: number | null;
  serving: boolean;
  claim: boolean;
  /** The paired peers (by id), heard or not. */
  peers: Record<string, PeerTrack>;
  /** Who serves as far as this host knows (itself included); null = nobody. */
  servingId: string | null;
  /** Why things are as they are, for the dashboard. */
  reason: string;
}

export type ElectionEvent =
  | { type: 'tick'; now: number }
  | { type: 'heartbeat'; now: number; from: string; advert: Advert }
  | { type: 'self'; now: number; status: SelfStatus }
  | { type: 'peers'; now: number; ids: string[] }
  | { type: 'standby'; now: number; on: boolean }
  | { type: 'leave'; now: number; reason: string }
  /** Back from OS sleep: what we knew about peers is stale; listen again. */
  | { type: 'rejoin'; now: number }
  /**
   * Proof that a peer's process is gone (its machine refused a connection to its port: nothing
   * listens there any more), before its heartbeats run out: treat it as gone now.
   */
  | { type: 'gone'; now: number; from: string };

export type ElectionEffect =
  /** Start or stop serving (host.serving, TXT `serving`); on `serving: true`, wake and preload. */
  | { type: 'serve'; serving: boolean; kind: ServeKind; reason: string }
  /** Our advert changed: send a heartbeat now rather than at the next interval. */
  | { type: 'announce' };

export function initialElection(
  id: string,
  self: SelfStatus,
  peerIds: string[],
  now: number,
  cfg: ElectionConfig,
): Election {
  const e: Election = {
    id,
    self,
    startedAt: now,
    standby: false,
    leaving: false,
    eligibleSince: now,
    fitSince: isFit(self) ? now : null,
    serving: false,
    claim: false,
    peers: Object.fromEntries(peerIds.filter((p) => p !== id).map((p) => [p, emptyTrack()])),
    servingId: null,
    reason: 'starting',
  };
  const d = decide(e, now, cfg);
  return { ...e, serving: d.serving, claim: d.claim, servingId: d.servingId, reason: d.reason };
}

const emptyTrack = (): PeerTrack => ({ advert: null, lastSeen: null, aliveSince: null });

/** Fit to serve: nothing failed, and ready (or only hibernating, which a wake undoes). */
export function isFit(s: Pick<Advert, 'failed' | 'ready' | 'state'>): boolean {
  return (
    !s.failed && (s.ready || s.state === 'cool' || s.state === 'cold' || s.state === 'dormant')
  );
}

export function isAlive(t: PeerTrack, now: number, cfg: ElectionConfig): boolean {
  return t.advert !== null && t.lastSeen !== null && now - t.lastSeen < cfg.deadAfterMs;
}

/** Our advert, as the next heartbeat carries it. */
export function advertOf(e: Election, now: number): Advert {
  return {
    prio: e.self.prio,
    ready: e.self.ready,
    failed: e.self.failed,
    state: e.self.state,
    serving: e.serving,
    claim: e.claim,
    eligible: !e.standby && !e.leaving,
    activityAgeMs: e.self.activityAt === null ? null : Math.max(0, now - e.self.activityAt),
  };
}

interface Candidate {
  id: string;
  prio: number;
  fit: boolean;
  failed: boolean;
  serving: boolean;
  claim: boolean;
  inSession: boolean;
  /** How long it has been heard without a break (Infinity for this host). */
  aliveFor: number;
}

/** Total order: fit first, then higher prio, then the lower id. Negative = a ranks better. */
export function compareRank(
  a: Pick<Candidate, 'fit' | 'prio' | 'id'>,
  b: Pick<Candidate, 'fit' | 'prio' | 'id'>,
): number {
  return (
    Number(b.fit) - Number(a.fit) || b.prio - a.prio || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * Who keeps or takes the pair from a host that serves: a failed host loses, then prio, then id.
 * Not-ready-while-waking is deliberately not counted here: it is transient, and counting it
 * would hand the pair over on every wake and back once the wake is done.
 */
function comparePrio(
  a: Pick<Candidate, 'failed' | 'prio' | 'id'>,
  b: Pick<Candidate, 'failed' | 'prio' | 'id'>,
): number {
  return (
    Number(a.failed) - Number(b.failed) ||
    b.prio - a.prio ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** Among hosts that all serve: a session in progress wins, then comparePrio. */
function compareIncumbents(a: Candidate, b: Candidate): number {
  return Number(b.inSession) - Number(a.inSession) || comparePrio(a, b);
}

function candidates(
  e: Election,
  now: number,
  cfg: ElectionConfig,
): { self: Candidate | null; others: Candidate[] } {
  const self: Candidate | null =
    e.standby || e.leaving
      ? null
      : {
          id: e.id,
          prio: e.self.prio,
          fit: isFit(e.self),
          failed: e.self.failed,
          serving: e.serving,
          claim: e.claim,
          inSession: e.self.activityAt !== null && now - e.self.activityAt < cfg.sessionIdleMs,
          aliveFor: Infinity,
        };
  const others: Candidate[] = [];
  for (const [id, t] of Object.entries(e.peers)) {
    if (!isAlive(t, now, cfg) || !t.advert!.eligible) continue;
    const a = t.advert!;
    const age = a.activityAgeMs === null ? null : a.activityAgeMs + (now - t.lastSeen!);
    others.push({
      id,
      prio: a.prio,
      fit: isFit(a),
      failed: a.failed,
      serving: a.serving,
      claim: a.claim,
      inSession: age !== null && age < cfg.sessionIdleMs,
      aliveFor: now - (t.aliveSince ?? now),
    });
  }
  return { self, others };
}

interface Decision {
  serving: boolean;
  claim: boolean;
  servingId: string | null;
  reason: string;
  kind: ServeKind;
}

function decide(e: Election, now: number, c: ElectionConfig): Decision {
  const { self, others } = candidates(e, now, c);
  const servingOthers = others.filter((o) => o.serving).sort(compareIncumbents);
  const otherServer = servingOthers[0]?.id ?? null;
  const keep = (reason: string): Decision => ({
    serving: true,
    claim: false,
    servingId: e.id,
    reason,
    kind: 'promotion',
  });
  const off = (
    kind: ServeKind,
    reason: string,
    servingId = otherServer,
    claim = false,
  ): Decision => ({ serving: false, claim, servingId, reason, kind });

  if (!self)
    return off(
      e.leaving ? 'handoff' : 'standby',
      e.leaving ? 'handing off: this host is going away' : 'stopped serving by the user',
    );
  if (Object.keys(e.peers).length === 0)
    return {
      serving: true,
      claim: false,
      servingId: e.id,
      reason: 'not paired: serves itself',
      kind: 'unpaired',
    };

  if (e.serving) {
    if (servingOthers.length) {
      const winner = [self, ...servingOthers].sort(compareIncumbents)[0]!;
      if (winner.id !== e.id) {
        return off(
          'yield',
          `${winner.id} also serves and is preferred (${winner.inSession ? 'it has a session' : 'it ranks higher'})`,
          winner.id,
        );
      }
    }
    // Only a failure hands over: not-ready while waking or starting is transient.
    if (e.self.failed) {
      const fitPeer = others.filter((o) => o.fit).sort(compareRank)[0];
      if (fitPeer) return off('yield', `a service here failed; ${fitPeer.id} can serve`, null);
    }
    const claimant = others
      .filter((o) => o.claim && o.fit && comparePrio(o, self) < 0 && o.aliveFor >= c.holdDownMs)
      .sort(compareRank)[0];
    if (claimant) {
      if (!self.inSession)
        return off(
          'failback',
          `handing back to ${claimant.id}: it is stable and there is no session here`,
          null,
        );
      return keep(`${claimant.id} wants to serve again; waiting for the session here to end`);
    }
    return keep('serving');
  }

  // Not serving.
  const listening =
    now - e.startedAt < c.deadAfterMs && Object.values(e.peers).some((t) => t.lastSeen === null);
  if (servingOthers.length === 0) {
    if (listening) return off('promotion', 'listening for the paired hosts', null);
    const best = [self, ...others].sort(compareRank)[0]!;
    if (best.id === e.id) {
      return {
        serving: true,
        claim: false,
        servingId: e.id,
        reason: 'no other host serves: taking over',
        kind: 'promotion',
      };
    }
    return off('promotion', `${best.id} should serve (it ranks higher)`, null);
  }
  const incumbent = servingOthers[0]!;
  const stableStart = Math.max(
    e.startedAt,
    e.eligibleSince,
    e.fitSince ?? now,
    ...servingOthers.map((o) => now - o.aliveFor),
  );
  const better = self.fit && servingOthers.every((o) => comparePrio(self, o) < 0);
  if (!better) return off('promotion', `${incumbent.id} serves`);
  if (now - stableStart < c.holdDownMs) {
    return off(
      'failback',
      `${incumbent.id} serves; taking over after ${Math.ceil((c.holdDownMs - (now - stableStart)) / 1000)} s more of stability`,
    );
  }
  return off(
    'failback',
    incumbent.inSession
      ? `${incumbent.id} serves a session; taking over once it is idle`
      : `asking ${incumbent.id} to hand back`,
    incumbent.id,
    true,
  );
}

export function step(
  s: Election,
  ev: ElectionEvent,
  cfg: ElectionConfig,
): [Election, ElectionEffect[]] {
  const now = ev.now;
  const n: Election = { ...s, self: { ...s.self }, peers: { ...s.peers } };
  switch (ev.type) {
    case 'tick':
      break;
    case 'heartbeat': {
      const t = n.peers[ev.from];
      if (!t) break; // not (or no longer) a paired peer
      const fresh =
        t.lastSeen === null || now - t.lastSeen >= cfg.deadAfterMs || t.aliveSince === null;
      n.peers[ev.from] = {
        advert: { ...ev.advert },
        lastSeen: now,
        aliveSince: fresh ? now : t.aliveSince,
      };
      break;
    }
    case 'self': {
      const wasFit = isFit(n.self);
      n.self = { ...ev.status };
      const fit = isFit(n.self);
      if (fit && !wasFit) n.fitSince = now;
      if (!fit) n.fitSince = null;
      break;
    }
    case 'peers': {
      const next: Record<string, PeerTrack> = {};
      for (const id of ev.ids) if (id !== n.id) next[id] = n.peers[id] ?? emptyTrack();
      n.peers = next;
      break;
    }
    case 'standby':
      if (n.standby !== ev.on) {
        n.standby = ev.on;
        if (!ev.on) n.eligibleSince = now;
      }
      break;
    case 'leave':
      n.leaving = true;
      break;
    case 'gone': {
      const t = n.peers[ev.from];
      // As if its last heartbeat were deadAfter ago; the next heartbeat (it restarted) revives it.
      if (t && t.lastSeen !== null)
        n.peers[ev.from] = {
          ...t,
          lastSeen: Math.min(t.lastSeen, now - cfg.deadAfterMs),
          aliveSince: null,
        };
      break;
    }
    case 'rejoin':
      n.leaving = false;
      n.startedAt = now;
      n.eligibleSince = now;
      for (const id of Object.keys(n.peers)) n.peers[id] = emptyTrack();
      break;
  }

  const before = advertOf(s, now);
  const d = decide(n, now, cfg);
  const fx: ElectionEffect[] = [];
  if (d.serving !== n.serving) {
    // Serving after a hand-back we asked for is the failback's second half.
    const kind = d.serving && s.claim ? 'failback' : d.kind;
    fx.push({ type: 'serve', serving: d.serving, kind, reason: d.reason });
  }
  n.serving = d.serving;
  n.claim = d.claim;
  n.servingId = d.servingId;
  n.reason = d.reason;
  const after = advertOf(n, now);
  if (
    before.serving !== after.serving ||
    before.claim !== after.claim ||
    before.eligible !== after.eligible ||
    before.prio !== after.prio ||
    before.ready !== after.ready ||
    before.failed !== after.failed ||
    before.state !== after.state
  ) {
    fx.push({ type: 'announce' });
  }
  return [n, fx];
}

/**
 * The next time at which the decision may change by time alone (a peer's heartbeats run out, the
 * listening window ends, a hold-down or a session idles out), or null. The runner sets a timer for it.
 */
export function nextDeadline(e: Election, now: number, cfg: ElectionConfig): number | null {
  const times: number[] = [e.startedAt + cfg.deadAfterMs];
  for (const t of Object.values(e.peers)) {
    if (t.lastSeen === null || t.advert === null) continue;
    times.push(t.lastSeen + cfg.deadAfterMs);
    if (t.aliveSince !== null) times.push(t.aliveSince + cfg.holdDownMs);
    if (t.advert.activityAgeMs !== null)
      times.push(t.lastSeen - t.advert.activityAgeMs + cfg.sessionIdleMs);
  }
  times.push(e.eligibleSince + cfg.holdDownMs);
  if (e.fitSince !== null) times.push(e.fitSince + cfg.holdDownMs);
  if (e.self.activityAt !== null) times.push(e.self.activityAt + cfg.sessionIdleMs);
  const future = times.filter((t) => t > now);
  return future.length ? Math.min(...future) : null;
}
