// What this host does when the election changes whether it serves: `host.serving` (TXT `serving`),
// the wake on taking over, and the notice for the user.

import type { CoreContext } from '../context.js';
import type { Logger } from '../util/logger.js';
import type { ServeKind } from './election.js';

/** The source of the wake pairing sends when it takes over: its activity is not a session. */
const OWN_WAKE = 'pairing: ';
export const ownWakeSource = (kind: ServeKind): string => `${OWN_WAKE}${kind}`;
export const isOwnWake = (source: string): boolean => source.startsWith(OWN_WAKE);

export interface ServingDeps {
  ctx: CoreContext;
  log: Logger;
  /** Ids in reasons → names. */
  describe: (reason: string) => string;
}

export function applyServing(
  d: ServingDeps,
  serving: boolean,
  kind: ServeKind,
  reason: string,
): void {
  const { ctx, log, describe } = d;
  ctx.store.update('host', (h) => ({ ...h, serving }));
  log.info(serving ? 'now serving' : 'no longer serving', { kind, reason });
  if (serving && kind !== 'unpaired' && ctx.commands.has('wake')) {
    // Wake at once (hibernation → active, models preloaded). `serving=1` is announced now, with
    // ready=false in /health until the services are up: the phone learns where to go without delay.
    void Promise.resolve(ctx.commands.execute({ type: 'wake', source: ownWakeSource(kind) })).catch(
      (err: unknown) => log.warn('wake after promotion failed', { err }),
    );
  }
  if (
    ctx.settings.get().notifications.failover &&
    (kind === 'promotion' || kind === 'failback' || kind === 'handoff' || kind === 'yield')
  ) {
    const name = ctx.store.get('host').name;
    ctx.store.notify({
      level: 'info',
      code: serving ? 'pairing_serving' : 'pairing_not_serving',
      message: serving
        ? `${name} now serves the iPhone (${describe(reason)}).`
        : `${name} no longer serves the iPhone (${describe(reason)}).`,
    });
  }
}
