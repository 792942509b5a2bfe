// What every capability receives from the composition: the shared state, settings, command bus,
// event hub, logger and clock. Capabilities depend on this interface, never on each other's files.

import type { ServerResponse } from 'node:http';
import type { LogLine, SeenHost, ServiceEntry, Snapshot } from './contract.js';
import type { StateStore } from './state/store.js';
import type { SettingsStore } from './settings/store.js';
import type { CommandBus } from './commands.js';
import type { Logger } from './util/logger.js';
import type { Clock } from './util/clock.js';
import type { Unsubscribe } from './util/emitter.js';

export interface CoreContext {
  readonly store: StateStore;
  readonly settings: SettingsStore;
  readonly commands: CommandBus;
  /** SSE hub: `snapshot`, `log` and `notice` events to dashboards. */
  readonly events: EventSink;
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

/** The SSE hub as capabilities see it (api/sse.ts implements it; the status route attaches streams). */
export interface EventSink {
  /** Sends one event to every attached dashboard. */
  broadcast(event: string, data: unknown): void;
  /** Streams events to one response, starting with `first`. */
  attach(res: ServerResponse, first?: { event: string; data: unknown }): void;
}

// Narrow interfaces one capability offers another: the composition hands over the implementation.

/** The supervisor's public face: what the API, hibernation, the GPU sampler, setup and the tray use. */
export interface Supervisor extends Capability {
  /** Current entries, as in the snapshot's `services`. */
  list(): ServiceEntry[];
  get(id: string): ServiceEntry | undefined;
  startService(id: string): Promise<ServiceEntry>;
  stopService(id: string): Promise<ServiceEntry>;
  restartService(id: string): Promise<ServiceEntry>;
  startAll(): Promise<void>;
  stopAll(): Promise<void>;
  /** Last `lines` log lines of a service (from the in-memory ring). */
  logs(id: string, lines: number): LogLine[];
  onLog(listener: (e: { service: string; line: LogLine }) => void): Unsubscribe;
  /** Pids of the service's whole process tree (itself, runners, …), for VRAM attribution. */
  processTree(id: string): Promise<number[]>;
  /** Base URL of the service's HTTP endpoint as the core reaches it (e.g. http://127.0.0.1:11434). */
  baseUrl(id: string): string | null;
  /** Resolves true once the service is running and healthy, false after `timeoutMs`. */
  waitReady(id: string, timeoutMs: number): Promise<boolean>;
  /**
   * Each time a service becomes ready, whoever started it (ours after its health check, a restart
   * after a crash, an external one adopted). Only a report: what to load is hibernation's decision.
   */
  onReady(listener: (id: string) => void): Unsubscribe;
  /** Adds a line of ours (stream `supervisor`) to a service's log: what another part did to it. */
  note(id: string, text: string): void;
}

/** Activity that reset hibernation's idle clock, with who reported it ("ollama connection from …", "pairing: promotion"). */
export interface Activity {
  /** Milliseconds since the epoch (the core's clock). */
  at: number;
  source: string;
}

/**
 * Hibernation's activity as another capability follows it: pairing counts session activity from it,
 * and tells its own wake apart by the source, not by when it came.
 */
export interface ActivityFeed {
  onActivity(listener: (a: Activity) => void): Unsubscribe;
}

/** What pairing needs of discovery: the other hosts seen now, and word when that changes. */
export interface SeenHosts {
  list(): SeenHost[];
  onChange(listener: () => void): Unsubscribe;
}

/** Keeps the OS awake while the server is busy (power/ implements it; the shell has Electron's). */
export interface PowerBlocker {
  /** How sleep is blocked here ("systemd-inhibit", "powerSaveBlocker", "none: …"), for logs and the UI. */
  readonly mechanism: string;
  /** True between acquire() and release() (whether or not the OS accepted the block). */
  readonly held: boolean;
  /** Blocks system sleep until release(). A second acquire while held is a no-op. */
  acquire(reason: string): void;
  /** Lets the OS sleep again. A no-op when not held. */
  release(): void;
  /** Releases and waits until any helper process has exited. */
  dispose(): Promise<void>;
}
