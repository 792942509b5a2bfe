// The tray app itself under Playwright's _electron: the real Electron main process, preload, IPC
// and dashboard window, with the fake services. It checks what the stand-in (test/shell) cannot: a
// real Tray, the sandboxed preload loading, the GPU inventory from a real utility process. Runs
// wherever Electron's binary is installed; elsewhere it skips and says why (its download is blocked
// on the build machines), except where UNAMENTIS_REQUIRE_ELECTRON=1 (the GitHub workflow, which
// downloads it): there a missing binary fails the run.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { repoRoot, tempDir } from '../helpers/headless.js';
import { freePort } from '../e2e/dashboard-fixtures.js';
import { screenshotDir } from '../helpers/browser.js';

/** The binary `npm install electron` downloads (node_modules/electron/path.txt names it), or why not. */
function electronBinary(): { path: string } | { missing: string } {
  const dir = path.join(repoRoot, 'node_modules', 'electron');
  let rel: string;
  try {
    rel = fs.readFileSync(path.join(dir, 'path.txt'), 'utf8').trim();
  } catch {
    return {
      missing:
        'the Electron binary is not installed (node_modules/electron/path.txt is missing: its download is blocked here)',
    };
  }
  const bin = path.join(dir, 'dist', rel);
  if (!fs.existsSync(bin)) return { missing: `the Electron binary ${bin} does not exist` };
  return { path: bin };
}

const electron = electronBinary();
const built =
  fs.existsSync(path.join(repoRoot, 'dist/main/shell/main.js')) &&
  fs.existsSync(path.join(repoRoot, 'dist/renderer/index.html'));
const skip =
  'missing' in electron
    ? electron.missing
    : !built
      ? 'the app is not built (run npm run build first)'
      : null;
// Keyed on the workflow's own variable, not CI: other CI machines (this project's .ci/run) cannot download Electron.
const required = process.env.UNAMENTIS_REQUIRE_ELECTRON === '1';
if (skip && !required) console.warn(`SKIPPED Electron tray-app test: ${skip}`);

describe.runIf(!!skip && required)('the tray app (Electron) is required here', () => {
  it('has the Electron binary and the built app (UNAMENTIS_REQUIRE_ELECTRON=1)', () => {
    throw new Error(`UNAMENTIS_REQUIRE_ELECTRON=1 but ${skip}`);
  });
});

