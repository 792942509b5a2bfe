// Every host is a door to the serving host (issue 14), in network namespaces: a Mac (primary) and a
// PC (fallback), each running the fake Ollama behind its front door on 11434, and the phone running
// the app's request loop (a streamed chat request every 500 ms, 2 s timeout), either resolving
// `unamentis.local` before each request or using the IP the user typed. Heartbeat 400 ms (a host is
// gone after 1.2 s), as in failover.test.ts; the bench measures the default timing.

import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, netnsSupport, type Lab } from '../helpers/netns.js';
import {
  hostIdOf,
  pairingOf,
  pairViaDiscovery,
  PY,
  until,
  type LabServer,
  type Timing,
} from './failover-lab.js';
import { LLM, PhoneApp, startWithOllama } from './shared-name-lab.js';

const support = netnsSupport();
if (!support.ok) console.warn(`[forwarding] skipped: ${support.reason}`);

const TIMING: Timing = {
  heartbeatIntervalMs: 400,
  failbackHoldDownSeconds: 2,
  sessionIdleSeconds: 2,
};
describe.skipIf(!support.ok)('forwarding to the serving host (mac, pc, phone)', () => {
  let lab: Lab;
  let mac: LabServer;
  let pc: LabServer;
  let macDir: string;
  const all: LabServer[] = [];
  const apps: PhoneApp[] = [];

  /** The fake Ollama behind a host's front door: which models it loaded (it loads on first use). */
  const loaded = async (h: LabServer): Promise<string[]> => {
    const s = (await lab.fetch(h.labHost, `http://127.0.0.1:${h.port}/api/status`)).body as {
      frontDoor?: { ports: { id: string; upstream: string | null }[] };
    };
    const up = s.frontDoor?.ports.find((p) => p.id === 'ollama')?.upstream;
    if (!up) return [];
    const st = (await lab.fetch(h.labHost, `http://${up}/__fake/state`)).body as {
      loaded: string[];
    };
    return st.loaded;
  };

  const app = async (target: string): Promise<PhoneApp> => {
    const a = PhoneApp.start(lab, target, LLM);
    apps.push(a);
    await a.ready();
    return a;
  };

  const okCount = (a: PhoneApp, since: number) =>
    a.requests.filter((r) => r.t >= since && r.ok).length;

  beforeAll(async () => {
    const probe = spawnSync(PY, ['-c', 'import zeroconf'], { encoding: 'utf8' });
    if (probe.status !== 0)
      throw new Error(
        `python3-zeroconf is missing: apt-get install -y python3-zeroconf (${probe.stderr.trim()})`,
      );
    lab = await createLab({ hosts: ['mac', 'pc', 'phone'] });
    [mac, pc] = await Promise.all([
      startWithOllama(lab, 'mac', 'Studio Mac', 'primary', TIMING),
      startWithOllama(lab, 'pc', 'Gaming PC', 'fallback', TIMING),
    ]);
    macDir = mac.dataDir;
    all.push(mac, pc);
    await pairViaDiscovery(lab, mac, pc);
    await until(
      'the PC to see the Mac serving',
      () => pairingOf(lab, pc),
      (v) => v.servingId === hostIdOf(mac),
      15_000,
    );
  }, 90_000);

  afterAll(async () => {
    for (const a of apps) a.stop();
    for (const s of all) await s.stop(3_000).catch(() => {});
    await lab?.teardown();
    for (const s of all) fs.rmSync(s.dataDir, { recursive: true, force: true });
  });

  it("a phone that typed the PC's IP uses the Mac while the Mac serves", async () => {
    const a = await app(pc.address);
    const t0 = Date.now();
    await until(
      '3 answers through the PC',
      async () => okCount(a, t0),
      (n) => n >= 3,
      20_000,
    );
    a.stop();
    expect(a.since(t0).failed).toEqual([]);
    expect(await loaded(mac)).toContain('mistral:7b');
    expect(await loaded(pc)).toEqual([]); // the PC only passed the requests on
  });

  it('kill -9 of the Mac while the phone uses the shared name: requests succeed again once the PC has the name', async () => {
    const a = await app('unamentis.local.');
    const start = Date.now();
    await until(
      '3 answers by name',
      async () => okCount(a, start),
      (n) => n >= 3,
      20_000,
    );
    const t0 = Date.now();
    expect(lab.kill('mac', 'SIGKILL').length).toBeGreaterThan(0);
    await until(
      '4 answers after the kill',
      async () => okCount(a, t0),
      (n) => n >= 4,
      20_000,
    );
    a.stop();
    const r = a.since(t0);
    console.log(
      `[forwarding] by name, kill -9 of the Mac: ${r.failed.length} of ${r.all.length} requests failed; requests succeed again ${r.recoveredAt! - t0} ms after the kill (a host is gone after ${3 * TIMING.heartbeatIntervalMs} ms)`,
    );
    expect(r.all.filter((x) => x.ok).every((x) => x.addr === pc.address)).toBe(true);
    expect(r.recoveredAt! - t0).toBeLessThan(8_000);
  });

  it('the Mac comes back and takes over after the session; graceful quit then loses no request', async () => {
    mac = await startWithOllama(lab, 'mac', 'Studio Mac', 'primary', TIMING, macDir);
    all.push(mac);
    await until(
      'the Mac to serve again',
      () => pairingOf(lab, pc),
      (v) => v.servingId === hostIdOf(mac),
      30_000,
    );
    const a = await app('unamentis.local.');
    const start = Date.now();
    await until(
      '3 answers from the Mac',
      async () => a.requests.filter((r) => r.t >= start && r.ok && r.addr === mac.address).length,
      (n) => n >= 3,
      20_000,
    );
    const t0 = Date.now();
    await mac.stop();
    await until(
      '3 answers after the quit',
      async () => okCount(a, t0),
      (n) => n >= 3,
      20_000,
    );
    a.stop();
    const r = a.since(t0 - 1_000); // a request in flight when the quit began counts too
    console.log(
      `[forwarding] by name, graceful quit of the Mac: ${r.failed.length} of ${r.all.length} requests failed`,
    );
    expect(r.failed).toEqual([]);
  });

  it("kill -9 of the Mac while the phone uses the PC's IP: the PC serves the next requests itself", async () => {
    mac = await startWithOllama(lab, 'mac', 'Studio Mac', 'primary', TIMING, macDir);
    all.push(mac);
    await until(
      'the Mac to serve again',
      () => pairingOf(lab, pc),
      (v) => v.servingId === hostIdOf(mac),
      30_000,
    );
    const a = await app(pc.address);
    const start = Date.now();
    await until(
      '3 answers through the PC',
      async () => okCount(a, start),
      (n) => n >= 3,
      20_000,
    );
    const t0 = Date.now();
    expect(lab.kill('mac', 'SIGKILL').length).toBeGreaterThan(0);
    await until(
      '4 answers after the kill',
      async () => okCount(a, t0),
      (n) => n >= 4,
      20_000,
    );
    a.stop();
    const r = a.since(t0);
    console.log(
      `[forwarding] by the PC's IP, kill -9 of the Mac: ${r.failed.length} of ${r.all.length} requests failed; requests succeed again ${r.recoveredAt! - t0} ms after the kill`,
    );
    expect(await loaded(pc)).toContain('mistral:7b'); // served here now
    expect(r.recoveredAt! - t0).toBeLessThan(8_000);
  });

  it("failback waits while the phone's requests reach the PC through the Mac's own door, and comes once they stop", async () => {
    // The PC serves (the Mac was killed above). The Mac comes back; the phone typed the Mac's IP.
    mac = await startWithOllama(lab, 'mac', 'Studio Mac', 'primary', TIMING, macDir);
    all.push(mac);
    await until(
      'the Mac to hear the PC',
      () => pairingOf(lab, mac),
      (v) => v.peers.some((p) => p.alive),
    );
    const a = await app(mac.address);
    const start = Date.now();
    await until(
      '3 answers through the Mac',
      async () => okCount(a, start),
      (n) => n >= 3,
      20_000,
    );
    // Well past the hold-down: the session runs on the PC (its front door sees the forwarded
    // requests), so the PC keeps serving and the Mac waits.
    await new Promise((r) => setTimeout(r, TIMING.failbackHoldDownSeconds * 1000 + 2_000));
    expect((await pairingOf(lab, pc)).servingId).toBe(hostIdOf(pc));
    expect((await pairingOf(lab, mac)).reason).toMatch(/session/);
    a.stop();
    expect(a.since(start).failed).toEqual([]);
    const idleFrom = Date.now();
    await until(
      'the Mac to serve after the session',
      () => pairingOf(lab, pc),
      (v) => v.servingId === hostIdOf(mac),
      20_000,
    );
    expect(Date.now() - idleFrom).toBeGreaterThanOrEqual(TIMING.sessionIdleSeconds * 1000 - 1_000);
  });
});
