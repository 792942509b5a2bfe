// The pair's shared name in network namespaces: a Mac (primary) and a PC (fallback), and the phone
// resolving `unamentis.local` with python3-zeroconf before each request, as the iPhone's resolver
// would. The name follows the serving host: graceful quit (goodbye, then the other host announces),
// kill -9 (the other host takes it when the election promotes it), failback after a restart.
// Intervals are shortened through settings, as in failover.test.ts.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, netnsSupport, type Lab } from '../helpers/netns.js';
import { repoRoot } from '../helpers/headless.js';
import {
  hostIdOf,
  pairingOf,
  pairViaDiscovery,
  PY,
  startServer,
  until,
  type LabServer,
  type Timing,
} from './failover-lab.js';
import { PhoneResolver } from './shared-name-lab.js';

const support = netnsSupport();
if (!support.ok) console.warn(`[shared-name] skipped: ${support.reason}`);

const TIMING: Timing = {
  heartbeatIntervalMs: 400,
  failbackHoldDownSeconds: 3,
  sessionIdleSeconds: 3,
};
const DEAD_MS = 3 * TIMING.heartbeatIntervalMs;

describe.skipIf(!support.ok)('the shared name in network namespaces (mac, pc, phone)', () => {
  let lab: Lab;
  let phone: PhoneResolver;
  let mac: LabServer;
  let pc: LabServer;
  let macDir: string | undefined;
  const all: LabServer[] = [];

  const startMac = async () => {
    mac = await startServer(lab, 'mac', {
      name: 'Studio Mac',
      role: 'primary',
      timing: TIMING,
      ...(macDir ? { dataDir: macDir } : {}),
    });
    macDir = mac.dataDir;
    all.push(mac);
  };

  /** The phone looks the name up, then asks the address it got for /health: which host answered. */
  const ask = async (): Promise<{ address: string | null; id: string | null; source: string }> => {
    const r = await phone.resolve();
    const address = r.addresses[0] ?? null;
    if (!address) return { address, id: null, source: r.source };
    const port = address === mac?.address ? mac.port : address === pc.address ? pc.port : 0;
    const h = await lab.fetch('phone', `http://${address}:${port}/health`).catch(() => null);
    return { address, id: (h?.body as { id?: string } | undefined)?.id ?? null, source: r.source };
  };

  const sharedNameOf = async (h: LabServer) =>
    (
      (await lab.fetch(h.labHost, `http://127.0.0.1:${h.port}/api/status`)).body as {
        host: { sharedName?: { held: boolean; conflict: string | null } };
      }
    ).host.sharedName;

  beforeAll(async () => {
    const probe = spawnSync(PY, ['-c', 'import zeroconf'], { encoding: 'utf8' });
    if (probe.status !== 0)
      throw new Error(
        `python3-zeroconf is missing: apt-get install -y python3-zeroconf (${probe.stderr.trim()})`,
      );
    lab = await createLab({ hosts: ['mac', 'pc', 'phone'] });
    phone = PhoneResolver.start(lab);
    await phone.ready();
    await startMac();
    pc = await startServer(lab, 'pc', { name: 'Gaming PC', role: 'fallback', timing: TIMING });
    all.push(pc);
  }, 60_000);

  afterAll(async () => {
    phone?.stop();
    for (const s of all) await s.stop(3_000).catch(() => {});
    await lab?.teardown();
    for (const s of all) fs.rmSync(s.dataDir, { recursive: true, force: true });
  });

  it('a single host answers the name; a second, unpaired one reports the conflict; once paired, the Mac holds it', async () => {
    // Both serve themselves before pairing: whoever probed first holds the name, the other reports it.
    await until(
      'one holder, one conflict',
      async () => [await sharedNameOf(mac), await sharedNameOf(pc)],
      (v) => v.some((x) => x?.held) && v.some((x) => x?.conflict),
      10_000,
    );
    await pairViaDiscovery(lab, mac, pc);
    await until(
      'the Mac to hold the name, the PC not',
      async () => [await sharedNameOf(mac), await sharedNameOf(pc)],
      (v) => v[0]?.held === true && v[1]?.held === false && !v[0].conflict && !v[1].conflict,
      15_000,
    );
    const got = await until(
      'the phone to reach the Mac by name',
      ask,
      (v) => v.id === hostIdOf(mac),
      10_000,
    );
    expect(got.address).toBe(mac.address);
    // `npm run discover` from the phone says who holds the name and what the app would pick.
    const tsx = path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs');
    const found = await lab.exec(
      'phone',
      [
        process.execPath,
        tsx,
        path.join(repoRoot, 'main/discover.ts'),
        '--interface',
        'eth0',
        '--timeout',
        '2',
      ],
      { timeoutMs: 30_000 },
    );
    expect(found.stdout).toContain(`unamentis.local → ${mac.address} (Studio Mac, serving)`);
    expect(found.stdout).toMatch(/> = what the app's Bonjour discovery would pick/);
  });

  it('graceful quit of the Mac: goodbye, the PC announces, the phone resolves the PC', async () => {
    const t0 = Date.now();
    await mac.stop();
    const got = await until(
      'the phone to resolve the PC',
      ask,
      (v) => v.id === hostIdOf(pc),
      5_000,
    );
    console.log(
      `[shared-name] graceful quit → the phone resolves the PC after ${Date.now() - t0} ms (${got.source})`,
    );
    expect((await sharedNameOf(pc))?.held).toBe(true);
  });

  it('the Mac comes back: the name returns to it after the hold-down, not before', async () => {
    await startMac();
    await until(
      'the Mac to hear the PC',
      () => pairingOf(lab, mac),
      (v) => v.peers.some((p) => p.alive),
    );
    expect((await ask()).id).toBe(hostIdOf(pc));
    await until('the phone to resolve the Mac again', ask, (v) => v.id === hostIdOf(mac), 20_000);
    expect((await sharedNameOf(pc))?.held).toBe(false);
  });

  it('kill -9 of the Mac: the PC takes the name when it promotes, and the phone follows', async () => {
    await until(
      'the PC to hear the Mac',
      () => pairingOf(lab, pc),
      (v) => v.servingId === hostIdOf(mac),
    );
    expect((await ask()).id).toBe(hostIdOf(mac));
    const t0 = Date.now();
    expect(lab.kill('mac', 'SIGKILL').length).toBeGreaterThan(0);
    // Look the name up every 50 ms (a lookup answered from the cache costs nothing) until it moves.
    let lookups = 0;
    for (;;) {
      const r = await phone.resolve();
      lookups++;
      if (r.addresses[0] === pc.address) break;
      if (Date.now() - t0 > 10_000)
        throw new Error(`the phone still resolves ${JSON.stringify(r)} after 10 s`);
      await new Promise((res) => setTimeout(res, 50));
    }
    const ms = Date.now() - t0;
    expect((await ask()).id).toBe(hostIdOf(pc));
    console.log(
      `[shared-name] kill -9 → the phone resolves the PC after ${ms} ms (${lookups} lookups; a host is gone after ${DEAD_MS} ms)`,
    );
    expect(ms).toBeLessThan(DEAD_MS + 5_000);
  });
});
