// A stand-in for the `electron` module, for running the real shell (main/shell/*) in plain Node
// (the `shell` vitest project aliases `electron` to this file). Electron's binary cannot be
// downloaded on the build machines, so this copies Electron's documented behaviour where the shell
// depends on it, and is strict where Electron is: an API name it does not know throws, menu items,
// window options and notification options are checked, and platform-only APIs exist only on their
// platform. Each behaviour cites its source: the docs in node_modules/electron/electron.d.ts (the
// same text as electronjs.org/docs/api/*) or Electron's source (github.com/electron/electron).
//
// The test side is `fake`: configure the machine (platform, answers), then drive the OS (quit,
// shutdown, suspend, a second launch, clicks) and read what the app did.

import { EventEmitter } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// ---------------------------------------------------------------------------------------------
// Strictness

/** Wraps an object so that reading a name it does not have throws, as calling it in Electron would. */
function strict<T extends object>(target: T, name: string): T {
  return new Proxy(target, {
    get(t, p, receiver) {
      if (typeof p === 'symbol' || p in t) return Reflect.get(t, p, receiver);
      // Promise resolution and vitest's pretty-printer probe these on any object.
      if (
        p === 'then' ||
        p === 'toJSON' ||
        p === 'asymmetricMatch' ||
        p === '$$typeof' ||
        p === 'nodeType'
      )
        return undefined;
      throw new TypeError(
        `electron stand-in: ${name}.${p} is not part of the stand-in (not an Electron API on ${fake.platform}, or not copied yet)`,
      );
    },
  });
}

function checkKeys(what: string, obj: object, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k))
      throw new TypeError(`electron stand-in: unknown ${what} option "${k}"`);
  }
}

/** Electron's Event: preventDefault() and defaultPrevented. */
class FakeEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

// ---------------------------------------------------------------------------------------------
// The test side

export interface FakeConfig {
  platform: NodeJS.Platform;
  appPath: string;
  userData: string;
  version: string;
  /** Notification.isSupported() */
  notificationsSupported: boolean;
  /** When set, every Notification.show() fails with this error ('failed', macOS and Windows). */
  notificationError: string | null;
  /** What dialog.showOpenDialog answers. */
  openDialog: { canceled: boolean; filePaths: string[] };
  /** The OS login item (macOS, Windows). */
  openAtLogin: boolean;
  /** How long the OS waits for an app that delayed shutdown (systemd's InhibitDelayMaxSec: 5 s). */
  shutdownDelayMs: number;
}

export interface ExitRecord {
  code: number | null;
  /** quit: Electron's own termination after before-quit/will-quit; exit: app.exit(); killed: the OS. */
  how: 'quit' | 'exit' | 'killed';
  at: number;
}

