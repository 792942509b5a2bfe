// This host as the election sees it: prio, readiness, a failed service, the hibernation state and the
// last real session activity; and `host.cannotServe`, which TXT `serving` and the views read.

import type { Activity, CoreContext } from '../context.js';
import type { Snapshot } from '../contract.js';
import { cannotServe } from './can-serve.js';
import type { SelfStatus } from './election.js';
import { isOwnWake } from './serving.js';

export class SelfView {
  /** Last real activity, on the monotonic clock (converted once, so it does not jitter). */
  #activityMono: number | null = null;

  constructor(
    private readonly ctx: CoreContext,
    private readonly mono: () => number,
  ) {}

  status(s: Snapshot = this.ctx.store.snapshot()): SelfStatus {
    return {
      prio: s.host.prio,
      ready: this.ctx.isReady(s),
      failed: s.services.some((svc) => svc.enabled && svc.status === 'failed'),
      state: s.hibernation.state,
      activityAt: this.#activityMono,
    };
  }

  /**
   * Hibernation counted activity. A session is real use (a lesson, a user's action); pairing's own
   * wake on taking over is not, and its source says so, whenever it comes.
   */
  noteActivity(a: Activity): boolean {
    if (isOwnWake(a.source)) return false;
    const at = this.mono() - Math.max(0, this.ctx.clock.now() - a.at);
    const next = this.#activityMono === null ? at : Math.max(this.#activityMono, at);
    if (next === this.#activityMono) return false;
    this.#activityMono = next;
    return true;
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
