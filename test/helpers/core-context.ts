// A real CoreContext over a data dir, for tests that run one capability without createCore: the
// real settings file, state store, command bus and SSE hub, a silent logger and the system clock.

import type { HostInfo, ServiceEntry } from '../../main/core/contract.js';
import type { CoreContext } from '../../main/core/context.js';
import { CommandBus } from '../../main/core/commands.js';
import { EventHub } from '../../main/core/api/sse.js';
import { SettingsStore } from '../../main/core/settings/store.js';
import { StateStore } from '../../main/core/state/store.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { systemClock } from '../../main/core/util/clock.js';

export interface TestContextOptions {
  dataDir: string;
  platform?: NodeJS.Platform;
  hostname?: string;
  /** Over the default host (id `x`, primary, prio 200, serving). */
  host?: Partial<HostInfo>;
  services?: ServiceEntry[];
}

export function testContext(opts: TestContextOptions): CoreContext {
  const platform = opts.platform ?? process.platform;
  const hostname = opts.hostname ?? 'test';
  const { store: settings } = SettingsStore.open({
    dataDir: opts.dataDir,
    facts: { platform, hostname },
  });
  const store = new StateStore(
    {
      host: {
        id: 'x',
        name: hostname,
        platform,
        role: 'primary',
        prio: 200,
        serving: true,
        ...opts.host,
      },
      hibernation: { state: 'active', idleSeconds: 0, next: null },
      services: opts.services ?? [],
      gpu: { sampledAt: null, gpus: [], models: [] },
      peers: [],
    },
    () => Date.now(),
  );
  return {
    store,
    settings,
    commands: new CommandBus(),
    events: new EventHub(),
    logger: nullLogger,
    clock: systemClock,
    dataDir: opts.dataDir,
    isReady: () => true,
  };
}