describe.skipIf(!!skip)('the tray app (Electron)', () => {
  let app: ElectronApplication;
  let page: Page;
  let origin = '';
  const dataDir = tempDir('unamentis-electron-');
  const fixtures = path.join(repoRoot, 'test', 'fixtures');

  beforeAll(async () => {
    const ports = { ollama: await freePort(), piper: await freePort() };
    fs.writeFileSync(
      path.join(dataDir, 'settings.json'),
      JSON.stringify({
        displayName: 'Electron Test Host',
        discovery: { advertise: false, interfaces: [] },
        hibernation: { preventSleep: true },
        services: {
          ollama: {
            command: process.execPath,
            args: [path.join(fixtures, 'fake-ollama.mjs'), 'serve'],
            port: ports.ollama,
          },
          piper: {
            command: process.execPath,
            args: [
              path.join(fixtures, 'fake-piper.mjs'),
              '-m',
              'en_US-amy-medium',
              '--host',
              '127.0.0.1',
              '--port',
              String(ports.piper),
            ],
            port: ports.piper,
          },
          vibevoice: { enabled: false },
          whisper: { enabled: false },
        },
      }),
    );
    app = await _electron.launch({
      executablePath: (electron as { path: string }).path,
      args: [repoRoot, '--dashboard=services'],
      env: {
        ...process.env,
        UNAMENTIS_DATA_DIR: dataDir,
        UNAMENTIS_PORT: '0',
        UNAMENTIS_MDNS_INTERFACES: 'lo',
      },
      timeout: 60_000,
    });
    page = await app.firstWindow();
  });

  afterAll(async () => {
    await app?.close().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('opens the dashboard with the token from the preload (none in the URL) and shows live services', async () => {
    await expect
      .poll(() => page.getByTestId('host-name').textContent(), { timeout: 30_000 })
      .toBe('Electron Test Host');
    expect(page.url()).not.toContain('token');
    origin = new URL(page.url()).origin;
    await expect
      .poll(
        () =>
          page.getByTestId('service-ollama').locator('[data-status]').getAttribute('data-status'),
        { timeout: 30_000 },
      )
      .toBe('running');
    // The page is sandboxed: no Node, only the preload's allow-listed API.
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe(
      'undefined',
    );
    expect(
      await page.evaluate(() =>
        Object.keys((window as unknown as { unamentis: object }).unamentis).sort(),
      ),
    ).toEqual(['confirmSettings', 'connection', 'getStartAtLogin', 'pickFile', 'setStartAtLogin']);
    // No `process` either: the preload (bundled CommonJS, as sandboxed preloads must be) keeps it.
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe(
      'undefined',
    );
    fs.mkdirSync(screenshotDir, { recursive: true });
    await page.screenshot({ path: path.join(screenshotDir, 'electron-dashboard.png') });
  });

  it('shows a real tray icon with its menu', async () => {
    // Electron lists no trays, so watch the Tray prototype: the app re-renders its menu on the next change.
    await app.evaluate(({ Tray }) => {
      const g = globalThis as { __trays?: Set<unknown> };
      g.__trays = new Set();
      const proto = Tray.prototype as unknown as { setContextMenu: (...a: unknown[]) => unknown };
      const original = proto.setContextMenu;
      proto.setContextMenu = function (this: unknown, ...a: unknown[]) {
        g.__trays!.add(this);
        return original.apply(this, a);
      };
    });
    // A rename changes the tray's first line: the app re-renders its menu.
    const token = fs.readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
    const res = await fetch(`${new URL(page.url()).origin}/api/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: 'Electron Test Host (tray)' }),
    });
    expect(res.status).toBe(200);
    await expect
      .poll(
        () =>
          app.evaluate(() =>
            [...((globalThis as { __trays?: Set<{ isDestroyed(): boolean }> }).__trays ?? [])].map(
              (t) => t.isDestroyed(),
            ),
          ),
        { timeout: 20_000 },
      )
      .toEqual([false]);
  });

  it('reads the GPU inventory in a real utility process, as JSON', async () => {
    const worker = path.join(repoRoot, 'dist/main/shell/inventory-worker.js');
    const out = await app.evaluate(
      ({ utilityProcess }, file) =>
        new Promise<{ code: number; stdout: string }>((resolve) => {
          const child = utilityProcess.fork(file, [], { stdio: 'pipe' });
          let stdout = '';
          child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
          child.once('exit', (code) => setTimeout(() => resolve({ code, stdout }), 200));
        }),
      worker,
    );
    expect(out.code).toBe(0);
    const inv = JSON.parse(out.stdout) as { controllers: unknown[]; memTotalBytes: number };
    expect(Array.isArray(inv.controllers)).toBe(true);
    expect(inv.memTotalBytes).toBeGreaterThan(0);
  });

  it('stops a service from the dashboard inside the app', async () => {
    await page.getByRole('button', { name: 'Stop Piper' }).click();
    await expect
      .poll(
        () =>
          page.getByTestId('service-piper').locator('[data-status]').getAttribute('data-status'),
        { timeout: 20_000 },
      )
      .toBe('stopped');
  });

  it('runs as a tray app: single instance lock held, the window can close and the app lives on', async () => {
    expect(await app.evaluate(({ app: a }) => a.hasSingleInstanceLock())).toBe(true);
    await page.close();
    await new Promise((r) => setTimeout(r, 500));
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(0);
    expect(await app.evaluate(({ app: a }) => a.isReady())).toBe(true);
  });

  it('quits cleanly: the supervised services are stopped first', async () => {
    const status = (await (await fetch(`${origin}/api/status`)).json()) as {
      services: { id: string; pid: number | null }[];
    };
    const pids = status.services.map((s) => s.pid).filter((p): p is number => !!p);
    expect(pids.length).toBeGreaterThan(0);
    await app.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
