// The one state of the server. Sources (supervisor, GPU sampler, hibernation, peers) write their
// section; every view (API, SSE, tray, dashboard, mDNS) reads the composed snapshot.
// Change events are coalesced: many writes in one tick give one `change`.

import { isDeepStrictEqual } from 'node:util';
import { randomUUID } from 'node:crypto';
import type { Notice, Snapshot } from '../contract.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';

export type Sections = Omit<Snapshot, 'v' | 'notices'>;
export type SectionName = keyof Sections;

const MAX_NOTICES = 50;

interface StoreEvents extends Record<string, unknown> {
  change: Snapshot;
  notice: Notice;
}

export class StateStore {
  readonly #sections: Sections;
  #notices: Notice[] = [];
  readonly #events = new Emitter<StoreEvents>();
  #pending = false;
  #version = 0;

  constructor(
    initial: Sections,
    private readonly now: () => number = Date.now,
  ) {
    this.#sections = structuredClone(initial);
  }

  /** The whole snapshot (a fresh copy: callers may keep or mutate it). */
  snapshot(): Snapshot {
    return structuredClone({ v: 1, ...this.#sections, notices: this.#notices });
  }

  get<K extends SectionName>(name: K): Sections[K] {
    return structuredClone(this.#sections[name]);
  }

  /** Replaces a section; emits `change` (once per tick) only when something really changed. */
  set<K extends SectionName>(name: K, value: Sections[K]): void {
    if (isDeepStrictEqual(this.#sections[name], value)) return;
    this.#sections[name] = structuredClone(value);
    this.#changed();
  }

  update<K extends SectionName>(name: K, fn: (current: Sections[K]) => Sections[K]): void {
    this.set(name, fn(this.get(name)));
  }

  /** Monotonic counter of changes, for views that want to skip identical renders. */
  get version(): number {
    return this.#version;
  }

  /**
   * Raises a user-facing notice. A notice with the same code and message replaces the older
   * one instead of piling up (a crash loop must not flood the list).
   */
  notify(n: Omit<Notice, 'id' | 'at'>): Notice {
    const notice: Notice = { id: randomUUID(), at: new Date(this.now()).toISOString(), ...n };
    this.#notices = this.#notices.filter((o) => !(o.code === n.code && o.message === n.message));
    this.#notices.push(notice);
    if (this.#notices.length > MAX_NOTICES)
      this.#notices.splice(0, this.#notices.length - MAX_NOTICES);
    this.#events.emit('notice', notice);
    this.#changed();
    return notice;
  }

  dismissNotice(id: string): boolean {
    const before = this.#notices.length;
    this.#notices = this.#notices.filter((n) => n.id !== id);
    if (this.#notices.length === before) return false;
    this.#changed();
    return true;
  }

  onChange(listener: (s: Snapshot) => void): Unsubscribe {
    return this.#events.on('change', listener);
  }

  onNotice(listener: (n: Notice) => void): Unsubscribe {
    return this.#events.on('notice', listener);
  }

  #changed(): void {
    this.#version++;
    if (this.#pending) return;
    this.#pending = true;
    queueMicrotask(() => {
      this.#pending = false;
      if (this.#events.listenerCount('change') === 0) return;
      this.#events.emit('change', this.snapshot());
    });
  }
}
