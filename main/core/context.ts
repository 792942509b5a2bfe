// What every capability receives from the composition: the shared state, settings, command bus,
// event hub, logger and clock. Capabilities depend on this interface, never on each other's files.

import type { Snapshot } from './contract.js';
import type { StateStore } from './state/store.js';
import type { SettingsStore } from './settings/store.js';
import type { CommandBus } from './commands.js';
import type { EventHub } from './api/sse.js';
import type { Logger } from './util/logger.js';
import type { Clock } from './util/clock.js';

export interface CoreContext {
  readonly store: StateStore;
  readonly settings: SettingsStore;
  readonly commands: CommandBus;
  /** SSE hub: `snapshot`, `log` and `notice` events to dashboards. */
  readonly events: EventHub;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly dataDir: string;
  /** True when every enabled service is running and healthy (CONTRACT /health `ready`). */
  isReady(s?: Snapshot): boolean;
}

/** Something the core starts and stops in order (supervisor, GPU sampler, mDNS, …). */
export interface Capability {
  readonly name: string;
  start(): Promise<void> | void;
  /** Undo start. `reason` lets e.g. pairing announce a handoff before quitting. */
  stop(reason?: StopReason): Promise<void> | void;
}

export type StopReason = 'quit' | 'suspend' | 'restart';