export const fake = {
  config: {
    platform: 'linux',
    appPath: repoRoot,
    userData: '',
    version: '0.1.0',
    notificationsSupported: true,
    notificationError: null,
    openDialog: { canceled: true, filePaths: [] },
    openAtLogin: false,
    shutdownDelayMs: 5_000,
  } as FakeConfig,
  get platform(): NodeJS.Platform {
    return fake.config.platform;
  },
  exit: null as ExitRecord | null,
  /** Run synchronously at the moment the process ends (check what is still running then). */
  atExit: [] as ((e: ExitRecord) => void)[],
  /** Things Electron would refuse or a real process could not do (listed, then asserted empty). */
  violations: [] as string[],
  errorBoxes: [] as { title: string; content: string }[],
  openDialogs: [] as unknown[],
  openedExternally: [] as string[],
  trays: [] as FakeTray[],
  windows: [] as FakeBaseWindow[],
  notifications: [] as FakeNotification[],
  /** Windows keeps toasts in the Action Center after they time out; it holds them weakly here. */
  actionCenter: [] as WeakRef<FakeNotification>[],
  utilityProcesses: [] as FakeUtilityProcess[],
  permissionHandler: null as Parameters<Electron.Session['setPermissionRequestHandler']>[0],
  permissionCheckHandler: null as Parameters<Electron.Session['setPermissionCheckHandler']>[0],
  calls: [] as string[],

  configure(c: Partial<FakeConfig>): void {
    Object.assign(fake.config, c);
  },

  /** Resolves when the process has ended (or rejects after `ms`). */
  async exited(ms = 30_000): Promise<ExitRecord> {
    await until(() => fake.exit !== null, ms, 'the app to exit');
    return fake.exit!;
  },

  /** The tray icon that is still alive (the app shows at most one). */
  liveTray(): FakeTray | null {
    return fake.trays.filter((t) => !t.destroyed).at(-1) ?? null;
  },

  /** A renderer's ipcRenderer.invoke from a frame at `url` (a subframe when `parent` is set). */
  async invoke(
    channel: string,
    frame: { url: string; parent?: boolean },
    ...args: unknown[]
  ): Promise<unknown> {
    const handler = ipcHandlers.get(channel);
    // Electron answers the renderer with an error when nothing handles the channel.
    if (!handler)
      throw new Error(
        `Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`,
      );
    const senderFrame = {
      url: frame.url,
      parent: frame.parent ? { url: frame.url, parent: null } : null,
      origin: safeOrigin(frame.url),
    };
    try {
      return await handler({ sender: { id: 1 }, senderFrame, processId: 1, frameId: 1 }, ...args);
    } catch (err) {
      throw new Error(`Error invoking remote method '${channel}': ${String(err)}`, { cause: err });
    }
  },

  /** A web page asks for a permission (Electron grants every request unless a handler is set). */
  requestPermission(permission: string): Promise<boolean> {
    return new Promise((resolve) => {
      if (!fake.permissionHandler) return resolve(true);
      fake.permissionHandler({} as Electron.WebContents, permission as 'media', resolve, {
        requestingUrl: 'http://127.0.0.1/',
      } as Electron.PermissionRequest);
    });
  },

  /**
   * The OS shuts down. macOS and Linux: powerMonitor 'shutdown'; unless a listener calls
   * preventDefault the OS ends the process at once, else it waits `shutdownDelayMs` ("Electron will
   * attempt to delay system shutdown in order for the app to exit cleanly", powerMonitor docs).
   * macOS then asks the app to quit (before-quit). Windows: neither before-quit nor will-quit come
   * ("On Windows, this event will not be emitted if the app is closed due to a shutdown", app docs);
   * windows get 'query-session-end' (preventDefault delays) and then 'session-end' (BaseWindow docs).
   */
  osShutdown(): void {
    const p = fake.platform;
    let delayed = false;
    if (p === 'win32') {
      for (const w of fake.windows.filter((x) => !x.destroyed)) {
        const e = Object.assign(new FakeEvent(), { reasons: ['shutdown'] });
        w.emit('query-session-end', e);
        delayed ||= e.defaultPrevented;
      }
      if (!delayed) {
        for (const w of fake.windows.filter((x) => !x.destroyed))
          w.emit('session-end', Object.assign(new FakeEvent(), { reasons: ['shutdown'] }));
      }
    } else {
      const e = new FakeEvent();
      powerMonitor.emit('shutdown', e);
      delayed = e.defaultPrevented;
      if (p === 'darwin' && fake.exit === null) app.quit();
    }
    if (!delayed) return terminate(null, 'killed');
    const t = setTimeout(() => {
      if (fake.exit) return;
      fake.violations.push(
        `the OS shutdown waited ${fake.config.shutdownDelayMs} ms and then killed the app`,
      );
      terminate(null, 'killed');
    }, fake.config.shutdownDelayMs);
    t.unref();
  },

  /** Another launch of the app on this machine (same lock name): it quits, the first gets 'second-instance'. */
  secondLaunch(argv: string[]): boolean {
    const other = new FakeApp();
    return other.requestSingleInstanceLock(undefined, argv);
  },
};

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'null';
  }
}

/** The process ends: Electron's exit, or the OS killing it. Everything after is a violation. */
function terminate(code: number | null, how: ExitRecord['how']): void {
  if (fake.exit) return;
  fake.exit = { code, how, at: Date.now() };
  releaseLock(app);
  for (const hook of fake.atExit) hook(fake.exit);
}

function afterExit(what: string): boolean {
  if (!fake.exit) return false;
  fake.violations.push(`${what} after the process ended`);
  return true;
}

function requireReady(what: string): void {
  // Tray, BrowserWindow, Notification and utilityProcess "can only be used after the ready event" (their docs).
  if (!ready) throw new Error(`electron stand-in: ${what} used before the app is ready`);
}

// ---------------------------------------------------------------------------------------------
// app

let ready = false;
// The single-instance lock is per machine: kept across module reloads (one reload = one launch).
const locks: Map<string, FakeApp> = ((
  globalThis as { __electronFakeLocks?: Map<string, FakeApp> }
).__electronFakeLocks ??= new Map());

