// Shows the core's notification decisions (main/core/notifications) as Electron Notifications; a
// click opens the dashboard at the matching section.

import { Notification } from 'electron';
import type { Core } from '../core/index.js';
import { watchNotifications, type DesktopNotification } from '../core/notifications/index.js';

export function showNotifications(
  core: Pick<Core, 'store' | 'settings' | 'pairing' | 'logger'>,
  open: (section: string) => void,
  iconPath?: string,
  platform: NodeJS.Platform = process.platform,
): () => void {
  // One live Notification per key: a click comes only to an object that is still referenced.
  const live = new Map<string, Notification>();
  let failureNoticed = false;
  const stop = watchNotifications({
    store: core.store,
    pairingRequests: (listener) => core.pairing.onRequest(listener),
    settings: core.settings,
    sink: (n: DesktopNotification) => {
      if (!Notification.isSupported()) return;
      live.get(n.key)?.close();
      const note = new Notification({
        title: n.title,
        body: n.body,
        ...(iconPath ? { icon: iconPath } : {}),
        urgency: n.kind === 'serviceFailed' ? 'critical' : 'normal',
      });
      note.on('click', () => open(n.section));
      // Windows emits 'close' when the toast times out into the Action Center, where it can still be
      // clicked (Electron's Notification docs): keep it there until the next one of its kind replaces it.
      note.on('close', () => {
        if (platform !== 'win32' && live.get(n.key) === note) live.delete(n.key);
      });
      // macOS and Windows report a notification the OS refused (notifications off, no AppUserModelId).
      note.on('failed', (_e, error) => {
        if (live.get(n.key) === note) live.delete(n.key);
        core.logger.warn(`desktop notification "${n.title}" could not be shown: ${error}`);
        if (failureNoticed) return;
        failureNoticed = true;
        core.store.notify({
          level: 'warning',
          code: 'notification_failed',
          message: `Desktop notifications could not be shown (${error}). Check the system's notification settings for UnaMentis Server.`,
        });
      });
      live.set(n.key, note);
      note.show();
    },
  });
  return () => {
    stop();
    live.clear();
  };
}
