// The election driver: feeds election.ts (pure) with what this host hears and its own status, runs
// its timers on the injected clock (the heartbeat tick, the election's next deadline, the check on a
// late serving peer), and hands the effects (serve, announce) to its owner. No sockets, no store.

import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import {
  initialElection,
  nextDeadline,
  step,
  type Advert,
  type Election,
  type ElectionConfig,
  type ElectionEvent,
  type SelfStatus,
  type ServeKind,
} from './election.js';

export interface DriverDeps {
  /** Timers, and liveness on its monotonic reading (a wall-clock jump must not kill peers). */
  clock: Clock;
  log: Logger;
  config: () => ElectionConfig;
  selfId: () => string;
  peerIds: () => string[];
  self: () => SelfStatus;
  /** Heartbeats to every peer, now. */
  send: () => void;
  /** Nothing paired, under way or discovered: the heartbeat tick would send and change nothing, so it is skipped. */
  quiet: () => boolean;
  /** `host.serving` as the election says (no other effect: start-up, before anything is heard). */
  setServing: (serving: boolean) => void;
  /** The election changed whether this host serves: announce it, wake, tell the user. */
  serve: (serving: boolean, kind: ServeKind, reason: string) => void;
  /** After each step: the snapshot sections. */
  publish: () => void;
  /** Connects once to the peer's control port: `refused` = nothing listens there; null = no address to try. */
  probe: (peerId: string, timeoutMs: number) => Promise<{ refused: boolean; where: string } | null>;
}

const sameStatus = (a: SelfStatus, b: SelfStatus) =>
  a.prio === b.prio &&
  a.ready === b.ready &&
  a.failed === b.failed &&
  a.state === b.state &&
  a.activityAt === b.activityAt;

export class ElectionDriver {
  #election: Election;
  #running = false;
  #heartbeatTimer: unknown = null;
  #deadlineTimer: unknown = null;
  /** Per serving peer: the check when its next heartbeat is a quarter interval late. */
  readonly #lateTimers = new Map<string, unknown>();

