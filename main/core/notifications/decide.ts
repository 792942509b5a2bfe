// Which events become a desktop notification: a pure function of (previous snapshot, next
// snapshot) and of each new notice, filtered by settings.notifications. The shell shows them with
// Electron's Notification; nothing here knows about Electron.

import type { Notice, Snapshot } from '../contract.js';
import type { Settings } from '../settings/schema.js';

export type NotificationKind = keyof Settings['notifications'];

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
  const make = (kind: NotificationKind, title: string, section: string): DesktopNotification | null =>
    prefs[kind] ? { kind, title, body: n.message, section, key: `${kind}:${n.code}:${n.message}` } : null;
  switch (n.code) {
    case 'service_failed': {
      // The supervisor writes "<Service name>: <why>".
      const service = /^([^:]{1,64}):/.exec(n.message)?.[1];
      return make('serviceFailed', service ? `${service} failed` : 'A service failed', 'services');
    }
    case 'model_too_big':
      return make('modelTooBig', 'Model too big for the GPU', 'gpu');
  }
  if (/^pairing_(request|code)/.test(n.code)) {
    const code = /\b(\d{3}[ -]?\d{3})\b/.exec(n.message)?.[1];
    return make('pairing', code ? `Pairing code ${code}` : 'Pairing request', 'pairing');
  }
  if (/^(failover|handoff|failback)/.test(n.code)) return make('failover', 'Serving moved', 'pairing');
  return null;
}

/**
 * Events read from two consecutive snapshots: which host serves changed (a failover, handoff or
 * failback). Only between paired hosts: a lone host's `serving` flag is not news.
 */
export function fromSnapshots(prev: Snapshot | null, next: Snapshot, prefs: Prefs): DesktopNotification[] {
  if (!prev || !prefs.failover) return [];
  const out: DesktopNotification[] = [];
  const paired = (s: Snapshot) => s.peers.filter((p) => p.paired !== false);
  if (paired(prev).length === 0 && paired(next).length === 0) return out;
  if (prev.host.serving === next.host.serving) return out;
  const prevServer = paired(prev).find((p) => p.serving);
  const nextServer = paired(next).find((p) => p.serving);
  if (next.host.serving) {
    const from = prevServer ? prevServer.name : 'the other computer';
    const gone = prevServer && !next.peers.some((p) => p.id === prevServer.id && p.lastSeenSeconds < 5);
    out.push({
      kind: 'failover',
      title: 'This computer now serves the iPhone',
      body: gone ? `${from} stopped answering; ${next.host.name} took over.` : `${from} handed over to ${next.host.name}.`,
      section: 'pairing',
      key: `failover:${next.host.id}`,
    });
  } else {
    const to = nextServer ? nextServer.name : 'another computer';
    out.push({
      kind: 'failover',
      title: `${to} now serves the iPhone`,
      body: `${next.host.name} handed over to ${to} and stands by.`,
      section: 'pairing',
      key: `failover:${nextServer?.id ?? 'other'}`,
    });
  }
  return out;
}
