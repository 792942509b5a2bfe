// The Electron main process: wires the core to the tray, the dashboard window, notifications,
// power events, the login item and IPC. No business logic here: everything the user does becomes
// a core command or a settings change, and the way out is main/core/lifecycle's QuitSequence.

import {
  app,
  BaseWindow,
  dialog,
  ipcMain,
  powerMonitor,
  powerSaveBlocker,
  session,
  type IpcMainInvokeEvent,
} from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { utilityInventoryLauncher } from './inventory-launcher.js';
import { CoreStoppedError, createCore, type Core } from '../core/index.js';
import { adoptLoginShellPath } from '../core/util/login-path.js';
import { createLogger } from '../core/util/logger.js';
import { systemClock } from '../core/util/clock.js';
import { QuitSequence } from '../core/lifecycle/quit-sequence.js';
import type { MenuAction } from '../core/tray-menu/menu-model.js';
import { Channels } from '../../preload/channels.js';
import { DashboardWindow } from './dashboard-window.js';
import { TrayService } from './tray-service.js';
import { ElectronPowerBlocker } from './power-blocker.js';
import { PowerEvents } from './power-events.js';
import { createLoginItem } from './login-item-electron.js';
import { showNotifications } from './notifications.js';
import { sectionFromArgv } from './args.js';
import { platform } from './platform.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const logger = createLogger({ scope: 'shell' });
const START_FAILED = 'UnaMentis Server could not start';

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the tray; it opens its dashboard on 'second-instance'.
  app.quit();
} else {
  // Electron only logs an unhandled rejection: without this the process would live on, invisible,
  // holding the single-instance lock so that no later launch could start.
  main().catch((err: unknown) => startFailed(err));
}

/** A start that failed before the core existed: tell the user and end the process. */
function startFailed(err: unknown): void {
  logger.error(START_FAILED, { err });
  dialog.showErrorBox(START_FAILED, (err as Error)?.message ?? String(err));
  app.exit(1);
}