function releaseLock(a: FakeApp): void {
  if (locks.get('unamentis-server') === a) locks.delete('unamentis-server');
}

class FakeApp
  extends EventEmitter
  implements
    Pick<
      Electron.App,
      | 'requestSingleInstanceLock'
      | 'hasSingleInstanceLock'
      | 'quit'
      | 'exit'
      | 'whenReady'
      | 'isReady'
      | 'getPath'
      | 'getAppPath'
      | 'getVersion'
      | 'getName'
    >
{
  isPackaged = false;
  /** Browser::Quit: set while before-quit was not prevented and will-quit has not yet run. */
  quittingNow = false;

  /**
   * Electron: the first process to ask gets the lock; a later one gets false "and your process
   * should quit immediately", while the first receives 'second-instance' (app docs). The lock goes
   * when its process ends.
   */
  requestSingleInstanceLock(
    additionalData?: Record<string, unknown>,
    argv: string[] = process.argv,
  ): boolean {
    const holder = locks.get('unamentis-server');
    if (holder && holder !== this) {
      setImmediate(() =>
        holder.emit('second-instance', new FakeEvent(), argv, process.cwd(), additionalData ?? {}),
      );
      return false;
    }
    locks.set('unamentis-server', this);
    return true;
  }

  hasSingleInstanceLock(): boolean {
    return locks.get('unamentis-server') === this;
  }

  /**
   * shell/browser/browser.cc Browser::Quit: a quit already under way is not restarted; before-quit
   * can cancel it (the next quit() asks again); then, with no window left, will-quit (can cancel
   * too) and the process ends with code 0.
   */
  quit(): void {
    if (afterExit('app.quit()')) return;
    if (this.quittingNow) return;
    const before = new FakeEvent();
    this.emit('before-quit', before);
    if (before.defaultPrevented) return;
    this.quittingNow = true;
    for (const w of fake.windows.filter((x) => !x.destroyed)) w.close();
    const will = new FakeEvent();
    this.emit('will-quit', will);
    if (will.defaultPrevented) {
      this.quittingNow = false;
      return;
    }
    this.emit('quit', new FakeEvent(), 0);
    terminate(0, 'quit');
  }

  /** "Exits immediately with exitCode … before-quit and will-quit events will not be emitted." */
  exit(code = 0): void {
    if (fake.exit) return;
    for (const w of fake.windows.filter((x) => !x.destroyed)) w.destroy();
    terminate(code, 'exit');
  }

  whenReady(): Promise<void> {
    return readyPromise;
  }

  isReady(): boolean {
    return ready;
  }

  getPath(name: Parameters<Electron.App['getPath']>[0]): string {
    if (name !== 'userData') throw new Error(`electron stand-in: getPath('${name}') not copied`);
    return fake.config.userData;
  }

  getAppPath(): string {
    return fake.config.appPath;
  }

  getVersion(): string {
    return fake.config.version;
  }

  getName(): string {
    return 'unamentis-server';
  }
}

// Platform-only members: Electron defines them in C++ only on their platform, so elsewhere reading
// one gives undefined and calling it throws.
const macDock = strict(
  { hide: () => void fake.calls.push('dock.hide'), isVisible: () => false },
  'app.dock',
);
const platformOnly: Record<string, { on: NodeJS.Platform[]; value: () => unknown }> = {
  dock: { on: ['darwin'], value: () => macDock },
  setAppUserModelId: {
    on: ['win32'],
    value: () => (id: string) => void fake.calls.push(`setAppUserModelId ${id}`),
  },
  getLoginItemSettings: {
    on: ['darwin', 'win32'],
    value: () => () => ({
      openAtLogin: fake.config.openAtLogin,
      openAsHidden: false,
      wasOpenedAtLogin: false,
      wasOpenedAsHidden: false,
      restoreState: false,
      status: 'enabled',
      executableWillLaunchAtLogin: fake.config.openAtLogin,
      launchItems: [],
    }),
  },
  setLoginItemSettings: {
    on: ['darwin', 'win32'],
    value: () => (s: { openAtLogin?: boolean }) => {
      checkKeys('setLoginItemSettings', s, [
        'openAtLogin',
        'openAsHidden',
        'type',
        'serviceName',
        'path',
        'args',
        'enabled',
        'name',
      ]);
      fake.config.openAtLogin = s.openAtLogin === true;
    },
  },
};

