// The Electron main process: wires the core to the tray, the dashboard window and IPC.
// No business logic here: everything the user does becomes a core command.

import { app, dialog, ipcMain } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCore, type Core } from '../core/index.js';
import { createLogger } from '../core/util/logger.js';
import type { MenuAction } from '../core/tray-menu/menu-model.js';
import { Channels } from '../../preload/channels.js';
import { DashboardWindow } from './dashboard-window.js';
import { TrayService } from './tray-service.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/main/shell → app root
const appRoot = path.resolve(here, '../../..');
const resourcesDir = app.isPackaged ? process.resourcesPath : path.join(appRoot, 'resources');
const logger = createLogger({ scope: 'shell' });

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the tray; it opens its dashboard on 'second-instance'.
  app.quit();
} else {
  void main();
}

async function main(): Promise<void> {
  await app.whenReady();
  if (process.platform === 'darwin') app.dock?.hide();

  const core: Core = createCore({
    dataDir: app.getPath('userData'),
    logger: createLogger({ scope: 'core' }),
    rendererDir: path.join(appRoot, 'dist', 'renderer'),
    version: app.getVersion(),
  });

  let origin = '';
  try {
    const { port } = await core.start();
    origin = `http://127.0.0.1:${port}`;
  } catch (err) {
    dialog.showErrorBox('UnaMentis Server could not start', (err as Error).message);
    app.exit(1);
    return;
  }

  const dashboard = new DashboardWindow(path.join(appRoot, 'dist', 'preload', 'preload.cjs'), () => origin);
  const startAtLogin = () => app.getLoginItemSettings().openAtLogin;

  const onAction = (action: MenuAction) => {
    switch (action.kind) {
      case 'command':
        core.commands.execute(action.command).catch((err) => logger.error('command failed', { err }));
        return;
      case 'openDashboard':
        dashboard.show(action.section);
        return;
      case 'openLog':
        dashboard.show(`services/${action.service}/logs`);
        return;
      case 'pair':
        dashboard.show('pairing');
        return;
      case 'toggleStartAtLogin':
        app.setLoginItemSettings({ openAtLogin: !startAtLogin() });
        tray.render(core.store.snapshot(), { startAtLogin: startAtLogin() });
        return;
      case 'quit':
        app.quit();
        return;
    }
  };

  const tray = new TrayService(resourcesDir, onAction);
  tray.render(core.store.snapshot(), { startAtLogin: startAtLogin() });
  core.store.onChange((s) => tray.render(s, { startAtLogin: startAtLogin() }));

  ipcMain.handle(Channels.connection, (event) => {
    // Only our own dashboard page may ask for the token.
    if (!event.senderFrame || new URL(event.senderFrame.url).origin !== origin) throw new Error('not allowed');
    return { baseUrl: origin, token: core.token() };
  });
  ipcMain.handle(Channels.pickFile, async (_e, opts: { title?: string; directory?: boolean }) => {
    const r = await dialog.showOpenDialog({
      title: typeof opts?.title === 'string' ? opts.title : 'Choose a file',
      properties: [opts?.directory ? 'openDirectory' : 'openFile'],
    });
    return r.canceled ? null : (r.filePaths[0] ?? null);
  });
  ipcMain.handle(Channels.getStartAtLogin, () => startAtLogin());
  ipcMain.handle(Channels.setStartAtLogin, (_e, on: unknown) => {
    app.setLoginItemSettings({ openAtLogin: on === true });
    return startAtLogin();
  });

  app.on('second-instance', () => dashboard.show());
  app.on('window-all-closed', () => {
    /* a tray app keeps running with no window */
  });

  // Quit stops the services cleanly (and hands off / says goodbye) before the process exits.
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    quitting = true;
    dashboard.close();
    tray.destroy();
    core
      .stop('quit')
      .catch((err) => logger.error('stop failed', { err }))
      .finally(() => app.exit(0));
  });
}