async function main(): Promise<void> {
  await app.whenReady();
  if (platform === 'darwin') app.dock?.hide();
  if (platform === 'win32') app.setAppUserModelId('com.unamentis.server'); // notifications need it
  // The dashboard asks for no permission (camera, notifications, clipboard…): refuse them all.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) =>
    callback(false),
  );
  session.defaultSession.setPermissionCheckHandler(() => false);

  // The app's folder (package.json, dist/): the repo in dev runs, app.asar when packaged.
  const appRoot = app.getAppPath();
  const resourcesDir = app.isPackaged ? process.resourcesPath : path.join(appRoot, 'resources');

  // Started from Finder, the app has launchd's minimal PATH: take the login shell's (once, 5 s at
  // most) before the supervisor looks for python3, ollama or whisper-server.
  const pathBefore = process.env.PATH;
  await adoptLoginShellPath(platform, process.env);
  if (process.env.PATH !== pathBefore)
    logger.info('PATH from the login shell', { PATH: process.env.PATH });

  // Tests (Playwright's _electron) point the app at a throwaway data folder.
  const dataDir = process.env.UNAMENTIS_DATA_DIR || app.getPath('userData');
  const power = new ElectronPowerBlocker(powerSaveBlocker, (m) => logger.info(m));
  let core: Core;
  try {
    core = createCore({
      dataDir,
      logger: createLogger({ scope: 'core' }),
      rendererDir: path.join(appRoot, 'dist', 'renderer'),
      version: app.getVersion(),
      power,
      gpuInventoryLauncher: utilityInventoryLauncher(path.join(here, 'inventory-worker.js')),
      ...(process.env.UNAMENTIS_PORT ? { port: Number(process.env.UNAMENTIS_PORT) } : {}),
    });
  } catch (err) {
    startFailed(err);
    return;
  }

  // Everything the shell builds after this point is torn down here, once, when the quit starts.
  const disposers: (() => void)[] = [];
  const teardown = () => {
    for (const dispose of disposers.splice(0).reverse()) {
      try {
        dispose();
      } catch (err) {
        logger.warn('teardown step failed', { err });
      }
    }
  };
  let failure: Error | null = null;
  const quit = new QuitSequence({
    clock: systemClock,
    log: (msg, err) => (err ? logger.error(msg, { err }) : logger.warn(msg)),
    cleanup: async (reason) => {
      logger.info(`quitting (${reason}): handoff, mDNS goodbye, services`);
      teardown();
      // A quit during start: the core's stop ends the start where it is (nothing more is spawned)
      // and stops what it had started.
      await core.stop('quit');
    },
    exit: (code) => {
      // After the cleanup, so nothing is left running while the dialog waits for the user.
      if (failure) dialog.showErrorBox(START_FAILED, failure.message);
      app.exit(code);
    },
  });
  // Quit (tray, Cmd-Q, macOS logout): held until the cleanup is done, however often it is asked.
  app.on('before-quit', (event) => {
    if (quit.request('quit')) event.preventDefault();
  });
  app.on('window-all-closed', () => {
    /* a tray app keeps running with no window */
  });
  // OS shutdown. macOS and Linux: powerMonitor 'shutdown' (preventDefault delays it).
  const powerEvents = new PowerEvents(
    powerMonitor,
    core,
    (msg, err) => (err ? logger.error(msg, { err }) : logger.info(msg)),
    () => quit.request('shutdown'),
  );
  disposers.push(() => powerEvents.dispose());
  // Windows sends neither 'before-quit' nor powerMonitor 'shutdown' at shutdown or logoff; only
  // windows get 'query-session-end'. A tray app may have none open, so it keeps a hidden one.
  if (platform === 'win32') {
    const sessionWindow = new BaseWindow({
      show: false,
      width: 1,
      height: 1,
      skipTaskbar: true,
      title: 'UnaMentis Server',
    });
    sessionWindow.on('query-session-end', (event) => {
      if (quit.request('shutdown')) event.preventDefault();
    });
    sessionWindow.on('session-end', () => quit.request('shutdown'));
    disposers.push(() => sessionWindow.destroy());
  }

  // The OS's login item is the truth (the user may change it in System Settings); the setting follows it.
  const loginItem = createLoginItem(app, platform);
  const osStart = safe(() => loginItem.get(), false);
  if (core.settings.get().startAtLogin !== osStart) core.settings.update({ startAtLogin: osStart });
  disposers.push(
    core.settings.onChange(({ next, prev }) => {
      if (next.startAtLogin === prev.startAtLogin) return;
      safe(() => loginItem.set(next.startAtLogin), undefined);
      logger.info(`start at login ${next.startAtLogin ? 'on' : 'off'} (${loginItem.mechanism})`);
    }),
  );

  // A second launch (Start menu, shortcut, `--dashboard=…`) and macOS's reopen (Finder, Spotlight,
  // Dock: 'activate') open the dashboard; one that comes during start opens it once started.
  let dashboard: DashboardWindow | null = null;
  let pending: string | undefined | null = sectionFromArgv(process.argv) ?? null;
  const open = (section?: string) => {
    if (quit.phase !== 'running') return;
    if (dashboard) dashboard.show(section);
    else pending = section ?? '';
  };
  app.on('second-instance', (_e, argv) => open(sectionFromArgv(argv) || undefined));
  // Only once started: Electron's docs list a first launch among activate's causes, and a tray app
  // started at login must not open its window.
  app.on('activate', () => {
    if (dashboard && quit.phase === 'running') dashboard.show();
  });

  // Before the start: a service that fails while starting raises its notice during core.start().
  disposers.push(
    showNotifications(
      core,
      (section) => open(section),
      path.join(resourcesDir, 'tray', 'serving.png'),
      platform,
    ),
  );

  let origin = '';
  try {
    const { port } = await core.start();
    origin = `http://127.0.0.1:${port}`;
  } catch (err) {
    // Quit during start: not a failure (no dialog); the cleanup under way stops what it started.
    if (err instanceof CoreStoppedError || quit.phase !== 'running') return;
    failure = err as Error;
    logger.error(START_FAILED, { err });
    quit.request('start-failed', 1);
    return;
  }
  if (quit.phase !== 'running') return; // quit during start: the cleanup has it

  // Anything failing from here on ends the app the same way a failed start does: cleanly.
  try {
    dashboard = new DashboardWindow(
      path.join(appRoot, 'dist', 'preload', 'preload.cjs'),
      () => origin,
    );
    const dash = dashboard;
    disposers.push(() => dash.close());
    const facts = () => ({
      startAtLogin: core.settings.get().startAtLogin,
      paused: !core.settings.get().discovery.advertise,
    });

    const onAction = (action: MenuAction) => {
      switch (action.kind) {
        case 'command':
          core.commands
            .execute(action.command)
            .catch((err) => logger.error('command failed', { err }));
          return;
        case 'openDashboard':
          dash.show(action.section);
          return;
        case 'openLog':
          dash.show(`services/${action.service}/logs`);
          return;
        case 'pair':
          dash.show('pairing');
          return;
        case 'toggleStartAtLogin':
          core.settings.update({ startAtLogin: !core.settings.get().startAtLogin });
          return;
        case 'quit':
          app.quit();
          return;
      }
    };

    const tray = new TrayService(resourcesDir, onAction, () => dash.show(), platform);
    disposers.push(() => tray.destroy());
    tray.update(core.store.snapshot(), facts());
    disposers.push(core.store.onChange((s) => tray.update(s, facts())));
    disposers.push(core.settings.onChange(() => tray.update(null, facts())));

    // Only our own dashboard page (the core's origin, top frame) may use the IPC API.
    const fromDashboard = (event: IpcMainInvokeEvent) => {
      const frame = event.senderFrame;
      let ok: boolean;
      try {
        ok = !!frame && frame.parent === null && new URL(frame.url).origin === origin;
      } catch {
        ok = false;
      }
      if (!ok) throw new Error('not allowed');
    };
    ipcMain.handle(Channels.connection, (event) => {
      fromDashboard(event);
      return { baseUrl: origin, token: core.token() };
    });
    ipcMain.handle(
      Channels.pickFile,
      async (event, opts: { title?: string; directory?: boolean }) => {
        fromDashboard(event);
        const r = await dialog.showOpenDialog({
          title: typeof opts?.title === 'string' ? opts.title.slice(0, 200) : 'Choose a file',
          properties: [opts?.directory ? 'openDirectory' : 'openFile'],
        });
        const picked = r.canceled ? null : (r.filePaths[0] ?? null);
        // Picked here, by the user at this computer: the API may now name it as a program (settings/programs.ts).
        if (picked) core.settings.confirmProgram(picked);
        return picked;
      },
    );
    // A settings change that runs other programs, refused to the API token alone: the user confirms it here.
    ipcMain.handle(Channels.confirmSettings, async (event, patch: unknown) => {
      fromDashboard(event);
      const next = core.settings.preview(patch);
      if (!next) return { ok: false, message: 'The change is not a settings object.' };
      const fields = core.settings.programChanges(next);
      if (fields.length) {
        const valueAt = (f: string) =>
          f
            .split('.')
            .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], next);
        const r = await dialog.showMessageBox({
          type: 'warning',
          buttons: ['Cancel', 'Allow'],
          defaultId: 0,
          cancelId: 0,
          message: 'Allow UnaMentis Server to run these programs?',
          detail: `${fields.map((f) => `${f} = ${JSON.stringify(valueAt(f))}`).join('\n')}\n\nThey will run with your user's rights whenever the service starts. Allow only what you entered yourself.`,
        });
        if (r.response !== 1) return { ok: false, message: 'Not allowed: nothing was changed.' };
      }
      const res = core.settings.update(patch, 'local');
      return res.ok
        ? { ok: true, message: 'Saved.' }
        : { ok: false, message: `${res.problem.field} ${res.problem.message}` };
    });
    ipcMain.handle(Channels.getStartAtLogin, (event) => {
      fromDashboard(event);
      return core.settings.get().startAtLogin;
    });
    ipcMain.handle(Channels.setStartAtLogin, (event, on: unknown) => {
      fromDashboard(event);
      core.settings.update({ startAtLogin: on === true });
      return core.settings.get().startAtLogin;
    });
    disposers.push(() => Object.values(Channels).forEach((c) => ipcMain.removeHandler(c)));

    if (pending !== null) dash.show(pending || undefined);
    pending = null;
  } catch (err) {
    failure = err as Error;
    logger.error(START_FAILED, { err });
    quit.request('start-failed', 1);
  }
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    logger.warn(`login item: ${(err as Error).message}`);
    return fallback;
  }
}
