// Start at login with Electron's login items on macOS and Windows, and an XDG autostart entry on
// Linux (Electron has no login items there).

import type { App } from 'electron';
import { XdgAutostart, type LoginItem } from './login-item.js';

export function createLoginItem(
  app: Pick<
    App,
    'getLoginItemSettings' | 'setLoginItemSettings' | 'isPackaged' | 'getAppPath' | 'getName'
  >,
  platform = process.platform,
): LoginItem {
  if (platform === 'linux') {
    // An AppImage runs from a temporary mount: start the AppImage file itself.
    const exec = process.env.APPIMAGE
      ? [process.env.APPIMAGE]
      : app.isPackaged
        ? [process.execPath]
        : [process.execPath, app.getAppPath()];
    return new XdgAutostart({
      name: 'UnaMentis Server',
      comment: 'Voice-tutoring server for the UnaMentis iPhone app',
      exec,
      icon: 'unamentis-server',
    });
  }
  return {
    mechanism: 'login item',
    get: () => app.getLoginItemSettings().openAtLogin,
    // The app opens no window at start (the tray is all), so nothing needs hiding.
    set: (on: boolean) => app.setLoginItemSettings({ openAtLogin: on }),
  };
}
