// Which events become a desktop notification: a pure function of each new notice (and of each
// pairing request, which carries the code), filtered by settings.notifications. The shell shows
// them with Electron's Notification; nothing here knows about Electron.

import type { Notice } from '../contract.js';
import type { Settings } from '../settings/schema.js';
import { MISSING } from '../contract.js';

type NotificationKind = keyof Settings['notifications'];

export interface DesktopNotification {
  kind: NotificationKind;
  title: string;
  body: string;
  /** Dashboard section to open when the notification is clicked (a URL hash without `#`). */
  section: string;
  /** Same key = same event: a sink may replace rather than stack them. */
  key: string;
}

type Prefs = Settings['notifications'];

/** Notices the core raises that deserve a desktop notification, by code. */
export function fromNotice(n: Notice, prefs: Prefs): DesktopNotification | null {
  const make = (
    kind: NotificationKind,
    title: string,
    section: string,
  ): DesktopNotification | null =>
    prefs[kind]
      ? { kind, title, body: n.message, section, key: `${kind}:${n.code}:${n.message}` }
      : null;
  switch (n.code) {
    case 'service_failed': {
      // The supervisor writes "<Service name>: <why>".
      const service = /^([^:]{1,64}):/.exec(n.message)?.[1];
      // Not installed (no program, module or voice): the setup view installs it with one click.
      if (MISSING.test(n.message))
        return make(
          'serviceFailed',
          service ? `${service} is not installed` : 'A service is not installed',
          'setup',
        );
      return make('serviceFailed', service ? `${service} failed` : 'A service failed', 'services');
    }
    case 'setup_needed':
      return make('serviceFailed', 'Finish setting up UnaMentis Server', 'setup');
    case 'model_too_big':
      return make('modelTooBig', 'Model too big for the GPU', 'gpu');
    // Pairing's election: a promotion, handoff, failback or yield changed who serves.
    case 'pairing_serving':
    case 'pairing_not_serving':
      return make('failover', 'Serving moved', 'pairing');
    // 'pairing_request' has no code in it: the request itself (fromPairingRequest) does.
  }
  return null;
}

export interface PairingRequest {
  code: string;
  fromId: string;
  fromName: string;
  address: string;
}

/** Another host asked to pair: the notification carries the code to type there. */
export function fromPairingRequest(r: PairingRequest, prefs: Prefs): DesktopNotification | null {
  if (!prefs.pairing) return null;
  const code = /^\d{6}$/.test(r.code) ? `${r.code.slice(0, 3)} ${r.code.slice(3)}` : r.code;
  return {
    kind: 'pairing',
    title: `Pairing code ${code}`,
    body: `${r.fromName} (${r.address}) asks to pair with this computer. Type ${code} there. If that was not you, open the dashboard and cancel.`,
    section: 'pairing',
    key: `pairing:${r.fromId}:${r.code}`,
  };
}
