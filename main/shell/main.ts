// The Electron main process: wires the core to the tray, the dashboard window, notifications,
// power events, the login item and IPC. No business logic here: everything the user does becomes
// a core command or a settings change.

import { app, dialog, ipcMain, powerMonitor, powerSaveBlocker } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { utilityInventoryLauncher } from './inventory-launcher.js';
import { createCore, type Core } from '../core/index.js';
import { adoptLoginShellPath } from '../core/util/login-path.js';
import { createLogger } from '../core/util/logger.js';
import type { MenuAction } from '../core/tray-menu/menu-model.js';
import { Channels } from '../../preload/channels.js';
import { DashboardWindow } from './dashboard-window.js';
import { TrayService } from './tray-service.js';
import { ElectronPowerBlocker } from './power-blocker.js';
import { PowerEvents } from './power-events.js';
import { createLoginItem } from './login-item-electron.js';
import { showNotifications } from './notifications.js';
import { sectionFromArgv } from './args.js';

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
  if (process.platform === 'win32') app.setAppUserModelId('com.unamentis.server'); // notifications need it

  // Started from Finder, the app has launchd's minimal PATH: take the login shell's (once, 5 s at
  // most) before the supervisor looks for python3, ollama or whisper-server.
  const pathBefore = process.env.PATH;
  await adoptLoginShellPath(process.platform, process.env);
  if (process.env.PATH !== pathBefore) logger.info('PATH from the login shell', { PATH: process.env.PATH });

  // Tests (Playwright's _electron) point the app at a throwaway data folder.
  const dataDir = process.env.UNAMENTIS_DATA_DIR || app.getPath('userData');
  const power = new ElectronPowerBlocker(powerSaveBlocker, (m) => logger.info(m));
  const core: Core = createCore({
    dataDir,
    logger: createLogger({ scope: 'core' }),
    rendererDir: path.join(appRoot, 'dist', 'renderer'),
    version: app.getVersion(),
    power,
    gpuInventoryLauncher: utilityInventoryLauncher(path.join(here, 'inventory-worker.js')),
    ...(process.env.UNAMENTIS_PORT ? { port: Number(process.env.UNAMENTIS_PORT) } : {}),
  });

  // The OS's login item is the truth (the user may change it in System Settings); the setting follows it.
  const loginItem = createLoginItem(app);
  const osStart = safe(() => loginItem.get(), false);
  if (core.settings.get().startAtLogin !== osStart) core.settings.update({ startAtLogin: osStart });
  core.settings.onChange(({ next, prev }) => {
    if (next.startAtLogin === prev.startAtLogin) return;
    safe(() => loginItem.set(next.startAtLogin), undefined);
    logger.info(`start at login ${next.startAtLogin ? 'on' : 'off'} (${loginItem.mechanism})`);
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
  const facts = () => ({ startAtLogin: core.settings.get().startAtLogin, paused: !core.settings.get().discovery.advertise });

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
        core.settings.update({ startAtLogin: !core.settings.get().startAtLogin });
        return;
      case 'quit':
        app.quit();
        return;
    }
  };

  const tray = new TrayService(resourcesDir, onAction, () => dashboard.show());
  tray.update(core.store.snapshot(), facts());
  core.store.onChange((s) => tray.update(s, facts()));
  core.settings.onChange(() => tray.update(null, facts()));

  const stopNotifications = showNotifications(core, (section) => dashboard.show(section), path.join(resourcesDir, 'tray', 'serving.png'));
  const powerEvents = new PowerEvents(powerMonitor, core, (msg, err) => (err ? logger.error(msg, { err }) : logger.info(msg)), () => app.quit());

  ipcMain.handle(Channels.connection, (event) => {
    // Only our own dashboard page may ask for the token.
    if (!event.senderFrame || new URL(event.senderFrame.url).origin !== origin) throw new Error('not allowed');
    return { baseUrl: origin, token: core.token() };
  });
  ipcMain.handle(Channels.pickFile, async (_e, opts: { title?: string; directory?: boolean }) => {
    const r = await dialog.showOpenDialog({
      title: typeof opts?.title === 'string' ? opts.title.slice(0, 200) : 'Choose a file',
      properties: [opts?.directory ? 'openDirectory' : 'openFile'],
    });
    return r.canceled ? null : (r.filePaths[0] ?? null);
  });
  ipcMain.handle(Channels.getStartAtLogin, () => core.settings.get().startAtLogin);
  ipcMain.handle(Channels.setStartAtLogin, (_e, on: unknown) => {
    core.settings.update({ startAtLogin: on === true });
    return core.settings.get().startAtLogin;
  });

  // A second launch (from the Start menu, the Dock, a shortcut) opens the dashboard here.
  app.on('second-instance', (_e, argv) => dashboard.show(sectionFromArgv(argv) || undefined));
  app.on('window-all-closed', () => {
    /* a tray app keeps running with no window */
  });
  const first = sectionFromArgv(process.argv);
  if (first !== undefined) dashboard.show(first || undefined);

  // Quit stops the services cleanly (and hands off / says goodbye) before the process exits.
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    quitting = true;
    stopNotifications();
    powerEvents.dispose();
    dashboard.close();
    tray.destroy();
    core
      .stop('quit')
      .catch((err) => logger.error('stop failed', { err }))
      .finally(() => app.exit(0));
  });
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    logger.warn(`login item: ${(err as Error).message}`);
    return fallback;
  }
}
