// Activity and wake (open to the LAN, rate-limited per client: CONTRACT §2), and the token-gated
// manual controls: "hibernate now" and "keep awake". Everything goes through the command bus.

import { badRequest, HttpError } from '../errors.js';
import type { Route } from '../router.js';
import type { CoreContext } from '../../context.js';
import type { HibernationControl } from '../../hibernation/index.js';
import { HIBERNATION_STATES } from '../../contract.js';
import { readiness, serviceView } from '../../frontdoor/verdict.js';

/** CONTRACT: `?wait=1` waits until ready, at most 120 s. */
const WAKE_WAIT_MS = 120_000;

const MAX_KEEP_AWAKE_MINUTES = 7 * 24 * 60;

export function hibernationRoutes(
  core: CoreContext,
  hibernation: HibernationControl,
  opts: { wakeWaitMs?: number } = {},
): Route[] {
  const waitMs = opts.wakeWaitMs ?? WAKE_WAIT_MS;
  return [
    {
      method: 'POST',
      path: '/api/activity',
      auth: false,
      rate: 'activity',
      handler: async ({ client }) => {
        await core.commands.execute({ type: 'activity', source: `api ${client}` });
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/api/wake',
      auth: false,
      rate: 'wake',
      handler: async ({ url, client }) => {
        const wait = url.searchParams.get('wait');
        if (wait === '1' || wait === 'true') {
          // After the wake's own starts, a service that failed (or that the user stopped) will not
          // come up by waiting: answer at once with the reasons instead of waiting out the 120 s.
          const stuck = () =>
            readiness(core.store.get('services').map(serviceView), () => false, false);
          const ready = await hibernation.wakeAndWait(
            `api ${client}`,
            waitMs,
            () => stuck().type === 'stuck',
          );
          const now = stuck();
          if (!ready && now.type === 'stuck') {
            throw new HttpError(
              'service_unavailable',
              `Not every service can start: ${now.problems.map((p) => p.message).join(' ')}`,
            );
          }
          if (!ready) {
            throw new HttpError(
              'timeout',
              `Not ready after ${Math.round(waitMs / 1000)} s; see /api/status for the services that are not.`,
            );
          }
          return { status: 200, body: core.store.snapshot() };
        }
        const r = (await core.commands.execute({ type: 'wake', source: `api ${client}` })) as {
          state: string;
        };
        return { status: 202, body: { state: r.state } };
      },
    },
    {
      method: 'POST',
      path: '/api/hibernation/hibernate',
      auth: true,
      handler: async (ctx) => {
        const body = (await ctx.body()) as { state?: unknown } | undefined;
        const state = body?.state;
        if (
          typeof state !== 'string' ||
          !(HIBERNATION_STATES as readonly string[]).includes(state)
        ) {
          throw badRequest(`state must be one of ${HIBERNATION_STATES.join(', ')}`, 'state');
        }
        const section = await core.commands.execute({ type: 'hibernate', state });
        return { status: 202, body: section };
      },
    },
    {
      method: 'POST',
      path: '/api/hibernation/keep-awake',
      auth: true,
      handler: async (ctx) => {
        const body = (await ctx.body()) as { on?: unknown; minutes?: unknown } | undefined;
        if (typeof body?.on !== 'boolean') throw badRequest('on must be true or false', 'on');
        const minutes = body.minutes ?? null;
        if (
          minutes !== null &&
          (typeof minutes !== 'number' || !(minutes > 0) || minutes > MAX_KEEP_AWAKE_MINUTES)
        ) {
          throw badRequest(
            `minutes must be a positive number up to ${MAX_KEEP_AWAKE_MINUTES}, or null (until turned off)`,
            'minutes',
          );
        }
        const section = await core.commands.execute({ type: 'keepAwake', on: body.on, minutes });
        return { status: 200, body: section };
      },
    },
  ];
}
