// This host as the election sees it: prio, readiness, a failed service, the hibernation state and the
// last real session activity; and `host.cannotServe`, which TXT `serving` and the views read.

import type { CoreContext } from '../context.js';
import type { Snapshot } from '../contract.js';
import { cannotServe } from './can-serve.js';
import type { SelfStatus } from './election.js';

export class SelfView {
  // Real activity (a lesson), not our own promotion wake: hibernation's lastActivityAt moves for
  // both, so a change within a moment of our wake is not counted.
  #seenActivityIso: string | undefined;
  /** Last real activity, on the monotonic clock (converted once, so it does not jitter). */
  #activityMono: number | null = null;
  #ownWakeAt: number | null = null;

  constructor(
    private readonly ctx: CoreContext,
    private readonly mono: () => number,
  ) {
    this.#seenActivityIso = ctx.store.get('hibernation').lastActivityAt;
  }

  /** Listening starts: what hibernation recorded before is not this run's activity. */
  reset(): void {
    this.#seenActivityIso = this.ctx.store.get('hibernation').lastActivityAt;
  }

  status(s: Snapshot = this.ctx.store.snapshot()): SelfStatus {
    return {
      prio: s.host.prio,
      ready: this.ctx.isReady(s),
      failed: s.services.some((svc) => svc.enabled && svc.status === 'failed'),
      state: s.hibernation.state,
      activityAt: this.#activityMono,
    };
  }

  /** Pairing is about to wake this host itself (a promotion): that is not a session. */
  ownWake(): void {
    this.#ownWakeAt = this.ctx.clock.now();
  }

  noteActivityAt(wall: number): void {
    const at = this.mono() - Math.max(0, this.ctx.clock.now() - wall);
    this.#activityMono = this.#activityMono === null ? at : Math.max(this.#activityMono, at);
  }

  noteActivity(s: Snapshot): void {
    const iso = s.hibernation.lastActivityAt;
    if (!iso || iso === this.#seenActivityIso) return;
    this.#seenActivityIso = iso;
    const t = Date.parse(iso);
    if (!Number.isFinite(t)) return;
    const own = this.#ownWakeAt;
    if (own !== null && t >= own - 50 && t <= own + 1_500) return;
    this.noteActivityAt(t);
  }

  /** `host.cannotServe`: the reason, or absent. */
  writeCannotServe(s: Snapshot): void {
    const why = cannotServe(s);
    if ((s.host.cannotServe ?? null) === why) return;
    this.ctx.store.update('host', (h) => {
      const { cannotServe: _old, ...rest } = h;
      return why === null ? rest : { ...rest, cannotServe: why };
    });
  }
}
