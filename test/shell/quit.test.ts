// Quitting the tray app: once, twice, during start, and at OS shutdown on each platform. At the
// moment the process ends, every service must be stopped, the power blocker released, the mDNS
// goodbye sent (the handoff goes first: pairing stops before discovery) and no tray left or rebuilt.

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  alive,
  killAll,
  launch,
  resetLaunches,
  servicesUp,
  started,
  type Launched,
} from './launch.js';

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

const GOODBYE = 'announcement withdrawn (goodbye sent)';
const HANDOFF = 'no longer serving';

interface AtExit {
  code: number | null;
  how: string;
  running: number[];
  blockersHeld: number;
  goodbye: boolean;
  handoff: boolean;
  trayAlive: boolean;
}

/** Records, at the instant the process ends, what is still running. */
function recordExit(l: Launched): Promise<AtExit> {
  return new Promise((resolve) => {
    l.fake.atExit.push((e) => {
      const pids = [...l.seenPids];
      leftovers.push(...pids);
      resolve({
        code: e.code,
        how: e.how,
        running: pids.filter(alive),
        blockersHeld: l.electron.blockers.size,
        goodbye: l.logs.some((x) => x.includes(GOODBYE)),
        handoff: l.logs.some((x) => x.includes(HANDOFF)),
        trayAlive: l.fake.liveTray() !== null,
      });
    });
  });
}

async function running(platform: NodeJS.Platform): Promise<Launched> {
  const l = await launch({ platform });
  await started(l);
  leftovers.push(...(await servicesUp(l)));
  // Announced on mDNS (loopback) before we quit, so there is a goodbye to send.
  await l.electron.until(
    () => l.logs.some((x) => x.includes('announced on the network')),
    20_000,
    'the mDNS announcement',
  );
  expect(l.electron.blockers.size).toBe(1); // active: hibernation keeps the OS awake
  return l;
}

const clean = { running: [], blockersHeld: 0, goodbye: true, handoff: true, trayAlive: false };

describe('quit', () => {
  it.each(['linux', 'darwin', 'win32'] as const)(
    'Quit from the tray on %s: everything stopped before the process ends',
    async (platform) => {
      const l = await running(platform);
      const atExit = recordExit(l);
      l.fake.liveTray()!.menu!.click('Quit UnaMentis Server');
      expect(await atExit).toMatchObject({ code: 0, how: 'exit', ...clean });
      expect(l.fake.violations).toEqual([]);
    },
  );

  it('Quit twice (tray, then Cmd-Q while stopping): the second is held, not an early exit', async () => {
    const l = await running('darwin');
    const atExit = recordExit(l);
    l.fake.liveTray()!.menu!.click('Quit UnaMentis Server');
    await new Promise((r) => setTimeout(r, 10));
    l.electron.app.quit();
    l.electron.app.quit();
    expect(await atExit).toMatchObject({ code: 0, how: 'exit', ...clean });
    expect(l.fake.violations).toEqual([]);
  });

  it('a snapshot during the quit does not bring the tray back', async () => {
    const l = await running('linux');
    const atExit = recordExit(l);
    l.fake.liveTray()!.menu!.click('Quit UnaMentis Server');
    // Stopping the services changes the snapshot many times while the cleanup runs.
    await atExit;
    expect(l.fake.trays.length).toBe(1);
    expect(l.fake.violations).toEqual([]);
  });

  it('Quit during start: the start stops where it is, nothing is spawned after it; no tray, no error', async () => {
    let quitAsked = false;
    const l = await launch({
      platform: 'linux',
      // Cmd-Q the moment the app can hear it: its core is only starting then (the API not yet listening).
      configure: ({ app }) =>
        app.on('newListener', (event) => {
          if (event === 'before-quit' && !quitAsked) {
            quitAsked = true;
            queueMicrotask(() => app.quit());
          }
        }),
    });
    const atExit = recordExit(l);
    const r = await atExit;
    expect(quitAsked).toBe(true);
    // The supervisor never started: no service was spawned (its PID files would name it).
    expect(l.seenPids.size).toBe(0);
    expect(r).toMatchObject({
      code: 0,
      how: 'exit',
      running: [],
      blockersHeld: 0,
      trayAlive: false,
    });
    expect(l.fake.trays).toEqual([]);
    expect(l.fake.errorBoxes).toEqual([]); // a quit during start is not a failed start
    expect(l.fake.violations).toEqual([]);
  });

  it('Quit as the first service is spawned: everything spawned is stopped before the process ends', async () => {
    const l = await launch({ platform: 'linux' });
    const atExit = recordExit(l);
    await l.electron.until(() => l.seenPids.size > 0, 20_000, 'a service spawned');
    l.electron.app.quit();
    expect(await atExit).toMatchObject({ code: 0, how: 'exit', running: [], blockersHeld: 0 });
    expect(l.fake.errorBoxes).toEqual([]);
    expect(l.fake.violations).toEqual([]);
  });
});

describe('OS shutdown', () => {
  it.each(['linux', 'darwin'] as const)(
    '%s: powerMonitor shutdown is held (preventDefault) until handoff, goodbye and services are done',
    async (platform) => {
      const l = await running(platform);
      const atExit = recordExit(l);
      l.fake.osShutdown();
      // Not killed by the OS: the app itself exits, in time (violations would list a kill after the delay).
      expect(await atExit).toMatchObject({ code: 0, how: 'exit', ...clean });
      expect(l.fake.violations).toEqual([]);
    },
  );

  it('win32: no before-quit at shutdown; the hidden window holds query-session-end until all is stopped', async () => {
    const l = await running('win32');
    const atExit = recordExit(l);
    l.fake.osShutdown();
    expect(await atExit).toMatchObject({ code: 0, how: 'exit', ...clean });
    expect(l.fake.violations).toEqual([]);
  });
});
