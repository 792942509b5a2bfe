// The running tray app on each platform: the tray's actions and icon states, a second launch and
// macOS's reopen, the dashboard window and its IPC, permissions, and desktop notifications.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  alive,
  killAll,
  launch,
  resetLaunches,
  serviceSettings,
  servicesUp,
  started,
  type Launched,
} from './launch.js';
import type { FakeBrowserWindow, FakeTray } from './electron.js';

vi.mock('../../main/shell/platform.js', () => ({
  get platform() {
    return (
      (globalThis as { __shellPlatform?: NodeJS.Platform }).__shellPlatform ?? process.platform
    );
  },
}));

const leftovers: number[] = [];
afterEach(async () => {
  killAll(leftovers.splice(0));
  await resetLaunches();
});

const platforms = ['linux', 'darwin', 'win32'] as const;

async function running(
  platform: NodeJS.Platform,
  opts: Parameters<typeof launch>[0] extends infer O ? Partial<O> : never = {},
): Promise<Launched> {
  const l = await launch({ platform, ...opts });
  await started(l);
  expect(l.fake.exit).toBeNull();
  if (opts.services !== false) leftovers.push(...(await servicesUp(l)));
  return l;
}

async function quitClean(l: Launched): Promise<void> {
  leftovers.push(...l.seenPids);
  l.electron.app.quit();
  const exit = await l.fake.exited();
  expect(exit).toMatchObject({ code: 0, how: 'exit' });
  expect(l.fake.violations).toEqual([]);
}

function dashboard(l: Launched): FakeBrowserWindow | undefined {
  return l.fake.windows.find((w): w is FakeBrowserWindow => 'webContents' in w && !w.destroyed);
}

async function status(l: Launched): Promise<{
  services: { id: string; status: string }[];
  notices: { code: string; message: string }[];
  hibernation: { state: string };
}> {
  return (await (await fetch(`http://127.0.0.1:${l.port}/api/status`)).json()) as never;
}

/** The icon file the tray shows now, e.g. `servingTemplate.png`. */
const icon = (t: FakeTray) => path.basename(t.image.file);
const iconFile = (platform: NodeJS.Platform, state: string) =>
  platform === 'darwin'
    ? `${state}Template.png`
    : platform === 'win32'
      ? `${state}.ico`
      : `${state}.png`;

