// First-run setup's routes (main/core/setup/).

import { STEP_IDS, type StepId } from '../../contract.js';
import { CoreError } from '../../errors.js';
import type { Setup } from '../../setup/index.js';
import type { Route } from '../router.js';

/** Token-gated: running a step installs software and writes gigabytes. */
export function setupRoutes(setup: Setup): Route[] {
  const stepOf = (raw: string | undefined): StepId => {
    if (!(STEP_IDS as readonly string[]).includes(raw ?? ''))
      throw new CoreError(
        'not_found',
        `No setup step "${String(raw).slice(0, 32)}" (steps: ${STEP_IDS.join(', ')}).`,
      );
    return raw as StepId;
  };
  return [
    {
      method: 'GET',
      path: '/api/setup',
      auth: true,
      handler: () => ({ status: 200, body: setup.view() }),
    },
    {
      method: 'POST',
      path: '/api/setup/:step/run',
      auth: true,
      handler: ({ params }) => {
        setup.run(stepOf(params.step));
        return { status: 202, body: setup.view() };
      },
    },
    {
      method: 'POST',
      path: '/api/setup/:step/cancel',
      auth: true,
      handler: ({ params }) => {
        setup.cancel(stepOf(params.step));
        return { status: 202, body: setup.view() };
      },
    },
    {
      method: 'POST',
      path: '/api/setup/dismiss',
      auth: true,
      handler: () => {
        setup.dismiss();
        return { status: 200, body: setup.view() };
      },
    },
  ];
}
