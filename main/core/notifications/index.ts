// Desktop notifications: watches the notices (and pairing requests, which carry the code), decides
// (./decide.ts) which events the user asked to hear about (settings.notifications), and hands them to
// a sink. The Electron shell's sink shows a Notification; tests pass an array.

import type { Notice } from '../contract.js';
import type { SettingsStore } from '../settings/store.js';
import type { Unsubscribe } from '../util/emitter.js';
import {
  fromNotice,
  fromPairingRequest,
  type DesktopNotification,
  type PairingRequest,
} from './decide.js';

export type { DesktopNotification, PairingRequest } from './decide.js';
export { fromNotice, fromPairingRequest } from './decide.js';

export interface NotifierDeps {
  store: { onNotice(listener: (n: Notice) => void): Unsubscribe };
  /** Pairing requests as they arrive (the pairing capability's onRequest). */
  pairingRequests?: (listener: (r: PairingRequest) => void) => Unsubscribe;
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
  const emit = (n: DesktopNotification | null) => {
    if (!n) return;
    const t = now();
    const last = shown.get(n.key);
    if (last !== undefined && t - last < repeatMs) return;
    shown.set(n.key, t);
    if (shown.size > 200) for (const [k, v] of shown) if (t - v >= repeatMs) shown.delete(k);
    deps.sink(n);
  };
  const prefs = () => deps.settings.get().notifications;
  const offs = [deps.store.onNotice((n) => emit(fromNotice(n, prefs())))];
  if (deps.pairingRequests)
    offs.push(deps.pairingRequests((r) => emit(fromPairingRequest(r, prefs()))));
  return () => offs.forEach((off) => off());
}