describe('the tray on each platform', () => {
  it.each(platforms)('%s: every action and icon state', async (platform) => {
    const l = await running(platform);
    const tray = l.fake.liveTray()!;
    const until = (cond: () => boolean, what: string) => l.electron.until(cond, 30_000, what);
    await until(() => icon(tray) === iconFile(platform, 'serving'), 'the serving icon');
    expect(tray.image.isEmpty()).toBe(false);
    expect(tray.image.template).toBe(platform === 'darwin');
    expect(tray.tooltip).toContain('Shell Test Host');

    // A click: macOS opens the menu by itself; elsewhere the app pops it up. A double-click opens the dashboard.
    tray.emit('click');
    expect(tray.popUps).toBe(platform === 'darwin' ? 0 : 1);
    tray.emit('double-click');
    await until(() => dashboard(l)?.isVisible() === true, 'the dashboard after a double-click');
    const win = dashboard(l)!;
    expect(new URL(win.url).origin).toBe(`http://127.0.0.1:${l.port}`);
    expect(win.options.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
    });

    tray.menu!.click('Pair with another computer…');
    expect(win.jsRun.at(-1)).toBe('location.hash = "pairing"');
    const ollama = tray
      .menu!.labels()
      .find((x) => x.startsWith('Ollama: running') && !x.includes(' > '))!;
    tray.menu!.click(ollama, 'Open log');
    expect(win.jsRun.at(-1)).toBe('location.hash = "services/ollama/logs"');

    // Start at login: the OS's login item on macOS and Windows, an XDG autostart entry on Linux.
    tray.menu!.click('Start at login');
    const autostart = path.join(l.dataDir, 'xdg', 'autostart', 'unamentis-server.desktop');
    if (platform === 'linux') expect(fs.existsSync(autostart)).toBe(true);
    else expect(l.fake.config.openAtLogin).toBe(true);
    await until(
      () => tray.menu!.items.find((i) => i.label === 'Start at login')!.checked,
      'the checked item',
    );
    tray.menu!.click('Start at login');
    if (platform === 'linux') expect(fs.existsSync(autostart)).toBe(false);
    else expect(l.fake.config.openAtLogin).toBe(false);

    // Pause serving → paused icon; resume → serving.
    tray.menu!.click('Pause serving here');
    await until(() => icon(tray) === iconFile(platform, 'paused'), 'the paused icon');
    tray.menu!.click('Pause serving here');
    await until(() => icon(tray) === iconFile(platform, 'serving'), 'the serving icon again');

    // Hibernate now → cool icon; Wake → serving.
    tray.menu!.click('Hibernate now', 'Cool (voice unloaded)');
    await until(() => icon(tray) === iconFile(platform, 'cool'), 'the cool icon');
    tray.menu!.click('Wake');
    await until(
      () => icon(tray) === iconFile(platform, 'serving'),
      'the serving icon after waking',
    );

    // A service stopped from its submenu.
    tray.menu!.click(
      tray.menu!.labels().find((x) => x.startsWith('Ollama: running') && !x.includes(' > '))!,
      'Stop',
    );
    await until(
      () => tray.menu!.labels().some((x) => x.startsWith('Ollama: stopped')),
      'Ollama stopped in the menu',
    );
    expect((await status(l)).services.find((s) => s.id === 'ollama')!.status).toBe('stopped');

    tray.menu!.click('Hibernate now', 'Dormant (services stopped)');
    await until(() => icon(tray) === iconFile(platform, 'dormant'), 'the dormant icon');

    await quitClean(l);
    expect(l.fake.trays).toHaveLength(1);
  });

  it.each(platforms)(
    '%s: a service whose program is missing shows the error icon and a notification that opens the setup view',
    async (platform) => {
      const services = await serviceSettings();
      (services.piper as Record<string, unknown>).command = path.join(
        path.sep,
        'nonexistent',
        'piper',
      );
      const l = await running(platform, { settings: { services }, services: false });
      const tray = l.fake.liveTray()!;
      await l.electron.until(
        () => icon(tray) === iconFile(platform, 'error'),
        30_000,
        'the error icon',
      );
      await l.electron.until(
        () => l.fake.notifications.some((n) => n.options.title === 'Piper is not installed'),
        30_000,
        'the notification',
      );
      const note = l.fake.notifications.find((n) => n.options.title === 'Piper is not installed')!;
      expect(note.shown).toBe(true);
      expect(path.isAbsolute(String(note.options.icon))).toBe(true);
      note.click();
      // A missing program is installed from the setup view (issue #18), not the services list.
      await l.electron.until(
        () => dashboard(l)?.url.endsWith('/#setup') === true,
        10_000,
        'the setup section',
      );
      await quitClean(l);
    },
  );
});