  /** Liveness and the election's deadlines: the same clock as the timers, so they keep pace. */
  #mono(): number {
    return this.d.clock.monotonic();
  }

  constructor(private readonly d: DriverDeps) {
    this.#election = this.#initial();
    d.setServing(this.#election.serving);
  }

  get election(): Election {
    return this.#election;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Heard within the last `deadAfter` (3 intervals). */
  alive(peerId: string, now = this.#mono()): boolean {
    const t = this.#election.peers[peerId];
    return !!t && t.lastSeen !== null && now - t.lastSeen < this.d.config().deadAfterMs;
  }

  /** Starts listening: the start-up window begins now (construction may be long before start). */
  start(): void {
    this.#running = true;
    this.#election = this.#initial();
    this.d.setServing(this.#election.serving);
    this.restartHeartbeats();
    this.d.send();
    this.#schedule();
    this.d.publish();
  }

  stop(): void {
    this.#running = false;
    const { clock } = this.d;
    if (this.#heartbeatTimer !== null) clock.clearTimeout(this.#heartbeatTimer);
    if (this.#deadlineTimer !== null) clock.clearTimeout(this.#deadlineTimer);
    this.#heartbeatTimer = this.#deadlineTimer = null;
    for (const t of this.#lateTimers.values()) clock.clearTimeout(t);
    this.#lateTimers.clear();
  }

  dispatch(ev: ElectionEvent): void {
    const [next, fx] = step(this.#election, ev, this.d.config());
    this.#election = next;
    for (const f of fx) {
      if (f.type === 'serve') this.d.serve(f.serving, f.kind, f.reason);
      else if (f.type === 'announce' && this.#running) this.d.send();
    }
    this.#schedule();
    this.d.publish();
  }

  /** This host's status may have changed: a step only when it did. */
  selfChanged(st: SelfStatus = this.d.self()): void {
    if (!sameStatus(st, this.#election.self))
      this.dispatch({ type: 'self', now: this.#mono(), status: st });
  }

  /** An accepted heartbeat. */
  heard(from: string, advert: Advert): void {
    this.dispatch({ type: 'heartbeat', now: this.#mono(), from, advert });
    this.#watchServing(from, advert.serving);
  }

  peersChanged(ids: string[]): void {
    this.dispatch({ type: 'peers', now: this.#mono(), ids });
  }

  standby(on: boolean): void {
    this.dispatch({ type: 'standby', now: this.#mono(), on });
  }

  /** Announces a handoff: the next host promotes on this heartbeat, said three times, a few ms apart (datagrams can be lost). */
  async handoff(reason: string): Promise<void> {
    if (this.#election.leaving) return;
    this.dispatch({ type: 'leave', now: this.#mono(), reason });
    this.d.send();
    for (const ms of [20, 60]) {
      await new Promise<void>((r) => this.d.clock.setTimeout(r, ms));
      this.d.send();
    }
  }

  /** Back from OS sleep: listen again. */
  rejoin(): void {
    this.dispatch({ type: 'rejoin', now: this.#mono() });
    this.d.send();
  }

  /** The heartbeat tick, at the configured interval (again when it changes). */
  restartHeartbeats(): void {
    const { clock } = this.d;
    if (this.#heartbeatTimer !== null) clock.clearTimeout(this.#heartbeatTimer);
    const tick = () => {
      this.#heartbeatTimer = clock.setTimeout(tick, this.d.config().intervalMs);
      if (this.d.quiet()) return;
      this.d.send();
      this.dispatch({ type: 'tick', now: this.#mono() });
    };
    this.#heartbeatTimer = clock.setTimeout(tick, this.d.config().intervalMs);
  }

  // ── A crashed serving peer, found before its heartbeats run out ─────────────────────────────
  //
  // When the serving peer's heartbeat is a quarter interval late, connect to its control port (TCP):
  // a refusal means its machine is up but nothing listens there any more (the app crashed or was
  // killed), so it is gone now, not after 3 intervals. A timeout proves nothing (a Wi-Fi stall looks
  // the same as a power cut): the heartbeats decide then, as before.

  /** Is the peer's app gone? Checked now (a forwarded request was refused), or when it is late. */
  async checkGone(peerId: string): Promise<void> {
    if (!this.#running) return;
    const r = await this.d.probe(peerId, Math.min(500, this.d.config().intervalMs));
    if (!r || !this.#running) return;
    if (r.refused) this.#gone(peerId, `connection to ${r.where} refused`);
    else if (this.#election.peers[peerId]?.advert?.serving) this.#watchServing(peerId, true); // still late: look again
  }

  #watchServing(peerId: string, serving: boolean): void {
    const { clock } = this.d;
    const old = this.#lateTimers.get(peerId);
    if (old !== undefined) clock.clearTimeout(old);
    this.#lateTimers.delete(peerId);
    if (!serving || !this.#running) return;
    const t = clock.setTimeout(
      () => {
        this.#lateTimers.delete(peerId);
        void this.checkGone(peerId);
      },
      Math.round(this.d.config().intervalMs * 1.25),
    );
    this.#lateTimers.set(peerId, t);
  }

  #gone(peerId: string, why: string): void {
    if (!this.alive(peerId)) return;
    this.d.log.info('a paired host is gone (its port refuses connections)', { peer: peerId, why });
    this.dispatch({ type: 'gone', now: this.#mono(), from: peerId });
  }

  // ── The election's own deadlines (start-up window, hold-down, a peer running out) ──────────

  #schedule(): void {
    const { clock } = this.d;
    if (this.#deadlineTimer !== null) clock.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = null;
    if (!this.#running) return;
    const now = this.#mono();
    const at = nextDeadline(this.#election, now, this.d.config());
    if (at === null) return;
    this.#deadlineTimer = clock.setTimeout(
      () => {
        this.#deadlineTimer = null;
        this.dispatch({ type: 'tick', now: this.#mono() });
      },
      Math.max(1, Math.ceil(at - now) + 1),
    );
  }

  #initial(): Election {
    return initialElection(
      this.d.selfId(),
      this.d.self(),
      this.d.peerIds(),
      this.#mono(),
      this.d.config(),
    );
  }
}