/** What app has only on some platforms (undefined elsewhere, as in Electron). */
type PlatformOnlyApp = Partial<
  Pick<Electron.App, 'dock' | 'setAppUserModelId' | 'getLoginItemSettings' | 'setLoginItemSettings'>
>;

function appProxy(a: FakeApp): FakeApp & PlatformOnlyApp {
  const inner = strict(a, 'app');
  return new Proxy(a, {
    get(t, p, receiver) {
      if (typeof p === 'string' && p in platformOnly) {
        const m = platformOnly[p]!;
        return m.on.includes(fake.platform) ? m.value() : undefined;
      }
      return Reflect.get(inner, p, receiver);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// dialog, shell, session

export const dialog = strict(
  {
    /** Synchronous and modal in Electron; recorded here. */
    showErrorBox(title: string, content: string): void {
      if (afterExit('dialog.showErrorBox')) return;
      fake.errorBoxes.push({ title, content });
    },
    async showOpenDialog(
      options: Electron.OpenDialogOptions,
    ): Promise<Electron.OpenDialogReturnValue> {
      checkKeys('showOpenDialog', options, [
        'title',
        'defaultPath',
        'buttonLabel',
        'filters',
        'properties',
        'message',
        'securityScopedBookmarks',
      ]);
      fake.openDialogs.push(options);
      return { ...fake.config.openDialog };
    },
  } satisfies Pick<Electron.Dialog, 'showErrorBox'> & {
    showOpenDialog(o: Electron.OpenDialogOptions): Promise<Electron.OpenDialogReturnValue>;
  },
  'dialog',
);

export const shell = strict(
  {
    async openExternal(url: string): Promise<void> {
      fake.openedExternally.push(url);
    },
  } satisfies Pick<Electron.Shell, 'openExternal'>,
  'shell',
);

const defaultSession = strict(
  {
    setPermissionRequestHandler(h: typeof fake.permissionHandler) {
      fake.permissionHandler = h;
    },
    setPermissionCheckHandler(h: typeof fake.permissionCheckHandler) {
      fake.permissionCheckHandler = h;
    },
  } satisfies Pick<Electron.Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>,
  'session.defaultSession',
);

export const session = strict(
  {
    get defaultSession() {
      requireReady('session.defaultSession');
      return defaultSession;
    },
  },
  'session',
);

// ---------------------------------------------------------------------------------------------
// ipcMain

const ipcHandlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();

export const ipcMain = strict(
  {
    handle(
      channel: string,
      listener: (event: Electron.IpcMainInvokeEvent, ...args: unknown[]) => unknown,
    ) {
      // lib/browser/ipc-main-impl.ts: "Attempted to register a second handler for '<channel>'".
      if (ipcHandlers.has(channel))
        throw new Error(`Attempted to register a second handler for '${channel}'`);
      ipcHandlers.set(channel, listener as (event: unknown, ...args: unknown[]) => unknown);
    },
    removeHandler(channel: string) {
      ipcHandlers.delete(channel);
    },
  } satisfies Pick<Electron.IpcMain, 'handle' | 'removeHandler'>,
  'ipcMain',
);

// ---------------------------------------------------------------------------------------------
// powerMonitor, powerSaveBlocker

class FakePowerMonitor extends EventEmitter {}
export const powerMonitor = strict(new FakePowerMonitor(), 'powerMonitor');

export const blockers = new Map<number, string>();
let nextBlocker = 1;
export const powerSaveBlocker = strict(
  {
    start(type: 'prevent-app-suspension' | 'prevent-display-sleep'): number {
      if (type !== 'prevent-app-suspension' && type !== 'prevent-display-sleep')
        throw new TypeError(`powerSaveBlocker: bad type ${String(type)}`);
      const id = nextBlocker++;
      blockers.set(id, type);
      return id;
    },
    stop(id: number): boolean {
      return blockers.delete(id);
    },
    isStarted(id: number): boolean {
      return blockers.has(id);
    },
  } satisfies Pick<Electron.PowerSaveBlocker, 'start' | 'stop' | 'isStarted'>,
  'powerSaveBlocker',
);

// ---------------------------------------------------------------------------------------------
// nativeImage, Menu, Tray

export class FakeNativeImage implements Pick<
  Electron.NativeImage,
  'isEmpty' | 'setTemplateImage' | 'isTemplateImage'
> {
  template = false;
  constructor(readonly file: string) {
    return strict(this, 'NativeImage');
  }
  /** createFromPath gives an empty image (no error) when the file cannot be read (nativeImage docs). */
  isEmpty(): boolean {
    return !fs.existsSync(this.file);
  }
  setTemplateImage(on: boolean): void {
    this.template = on;
  }
  isTemplateImage(): boolean {
    return this.template;
  }
}

export const nativeImage = strict(
  {
    createFromPath: (p: string) => {
      if (!path.isAbsolute(p))
        throw new TypeError('nativeImage.createFromPath: the path must be absolute');
      return new FakeNativeImage(p) as unknown as Electron.NativeImage;
    },
  } satisfies Pick<typeof Electron.nativeImage, 'createFromPath'>,
  'nativeImage',
);

const MENU_ITEM_KEYS = [
  'click',
  'role',
  'type',
  'label',
  'sublabel',
  'toolTip',
  'accelerator',
  'icon',
  'enabled',
  'acceleratorWorksWhenHidden',
  'visible',
  'checked',
  'registerAccelerator',
  'sharingItem',
  'submenu',
  'id',
  'before',
  'after',
  'beforeGroupContaining',
  'afterGroupContaining',
];
const MENU_TYPES = ['normal', 'separator', 'submenu', 'checkbox', 'radio', 'header', 'palette'];

export interface FakeMenuItem {
  label: string;
  type: string;
  enabled: boolean;
  checked: boolean;
  click?: () => void;
  submenu: FakeMenuItem[];
}

/**
 * Electron's own checks (lib/browser/api/menu.ts, menu-item.ts): an item needs a label, a role or
 * type 'separator' ("Invalid template for MenuItem: must have at least one of label, role or
 * type"); an unknown type throws "Unknown menu item type". Stricter than Electron, because each is
 * surely a mistake that Electron would silently ignore: unknown keys, `checked` on an item that
 * cannot show it, a non-string label, a non-function click.
 */
function menuItem(o: Electron.MenuItemConstructorOptions): FakeMenuItem {
  if (o.label === undefined && o.role === undefined && o.type !== 'separator')
    throw new TypeError(
      'Invalid template for MenuItem: must have at least one of label, role or type',
    );
  if (o.type !== undefined && !MENU_TYPES.includes(o.type))
    throw new Error(`Unknown menu item type: ${o.type}`);
  checkKeys('MenuItem', o, MENU_ITEM_KEYS);
  if (o.checked !== undefined && o.type !== 'checkbox' && o.type !== 'radio')
    throw new TypeError('MenuItem: checked is only for checkbox and radio items');
  if (o.label !== undefined && typeof o.label !== 'string')
    throw new TypeError('MenuItem: label must be a string');
  if (o.click !== undefined && typeof o.click !== 'function')
    throw new TypeError('MenuItem: click must be a function');
  const sub =
    o.submenu === undefined ? [] : Array.isArray(o.submenu) ? o.submenu.map(menuItem) : null;
  if (sub === null) throw new TypeError('MenuItem: submenu must be an array here');
  const click = o.click;
  return {
    label: o.label ?? '',
    type: o.type ?? (sub.length ? 'submenu' : 'normal'),
    enabled: o.enabled ?? true,
    checked: o.checked ?? false,
    ...(click ? { click: () => click({} as never, undefined, {} as never) } : {}),
    submenu: sub,
  };
}

export class FakeMenu {
  constructor(readonly items: FakeMenuItem[]) {
    return strict(this, 'Menu');
  }
  /** Clicks an item by its label path (Electron does not run a disabled item's click). */
  click(...labels: string[]): void {
    let items = this.items;
    let item: FakeMenuItem | undefined;
    for (const l of labels) {
      item = items.find((i) => i.label === l);
      if (!item)
        throw new Error(`no menu item "${l}" in [${items.map((i) => i.label).join(', ')}]`);
      items = item.submenu;
    }
    if (!item!.enabled) throw new Error(`menu item "${labels.join(' > ')}" is disabled`);
    item!.click?.();
  }
  labels(): string[] {
    const out: string[] = [];
    const walk = (items: FakeMenuItem[], prefix: string) => {
      for (const i of items) {
        if (i.type === 'separator') continue;
        out.push(prefix + i.label);
        walk(i.submenu, `${prefix}${i.label} > `);
      }
    };
    walk(this.items, '');
    return out;
  }
}

export const Menu = strict(
  {
    buildFromTemplate: (template: Electron.MenuItemConstructorOptions[]) => {
      if (!Array.isArray(template))
        throw new TypeError('Invalid template for Menu: Menu template must be an array');
      return new FakeMenu(template.map(menuItem)) as unknown as Electron.Menu;
    },
  } satisfies Pick<typeof Electron.Menu, 'buildFromTemplate'>,
  'Menu',
);

export class FakeTray
  extends EventEmitter
  implements
    Pick<
      Electron.Tray,
      'setImage' | 'setToolTip' | 'setContextMenu' | 'popUpContextMenu' | 'destroy' | 'isDestroyed'
    >
{
  destroyed = false;
  image: FakeNativeImage;
  tooltip = '';
  menu: FakeMenu | null = null;
  popUps = 0;
  constructor(image: Electron.NativeImage) {
    super();
    requireReady('Tray');
    afterExit('new Tray()');
    if (fake.trays.some((t) => t.destroyed))
      fake.violations.push('a new Tray was built after one was destroyed');
    this.image = image as unknown as FakeNativeImage;
    fake.trays.push(this);
    return strict(this, 'Tray');
  }
  assertAlive(what: string): void {
    // Electron's gin wrappers throw on a destroyed object: "Object has been destroyed".
    if (this.destroyed) throw new TypeError(`Tray.${what}: Object has been destroyed`);
  }
  setImage(image: Electron.NativeImage | string): void {
    this.assertAlive('setImage');
    if (typeof image === 'string')
      throw new TypeError('electron stand-in: the shell passes NativeImages');
    this.image = image as unknown as FakeNativeImage;
  }
  setToolTip(t: string): void {
    this.assertAlive('setToolTip');
    this.tooltip = t;
  }
  setContextMenu(menu: Electron.Menu | null): void {
    this.assertAlive('setContextMenu');
    this.menu = menu as unknown as FakeMenu | null;
  }
  popUpContextMenu(): void {
    this.assertAlive('popUpContextMenu');
    this.popUps++;
  }
  destroy(): void {
    this.destroyed = true;
    this.removeAllListeners();
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}
export const Tray = FakeTray as unknown as typeof Electron.Tray;

// ---------------------------------------------------------------------------------------------
// BaseWindow, BrowserWindow

const WINDOW_KEYS = [
  'width',
  'height',
  'minWidth',
  'minHeight',
  'show',
  'title',
  'autoHideMenuBar',
  'skipTaskbar',
  'webPreferences',
  'x',
  'y',
  'resizable',
  'frame',
  'icon',
  'backgroundColor',
];
const WEB_PREFERENCE_KEYS = [
  'preload',
  'contextIsolation',
  'sandbox',
  'nodeIntegration',
  'nodeIntegrationInWorker',
  'nodeIntegrationInSubFrames',
  'webSecurity',
  'allowRunningInsecureContent',
  'webviewTag',
  'spellcheck',
  'devTools',
];

export class FakeBaseWindow
  extends EventEmitter
  implements Pick<Electron.BaseWindow, 'isDestroyed' | 'close' | 'destroy'>
{
  destroyed = false;
  visible = false;
  constructor(
    readonly options: Electron.BaseWindowConstructorOptions & {
      webPreferences?: Electron.WebPreferences;
    },
  ) {
    super();
    requireReady('BaseWindow');
    afterExit('new window');
    checkKeys('window', options, WINDOW_KEYS);
    if (options.webPreferences)
      checkKeys('webPreferences', options.webPreferences, WEB_PREFERENCE_KEYS);
    fake.windows.push(this);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  /** 'close' (preventable), then 'closed'. */
  close(): void {
    if (this.destroyed) return;
    const e = new FakeEvent();
    this.emit('close', e);
    if (!e.defaultPrevented) this.destroy();
  }
  /** No 'close' event; 'closed' still comes (BrowserWindow docs). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.visible = false;
    this.emit('closed');
  }
}

export const BaseWindow = class extends FakeBaseWindow {
  constructor(options: Electron.BaseWindowConstructorOptions) {
    super(options);
    return strict(this, 'BaseWindow');
  }
} as unknown as typeof Electron.BaseWindow;

export class FakeBrowserWindow
  extends FakeBaseWindow
  implements
    Pick<
      Electron.BrowserWindow,
      'loadURL' | 'show' | 'focus' | 'isMinimized' | 'restore' | 'isVisible'
    >
{
  url = '';
  focused = false;
  readonly jsRun: string[] = [];
  openHandler: ((d: { url: string }) => { action: 'allow' | 'deny' }) | null = null;
  readonly webContents: EventEmitter & { mainFrame: { url: string; parent: null } };
  constructor(options: Electron.BrowserWindowConstructorOptions) {
    super(options);
    const preload = options.webPreferences?.preload;
    // Electron loads the preload from an absolute path only.
    if (preload !== undefined && !path.isAbsolute(preload))
      throw new TypeError('webPreferences.preload must be an absolute path');
    const wc = Object.assign(new EventEmitter(), {
      id: fake.windows.length,
      setWindowOpenHandler: (h: FakeBrowserWindow['openHandler']) => {
        this.openHandler = h;
      },
      executeJavaScript: async (code: string) => {
        this.jsRun.push(code);
      },
      getURL: () => this.url,
      mainFrame: { url: '', parent: null },
    });
    Object.defineProperty(wc, 'mainFrame', { get: () => ({ url: this.url, parent: null }) });
    this.webContents = strict(wc, 'webContents');
    return strict(this, 'BrowserWindow');
  }
  /** Loads, then 'ready-to-show' ("the web page has been rendered while not being shown"). */
  async loadURL(url: string): Promise<void> {
    this.url = url;
    await new Promise((r) => setTimeout(r, 5));
    if (!this.destroyed) this.emit('ready-to-show');
  }
  show(): void {
    this.visible = true;
    this.focused = true;
  }
  focus(): void {
    this.focused = true;
  }
  isMinimized(): boolean {
    return false;
  }
  restore(): void {}
  isVisible(): boolean {
    return this.visible;
  }
  /** A link or navigation the page tries: returns whether it was allowed. */
  navigate(url: string): boolean {
    const e = new FakeEvent();
    this.webContents.emit('will-navigate', e, url);
    return !e.defaultPrevented;
  }
  static getAllWindows(): FakeBrowserWindow[] {
    return fake.windows.filter(
      (w): w is FakeBrowserWindow => w instanceof FakeBrowserWindow && !w.destroyed,
    );
  }
}
export const BrowserWindow = FakeBrowserWindow as unknown as typeof Electron.BrowserWindow;

// ---------------------------------------------------------------------------------------------
// Notification

const NOTIFICATION_KEYS = [
  'title',
  'subtitle',
  'body',
  'silent',
  'icon',
  'hasReply',
  'timeoutType',
  'replyPlaceholder',
  'sound',
  'urgency',
  'actions',
  'closeButtonText',
  'toastXml',
  'id',
  'groupId',
];

export class FakeNotification
  extends EventEmitter
  implements Pick<Electron.Notification, 'show' | 'close'>
{
  shown = false;
  closed = false;
  constructor(readonly options: Electron.NotificationConstructorOptions) {
    super();
    requireReady('Notification');
    afterExit('new Notification()');
    checkKeys('Notification', options, NOTIFICATION_KEYS);
    if (typeof options.title !== 'string' || typeof (options.body ?? '') !== 'string')
      throw new TypeError('Notification: title and body must be strings');
    if (options.urgency !== undefined && !['normal', 'critical', 'low'].includes(options.urgency))
      throw new TypeError(`Notification: bad urgency ${options.urgency}`);
    if (
      options.icon !== undefined &&
      typeof options.icon === 'string' &&
      !path.isAbsolute(options.icon)
    )
      throw new TypeError('Notification: icon path must be absolute');
    // The app holds only what it keeps: no strong list here (a dropped one can be collected).
    fake.notifications.push(this);
    return strict(this, 'Notification');
  }
  static isSupported(): boolean {
    return fake.config.notificationsSupported;
  }
  show(): void {
    const err = fake.config.notificationError;
    if (err && fake.platform !== 'linux') {
      // 'failed' is emitted on macOS and Windows (Notification docs).
      setImmediate(() => this.emit('failed', new FakeEvent(), err));
      return;
    }
    this.shown = true;
    setImmediate(() => this.emit('show', new FakeEvent()));
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', new FakeEvent());
  }
  /** The user clicks the toast/banner. */
  click(): void {
    this.emit('click', new FakeEvent());
  }
  /**
   * The toast times out. Windows emits 'close' and moves it to the Action Center, where it can
   * still be clicked (Notification 'close' docs); the stand-in holds it there only weakly.
   */
  timeOut(): void {
    this.emit('close', new FakeEvent());
    if (fake.platform === 'win32') fake.actionCenter.push(new WeakRef(this));
    fake.notifications = fake.notifications.filter((n) => n !== this);
  }
}
export const Notification = FakeNotification as unknown as typeof Electron.Notification;

// ---------------------------------------------------------------------------------------------
// utilityProcess

const FORK_KEYS = [
  'env',
  'execArgv',
  'cwd',
  'stdio',
  'serviceName',
  'allowLoadingUnsignedLibraries',
  'respondToAuthRequestsFromMainProcess',
];
const tsxLoader = path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs');

export class FakeUtilityProcess
  extends EventEmitter
  implements Pick<Electron.UtilityProcess, 'kill'>
{
  pid: number | undefined = undefined;
  stdout: Readable | null;
  stderr: Readable | null;
  readonly child: ChildProcess;
  readonly env: NodeJS.ProcessEnv;
  constructor(modulePath: string, args: string[], options: Electron.ForkOptions) {
    super();
    requireReady('utilityProcess.fork');
    checkKeys('utilityProcess.fork', options, FORK_KEYS);
    if (!path.isAbsolute(modulePath))
      throw new TypeError('utilityProcess.fork: modulePath must be absolute');
    this.env = (options.env as NodeJS.ProcessEnv | undefined) ?? process.env;
    // The utility process is the Electron binary run with `--type=utility`. With ELECTRON_RUN_AS_NODE
    // set, that binary starts as plain Node instead, which rejects the switch and exits (code 9).
    const asNode =
      this.env.ELECTRON_RUN_AS_NODE !== undefined && this.env.ELECTRON_RUN_AS_NODE !== '';
    let entry = modulePath;
    // The app runs from source here: its worker is the .ts beside the .js it names, run under tsx.
    if (!fs.existsSync(entry) && entry.endsWith('.js') && fs.existsSync(entry.slice(0, -3) + '.ts'))
      entry = entry.slice(0, -3) + '.ts';
    const argv = asNode
      ? ['--type=utility', '--utility-sub-type=node.mojom.NodeService', ...args]
      : ['--import', `file://${tsxLoader}`, entry, ...args];
    const pipe =
      options.stdio === 'pipe' || (Array.isArray(options.stdio) && options.stdio[1] === 'pipe');
    this.child = spawn(process.execPath, argv, {
      env: this.env as NodeJS.ProcessEnv,
      cwd: options.cwd,
      stdio: ['ignore', pipe ? 'pipe' : 'ignore', pipe ? 'pipe' : 'ignore'],
    });
    this.stdout = this.child.stdout;
    this.stderr = this.child.stderr;
    // pid: "undefined until the child process has spawned … undefined after the exit event".
    this.child.once('spawn', () => {
      this.pid = this.child.pid;
      this.emit('spawn');
    });
    // 'exit' comes once the process has ended. Electron reports it after the pipes' end as a rule
    // (each inventory waited its whole fallback for an 'end' that had already come, issue 16), but
    // not after a grandchild that inherited the pipes: then output arrives after 'exit'.
    this.child.once('exit', (code, signal) => {
      let reported = false;
      const report = () => {
        if (reported) return;
        reported = true;
        this.emit('exit', code ?? (signal ? 1 : 0));
        this.pid = undefined;
      };
      const late = setTimeout(report, 50);
      this.child.once('close', () => {
        clearTimeout(late);
        report();
      });
    });
    fake.utilityProcesses.push(this);
    return strict(this, 'UtilityProcess');
  }
  /** "Terminates the process gracefully. On POSIX, it uses SIGTERM." */
  kill(): boolean {
    return this.child.kill('SIGTERM');
  }
}

export const utilityProcess = strict(
  {
    fork: (modulePath: string, args: string[] = [], options: Electron.ForkOptions = {}) =>
      new FakeUtilityProcess(modulePath, args, options) as unknown as Electron.UtilityProcess,
  } satisfies Pick<typeof Electron.utilityProcess, 'fork'>,
  'utilityProcess',
);

// ---------------------------------------------------------------------------------------------
// The app object, built for the configured platform when the module loads (one load = one launch).

export const app = appProxy(new FakeApp());
const readyPromise: Promise<void> = new Promise<void>((resolve) =>
  setImmediate(() => {
    ready = true;
    app.emit('ready', new FakeEvent(), {});
    resolve();
  }),
);
