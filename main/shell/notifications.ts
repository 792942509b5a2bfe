// Shows the core's notification decisions (main/core/notifications) as Electron Notifications; a
// click opens the dashboard at the matching section.

import { Notification } from 'electron';
import type { Core } from '../core/index.js';
import { watchNotifications, type DesktopNotification } from '../core/notifications/index.js';

export function showNotifications(core: Core, open: (section: string) => void, iconPath?: string): () => void {
  const live = new Map<string, Notification>();
  return watchNotifications({
    store: core.store,
    pairingRequests: (listener) => core.pairing.onRequest(listener),
    settings: core.settings,
    sink: (n: DesktopNotification) => {
      if (!Notification.isSupported()) return;
      live.get(n.key)?.close();
      const note = new Notification({ title: n.title, body: n.body, ...(iconPath ? { icon: iconPath } : {}), urgency: n.kind === 'serviceFailed' ? 'critical' : 'normal' });
      note.on('click', () => open(n.section));
      note.on('close', () => live.delete(n.key));
      live.set(n.key, note);
      note.show();
    },
  });
}