describe('a second launch and macOS reopen', () => {
  it('a second launch quits at once and the first opens the section it asked for', async () => {
    const first = await running('win32', { services: false });
    const second = await launch({
      platform: 'win32',
      argv: ['--dashboard=services/ollama/logs'],
      services: false,
    });
    const exit = await second.fake.exited(10_000);
    expect(exit).toMatchObject({ code: 0, how: 'quit' });
    expect(second.fake.trays).toEqual([]);
    await first.electron.until(
      () => dashboard(first)?.isVisible() === true,
      10_000,
      'the dashboard in the first instance',
    );
    expect(dashboard(first)!.url).toBe(`http://127.0.0.1:${first.port}/#services/ollama/logs`);
    // Again, with the window open: it is focused and moved to the section.
    expect(first.fake.secondLaunch(['app', '--dashboard=pairing'])).toBe(false);
    await first.electron.until(
      () => dashboard(first)!.jsRun.includes('location.hash = "pairing"'),
      10_000,
      'the pairing section',
    );
    expect(first.fake.windows.filter((w) => 'webContents' in w && !w.destroyed)).toHaveLength(1);
    await quitClean(first);
  });

  it('macOS: reopening the app (Finder, Spotlight: activate) opens the dashboard', async () => {
    const l = await running('darwin', { services: false });
    expect(dashboard(l)).toBeUndefined();
    l.electron.app.emit('activate', {}, false);
    await l.electron.until(() => dashboard(l)?.isVisible() === true, 10_000, 'the dashboard');
    await quitClean(l);
  });

  it('macOS: an activate during start (a login launch) opens no window', async () => {
    const l = await running('darwin', {
      services: false,
      configure: ({ app }) =>
        app.on('newListener', (event) => {
          if (event === 'activate') queueMicrotask(() => app.emit('activate', {}, false));
        }),
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(dashboard(l)).toBeUndefined();
    await quitClean(l);
  });

  it('--dashboard on the first launch opens that section once started', async () => {
    const l = await running('linux', { services: false, argv: ['--dashboard=settings'] });
    await l.electron.until(() => dashboard(l)?.isVisible() === true, 10_000, 'the dashboard');
    expect(dashboard(l)!.url.endsWith('/#settings')).toBe(true);
    await quitClean(l);
  });
});

describe('the dashboard window, IPC and permissions', () => {
  it('answers IPC only to the top frame of its own origin; navigation stays on it; permissions are denied', async () => {
    const l = await running('linux', { services: false, argv: ['--dashboard'] });
    await l.electron.until(() => dashboard(l)?.isVisible() === true, 10_000, 'the dashboard');
    const origin = `http://127.0.0.1:${l.port}`;
    const own = { url: `${origin}/#services` };
    const token = fs.readFileSync(path.join(l.dataDir, 'token'), 'utf8').trim();
    expect(await l.fake.invoke('unamentis:connection', own)).toEqual({ baseUrl: origin, token });
    for (const frame of [
      { url: 'https://evil.example/' },
      { url: 'http://127.0.0.1:1/' },
      { url: `${origin}/`, parent: true },
      { url: 'not a url' },
    ]) {
      await expect(l.fake.invoke('unamentis:connection', frame)).rejects.toThrow(/not allowed/);
      await expect(l.fake.invoke('unamentis:pick-file', frame, { title: 'x' })).rejects.toThrow(
        /not allowed/,
      );
      await expect(l.fake.invoke('unamentis:set-start-at-login', frame, true)).rejects.toThrow(
        /not allowed/,
      );
      await expect(l.fake.invoke('unamentis:get-start-at-login', frame)).rejects.toThrow(
        /not allowed/,
      );
    }
    expect(l.fake.openDialogs).toEqual([]);
    expect(
      fs.existsSync(path.join(l.dataDir, 'xdg', 'autostart', 'unamentis-server.desktop')),
    ).toBe(false);
    // From the dashboard itself they work.
    l.fake.configure({ openDialog: { canceled: false, filePaths: ['/models/voice.onnx'] } });
    expect(await l.fake.invoke('unamentis:pick-file', own, { title: 'Pick a voice' })).toBe(
      '/models/voice.onnx',
    );
    expect(l.fake.openDialogs).toEqual([{ title: 'Pick a voice', properties: ['openFile'] }]);
    expect(await l.fake.invoke('unamentis:set-start-at-login', own, true)).toBe(true);
    expect(await l.fake.invoke('unamentis:get-start-at-login', own)).toBe(true);

    const win = dashboard(l)!;
    expect(win.navigate(`${origin}/#gpu`)).toBe(true);
    expect(win.navigate('https://evil.example/')).toBe(false);
    expect(win.openHandler!({ url: 'https://ollama.com/library' })).toEqual({ action: 'deny' });
    expect(l.fake.openedExternally).toEqual(['https://ollama.com/library']);
    expect(win.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(l.fake.openedExternally).toHaveLength(1);

    // Electron grants every permission unless a handler says otherwise.
    for (const p of ['media', 'notifications', 'geolocation', 'clipboard-read'])
      expect(await l.fake.requestPermission(p)).toBe(false);
    expect(l.fake.permissionCheckHandler!(null, 'media', origin, {} as never)).toBe(false);
    await quitClean(l);
    // The handlers went with the quit.
    await expect(l.fake.invoke('unamentis:connection', own)).rejects.toThrow(/No handler/);
  });
});

describe('notifications', () => {
  const failing = async (
    platform: NodeJS.Platform,
    configure?: Parameters<typeof launch>[0]['configure'],
  ) => {
    const services = await serviceSettings();
    (services.piper as Record<string, unknown>).command = path.join(
      path.sep,
      'nonexistent',
      'piper',
    );
    (services.ollama as Record<string, unknown>).enabled = false;
    return running(platform, {
      settings: { services },
      services: false,
      ...(configure ? { configure } : {}),
    });
  };

  it.each(['darwin', 'win32'] as const)(
    '%s: a notification the OS refuses is logged and raised once as a notice',
    async (platform) => {
      const l = await failing(platform, ({ fake }) =>
        fake.configure({ notificationError: 'Notifications are turned off for UnaMentis Server' }),
      );
      await l.electron.until(
        () => l.logs.some((x) => x.includes('could not be shown')),
        20_000,
        'the failure in the log',
      );
      const notices = (await status(l)).notices.filter((n) => n.code === 'notification_failed');
      expect(notices).toHaveLength(1);
      expect(notices[0]!.message).toContain('Notifications are turned off');
      await quitClean(l);
    },
  );

  it('win32: a toast that timed out into the Action Center still opens its section when clicked', async () => {
    const l = await failing('win32');
    await l.electron.until(() => l.fake.notifications.some((n) => n.shown), 20_000, 'the toast');
    l.fake.notifications.find((n) => n.shown)!.timeOut();
    // Only the app's own reference keeps it alive now, as with a native toast.
    for (let i = 0; i < 5; i++) {
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('function');
    const inCenter = l.fake.actionCenter.map((r) => r.deref()).filter((n) => n !== undefined);
    expect(inCenter).toHaveLength(1);
    inCenter[0]!.click();
    // The failing service's program is missing: its notification opens the setup view.
    await l.electron.until(
      () => dashboard(l)?.url.endsWith('/#setup') === true,
      10_000,
      'the setup section',
    );
    await quitClean(l);
  });

  it('linux: a closed notification is let go (no Action Center to click it from later)', async () => {
    const l = await failing('linux');
    await l.electron.until(
      () => l.fake.notifications.some((n) => n.shown),
      20_000,
      'the notification',
    );
    // In a function of its own, so that nothing in the test holds it afterwards.
    const ref = (() => {
      const note = l.fake.notifications.find((n) => n.shown)!;
      expect(note.options.urgency).toBe('critical');
      note.close();
      l.fake.notifications = l.fake.notifications.filter((n) => n !== note);
      return new WeakRef(note);
    })();
    // (deref keeps its target alive until the current job ends: collect in a later one.)
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 10));
      (globalThis as { gc?: () => void }).gc?.();
    }
    await new Promise((r) => setTimeout(r, 10));
    expect(ref.deref()).toBeUndefined();
    await quitClean(l);
  });
});

describe('OS sleep', () => {
  it('suspend sends the goodbye and leaves the services running; resume announces again', async () => {
    const l = await running('darwin');
    const pids = await l.servicePids();
    const count = (text: string) => l.logs.filter((x) => x.includes(text)).length;
    await l.electron.until(
      () => count('announced on the network') === 1,
      20_000,
      'the announcement',
    );
    l.electron.powerMonitor.emit('suspend');
    await l.electron.until(
      () => count('announcement withdrawn (goodbye sent)') === 1,
      20_000,
      'the goodbye',
    );
    expect(pids.every(alive)).toBe(true);
    l.electron.powerMonitor.emit('resume');
    await l.electron.until(
      () => count('announced on the network') === 2,
      20_000,
      'the announcement after resume',
    );
    expect(l.fake.exit).toBeNull();
    await quitClean(l);
  });
});
