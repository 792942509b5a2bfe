// Open endpoints (no credentials, no secrets): /health and /api/status. Plus the token-gated
// event stream, which starts with the whole snapshot.

import type { Route } from '../router.js';
import type { CoreContext } from '../../context.js';

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
    { method: 'GET', path: '/api/status', auth: false, handler: () => ({ status: 200, body: core.store.snapshot() }) },
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
