// Token-gated service control: start/stop/restart/take-over one service, start-all/stop-all, and
// the last log lines. Changes go through the command bus, like every other view's.

import { HttpError } from '../errors.js';
import type { Route } from '../router.js';
import type { CoreContext } from '../../context.js';
import { isServiceId, type ServiceEntry } from '../../contract.js';
import type { Supervisor } from '../../supervisor/types.js';

const DEFAULT_LINES = 200;

function checkId(id: string | undefined): string {
  if (!id || !isServiceId(id))
    throw new HttpError(
      'bad_request',
      `"${String(id).slice(0, 64)}" is not a valid service id (lowercase letters, digits and -).`,
    );
  return id;
}

/** Maps the supervisor's errors (by their `code`) to the contract's. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'not_found' || code === 'conflict' || code === 'bad_request')
      throw new HttpError(code, (err as Error).message);
    throw err;
  }
}

export function servicesRoutes(
  core: CoreContext,
  sup: Pick<Supervisor, 'get' | 'list' | 'logs'>,
): Route[] {
  const action = (
    verb: 'start' | 'stop' | 'restart' | 'take-over',
    type: 'service.start' | 'service.stop' | 'service.restart' | 'service.takeOver',
  ): Route => ({
    method: 'POST',
    path: `/api/services/:id/${verb}`,
    auth: true,
    handler: async ({ params }) => {
      const id = checkId(params.id);
      if (!sup.get(id)) throw new HttpError('not_found', `No service "${id}".`);
      const entry = (await call(() => core.commands.execute({ type, id }))) as ServiceEntry;
      return { status: 202, body: entry };
    },
  });
  return [
    {
      method: 'POST',
      path: '/api/services/start-all',
      auth: true,
      handler: async () => {
        await call(() => core.commands.execute({ type: 'services.startAll' }));
        return { status: 202, body: { services: sup.list() } };
      },
    },
    {
      method: 'POST',
      path: '/api/services/stop-all',
      auth: true,
      handler: async () => {
        await call(() => core.commands.execute({ type: 'services.stopAll' }));
        return { status: 202, body: { services: sup.list() } };
      },
    },
    action('start', 'service.start'),
    action('stop', 'service.stop'),
    action('restart', 'service.restart'),
    action('take-over', 'service.takeOver'),
    {
      method: 'GET',
      path: '/api/services/:id/logs',
      auth: true,
      handler: ({ params, url }) => {
        const id = checkId(params.id);
        if (!sup.get(id)) throw new HttpError('not_found', `No service "${id}".`);
        const raw = url.searchParams.get('lines');
        const lines = raw === null || raw === '' ? DEFAULT_LINES : Number(raw);
        if (!Number.isInteger(lines) || lines < 1 || lines > 100_000) {
          throw new HttpError(
            'bad_request',
            'lines must be a whole number from 1 to 100000',
            'lines',
          );
        }
        return { status: 200, body: { lines: sup.logs(id, lines) } };
      },
    },
  ];
}
