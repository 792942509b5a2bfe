// Desktop notifications: watches the state and its notices, decides (./decide.ts) which events the
// user asked to hear about (settings.notifications), and hands them to a sink. The Electron shell's
// sink shows a Notification; tests pass an array.

import type { Snapshot } from '../contract.js';
import type { StateStore } from '../state/store.js';
import type { SettingsStore } from '../settings/store.js';
import type { Unsubscribe } from '../util/emitter.js';
import { fromNotice, fromSnapshots, type DesktopNotification } from './decide.js';

export type { DesktopNotification, NotificationKind } from './decide.js';
export { fromNotice, fromSnapshots } from './decide.js';

export interface NotifierDeps {
  store: Pick<StateStore, 'snapshot' | 'onChange' | 'onNotice'>;
  settings: Pick<SettingsStore, 'get'>;
  sink: (n: DesktopNotification) => void;
  now?: () => number;
  /** The same event is not shown twice within this window (ms; default 60 s). */
  repeatMs?: number;
}

/** Starts watching; returns the function that stops it. */
export function watchNotifications(deps: NotifierDeps): Unsubscribe {
  const now = deps.now ?? Date.now;
  const repeatMs = deps.repeatMs ?? 60_000;
  const shown = new Map<string, number>();
  let prev: Snapshot | null = deps.store.snapshot();
  const emit = (n: DesktopNotification | null) => {
    if (!n) return;
    const t = now();
    const last = shown.get(n.key);
    if (last !== undefined && t - last < repeatMs) return;
    shown.set(n.key, t);
    if (shown.size > 200) for (const [k, v] of shown) if (t - v >= repeatMs) shown.delete(k);
    deps.sink(n);
  };
  const offNotice = deps.store.onNotice((n) => emit(fromNotice(n, deps.settings.get().notifications)));
  const offChange = deps.store.onChange((s) => {
    for (const n of fromSnapshots(prev, s, deps.settings.get().notifications)) emit(n);
    prev = s;
  });
  return () => {
    offNotice();
    offChange();
  };
}
