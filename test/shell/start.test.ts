// Starting the tray app: normally, and through each way a start fails. Whatever happens, the user
// either gets a tray or sees a dialog and the process ends, with nothing left running.

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { tempDir } from '../helpers/headless.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { alive, killAll, launch, resetLaunches, servicesUp, started } from './launch.js';

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

describe('start', () => {
  it.each(['linux', 'darwin', 'win32'] as const)(
    'starts on %s: tray, services, lock held, no dialog',
    async (platform) => {
      const l = await launch({ platform });
      await started(l);
      const pids = await servicesUp(l);
      leftovers.push(...pids);
      expect(l.fake.exit).toBeNull();
      expect(l.fake.errorBoxes).toEqual([]);
      expect(l.electron.app.hasSingleInstanceLock()).toBe(true);
      const tray = l.fake.liveTray()!;
      expect(tray.image.isEmpty()).toBe(false);
      expect(tray.image.template).toBe(platform === 'darwin');
      expect(l.fake.calls.includes('dock.hide')).toBe(platform === 'darwin');
      expect(l.fake.calls.includes('setAppUserModelId com.unamentis.server')).toBe(
        platform === 'win32',
      );
      // Windows: the hidden window that receives 'query-session-end' (shutdown, logoff).
      expect(l.fake.windows.filter((w) => !w.destroyed).length).toBe(platform === 'win32' ? 1 : 0);
      l.electron.app.quit();
      await l.fake.exited();
      expect(l.fake.violations).toEqual([]);
    },
  );

  it('a data folder held by a live process (what a Windows shutdown leaves): dialog, exit 1, lock released', async () => {
    // The lock names a process that is alive (a hung old instance, or its pid reused after a reboot).
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
      stdio: 'ignore',
    });
    leftovers.push(holder.pid!);
    const dataDir = tempDir('unamentis-shell-');
    fs.writeFileSync(path.join(dataDir, 'server.lock'), String(holder.pid));
    const l = await launch({ platform: 'win32', dataDir });
    const exit = await l.fake.exited(20_000);
    expect(exit).toMatchObject({ code: 1, how: 'exit' });
    expect(l.fake.errorBoxes).toHaveLength(1);
    expect(l.fake.errorBoxes[0]!.title).toBe('UnaMentis Server could not start');
    expect(l.fake.errorBoxes[0]!.content).toContain(`Another UnaMentis Server (pid ${holder.pid})`);
    expect(l.fake.liveTray()).toBeNull();
    // The single-instance lock went with the process: the next launch starts.
    expect(l.fake.secondLaunch([])).toBe(true);
    expect(l.fake.violations).toEqual([]);
  });

  it('the control port is taken: dialog naming the port, exit 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const l = await launch({ platform: 'darwin', port });
      const exit = await l.fake.exited(20_000);
      expect(exit).toMatchObject({ code: 1, how: 'exit' });
      expect(l.fake.errorBoxes).toHaveLength(1);
      expect(l.fake.errorBoxes[0]!.content).toMatch(/EADDRINUSE|in use/);
      expect(l.fake.liveTray()).toBeNull();
      expect(l.fake.violations).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('a start that fails after the services were spawned stops them before the dialog and the exit', async () => {
    let running: number[] = [];
    const l = await launch({
      platform: 'linux',
      // Fault injection: mDNS fails to start (after the supervisor has spawned the services).
      inject: () =>
        vi.doMock('../../main/core/discovery/index.js', async (importOriginal) => {
          const real = await importOriginal<typeof import('../../main/core/discovery/index.js')>();
          return {
            ...real,
            createDiscovery: (...args: Parameters<typeof real.createDiscovery>) => {
              const d = real.createDiscovery(...args);
              d.start = async () => {
                await new Promise((r) => setTimeout(r, 300));
                throw new Error('mDNS could not bind port 5353 (EACCES)');
              };
              return d;
            },
          };
        }),
      configure: ({ fake }) => fake.atExit.push(() => (running = [...l.seenPids].filter(alive))),
    });
    const exit = await l.fake.exited(30_000);
    leftovers.push(...l.seenPids);
    expect(exit).toMatchObject({ code: 1, how: 'exit' });
    expect(l.seenPids.size).toBeGreaterThan(0);
    expect(running).toEqual([]);
    expect(l.fake.errorBoxes.map((b) => b.content)).toEqual([
      'mDNS could not bind port 5353 (EACCES)',
    ]);
    expect(l.fake.liveTray()).toBeNull();
    expect(l.electron.blockers.size).toBe(0);
  });
});
