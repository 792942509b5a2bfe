// Open endpoints (no credentials, no secrets): /health and /api/status. Plus the token-gated
// event stream, which starts with the whole snapshot.

import os from 'node:os';
import type { Route } from '../router.js';
import type { CoreContext } from '../../context.js';

/**
 * The open snapshot with this user's home folder written `~` (issue #20: service messages such as
 * "Could not start /home/ana/vibevoice/.venv/bin/python" told the LAN the user's account name).
 * Token holders get the paths as they are (SSE, the local views).
 */
export function withoutHome<T>(value: T, home = os.homedir()): T {
  if (!home || home === '/') return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.includes(home) ? v.split(home).join('~') : v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export function statusRoutes(core: CoreContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      auth: false,
      handler: () => {
        const s = core.store.snapshot();
        return {
          status: 200,
          body: {
            ok: true,
            id: s.host.id,
            name: s.host.name,
            state: s.hibernation.state,
            serving: s.host.serving,
            ready: core.isReady(s),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/status',
      auth: false,
      handler: () => ({ status: 200, body: withoutHome(core.store.snapshot()) }),
    },
    {
      method: 'GET',
      path: '/api/events',
      auth: true,
      handler: ({ res }) => {
        core.events.attach(res, { event: 'snapshot', data: core.store.snapshot() });
        return undefined;
      },
    },
    {
      method: 'POST',
      path: '/api/notices/:id/dismiss',
      auth: true,
      handler: async ({ params }) => {
        await core.commands.execute({ type: 'notice.dismiss', id: params.id! });
        return { status: 204 };
      },
    },
  ];
}
