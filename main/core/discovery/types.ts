// Discovery's public face: what pairing, the dashboard and the CLI use. Types only.

import type { Capability } from '../context.js';
import type { Unsubscribe } from '../util/emitter.js';
import type { BrowserCounter } from './browser.js';
import type { DiscoveredHost, HostChange } from './host-table.js';
import type { TxtRecord } from './txt.js';

export interface Discovery extends Capability {
  /** The other UnaMentis hosts on the allowed interfaces now (never this one). */
  list(): DiscoveredHost[];
  /** Same as list(). */
  readonly hosts: DiscoveredHost[];
  /** `up` when a host appears, `update` when its TXT, port, addresses or health change, `down` when it leaves. */
  onChange(listener: (c: HostChange) => void): Unsubscribe;
  /** The instance name announced (after any conflict rename), or null when not advertising. */
  advertisedName(): string | null;
  /** The TXT record announced now, or null when not advertising. */
  txt(): TxtRecord | null;
  /** Interfaces in use (names). */
  interfaces(): string[];
  /** Ignored input so far, by reason (malformed TXT, hostile packets, a peer claiming our id, …). */
  counters(): Partial<Record<BrowserCounter | 'responderDropped', number>>;
}
