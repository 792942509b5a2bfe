// GET/PUT /api/settings: token-gated; secrets are never sent; a bad value is a 400 naming the
// field, and nothing is changed. A change of which program runs is a 403 (settings/programs.ts).

import { HttpError } from '../errors.js';
import type { Route } from '../router.js';
import type { CoreContext } from '../../context.js';

export function settingsRoutes(core: CoreContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/settings',
      auth: true,
      handler: () => ({ status: 200, body: core.settings.redacted() }),
    },
    {
      method: 'PUT',
      path: '/api/settings',
      auth: true,
      handler: async (ctx) => {
        const body = await ctx.body();
        const result = core.settings.update(body, 'api');
        if (!result.ok) {
          const { field, message } = result.problem;
          if (field === '(file)') throw new HttpError('internal', `Settings ${message}`);
          if (result.problem.forbidden)
            throw new HttpError('forbidden', `${field} ${message}`, field);
          throw new HttpError('bad_request', `${field} ${message}`, field);
        }
        return { status: 200, body: core.settings.redacted() };
      },
    },
  ];
}
