// The supervisor's public face: what the API, hibernation, the GPU sampler and the tray use.
// (Implementation: issue 3, in this folder.)

import type { LogLine, ServiceEntry } from '../contract.js';
import type { Capability } from '../context.js';
import type { Unsubscribe } from '../util/emitter.js';

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
}

/** Beyond the base interface: what the tray and dashboard need for an `external` service. */
export interface SupervisorWithTakeOver extends Supervisor {
  /** Stops whoever holds the port of an `external` service and starts our own. */
  takeOver(id: string): Promise<ServiceEntry>;
}
