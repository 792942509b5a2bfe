// The stand-in itself fails where Electron does (and where the shell would surely be wrong): an
// unknown API name, a bad menu template, unknown window or notification options, a platform-only
// API on another platform, a second IPC handler for a channel, a quit that before-quit cancels.

import { beforeAll, describe, expect, it } from 'vitest';
import * as electron from './electron.js';

const { app, BrowserWindow, Menu, Notification, ipcMain, fake } = electron;

beforeAll(async () => {
  await app.whenReady();
});

describe('the Electron stand-in', () => {
  it('throws on API names Electron does not have', () => {
    expect(() => (app as unknown as { quitNow(): void }).quitNow()).toThrow(
      /app\.quitNow is not part of the stand-in/,
    );
    expect(() => (Menu as unknown as { setApplicationMenus: unknown }).setApplicationMenus).toThrow(
      /Menu\.setApplicationMenus/,
    );
  });

  it('checks menu templates as Electron does', () => {
    expect(() => Menu.buildFromTemplate({} as never)).toThrow(
      'Invalid template for Menu: Menu template must be an array',
    );
    expect(() => Menu.buildFromTemplate([{ enabled: false }])).toThrow(
      'Invalid template for MenuItem: must have at least one of label, role or type',
    );
    expect(() => Menu.buildFromTemplate([{ label: 'x', type: 'toggle' as never }])).toThrow(
      'Unknown menu item type: toggle',
    );
    expect(() => Menu.buildFromTemplate([{ label: 'x', chekced: true } as never])).toThrow(
      /unknown MenuItem option "chekced"/,
    );
    expect(() =>
      Menu.buildFromTemplate([
        { type: 'separator' },
        { label: 'ok', type: 'checkbox', checked: true },
      ]),
    ).not.toThrow();
  });

  it('checks window and notification options', () => {
    expect(() => new BrowserWindow({ widht: 10 } as never)).toThrow(
      /unknown window option "widht"/,
    );
    expect(
      () => new BrowserWindow({ webPreferences: { nodeIntegrationInSubframes: true } as never }),
    ).toThrow(/unknown webPreferences option/);
    expect(
      () => new BrowserWindow({ webPreferences: { preload: 'relative/preload.cjs' } }),
    ).toThrow(/absolute/);
    expect(() => new Notification({ title: 't', urgency: 'urgent' as never })).toThrow(
      /bad urgency/,
    );
    expect(() => new Notification({ title: 't', icon: 'icon.png' })).toThrow(/absolute/);
  });

  it('has platform-only APIs only on their platform', () => {
    fake.configure({ platform: 'linux' });
    expect(app.dock).toBeUndefined();
    expect(() => app.setAppUserModelId!('x')).toThrow(TypeError);
    fake.configure({ platform: 'win32' });
    expect(() => app.setAppUserModelId!('x')).not.toThrow();
    expect(app.getLoginItemSettings!().openAtLogin).toBe(false);
    fake.configure({ platform: 'darwin' });
    expect(app.dock).toBeDefined();
  });

  it('refuses a second handler for one IPC channel', () => {
    ipcMain.handle('c', () => 1);
    expect(() => ipcMain.handle('c', () => 2)).toThrow(
      "Attempted to register a second handler for 'c'",
    );
    ipcMain.removeHandler('c');
  });

  it('a quit that before-quit cancels does not end the process; the next quit asks again', () => {
    let asked = 0;
    const hold = (e: { preventDefault(): void }) => {
      asked++;
      e.preventDefault();
    };
    app.on('before-quit', hold);
    app.quit();
    app.quit();
    expect(asked).toBe(2);
    expect(fake.exit).toBeNull();
    app.off('before-quit', hold);
    app.quit();
    expect(fake.exit).toMatchObject({ code: 0, how: 'quit' });
    // After the end, new windows are violations.
    new BrowserWindow({ show: false });
    expect(fake.violations).toEqual(['new window after the process ended']);
  });
});
