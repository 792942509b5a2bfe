// The GPU's routes. Open (no secrets): the history ring, a fit check, the inventory. Token-gated:
// re-reading the inventory (it spawns processes).

import { badRequest } from '../../errors.js';
import type { GpuMonitor } from '../../gpu/index.js';
import type { Route } from '../router.js';

/**
 * Open (no secrets): the history ring, a fit check, the inventory. Token-gated: re-reading the
 * inventory (it spawns processes).
 */
export function gpuRoutes(gpu: GpuMonitor): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/gpu/history',
      auth: false,
      handler: ({ url }) => {
        const raw = url.searchParams.get('since');
        const since = raw === null ? undefined : Number(raw);
        if (since !== undefined && !Number.isFinite(since))
          throw badRequest('since must be a time in milliseconds since the epoch', 'since');
        return { status: 200, body: gpu.history(since) };
      },
    },
    {
      method: 'GET',
      path: '/api/gpu/fit',
      auth: false,
      handler: ({ url }) => {
        const model = url.searchParams.get('model')?.trim() ?? '';
        if (!model || model.length > 200)
          throw badRequest('model is required (e.g. ?model=qwen2.5:14b)', 'model');
        return { status: 200, body: { model, ...gpu.checkModelFits(model) } };
      },
    },
    {
      method: 'GET',
      path: '/api/gpu/inventory',
      auth: false,
      handler: () => ({ status: 200, body: gpu.inventory() }),
    },
    {
      // Cold and dormant sample only on demand (no looping nvidia-smi): the dashboard asks here.
      method: 'POST',
      path: '/api/gpu/sample',
      auth: true,
      handler: async () => {
        await gpu.sampleNow();
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/api/gpu/inventory/refresh',
      auth: true,
      handler: async () => {
        await gpu.refreshInventory();
        return { status: 200, body: gpu.inventory() };
      },
    },
  ];
}
