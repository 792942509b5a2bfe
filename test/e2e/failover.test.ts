// Failover across real hosts: a Mac primary and a PC fallback in network namespaces, the phone
// (Debian's python3-zeroconf, an independent mDNS stack) watching TXT `serving`, and an attacker.
// Intervals are shortened through settings (heartbeat 400 ms → a host is gone after 1.2 s; hold-down
// 3 s; session idle 4 s) to keep the run short; the bench measures the default timing.

import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, netnsSupport, run, type Lab } from '../helpers/netns.js';
import { PhoneBrowser } from './mdns-lab.js';
import {
  api,
  hostIdOf,
  pairingOf,
  pairViaDiscovery,
  phoneSees,
  phoneView,
  PY,
  SEND_PY,
  SNIFF_PY,
  startPhone,
  startServer,
  until,
  type LabServer,
  type Timing,
} from './failover-lab.js';

const support = netnsSupport();
if (!support.ok) console.warn(`[failover] skipped: ${support.reason}`);

const TIMING: Timing = {
  heartbeatIntervalMs: 400,
  failbackHoldDownSeconds: 3,
  sessionIdleSeconds: 4,
};
const DEAD_MS = 3 * TIMING.heartbeatIntervalMs;

describe.skipIf(!support.ok)('failover in network namespaces (mac, pc, phone, attacker)', () => {
  let lab: Lab;
  let phone: PhoneBrowser;
  let mac: LabServer;
  let pc: LabServer;
  const dirs: string[] = [];
  const all: LabServer[] = [];

  /** On failure, what each host thinks (for the message). */
  const why = async (err: unknown): Promise<never> => {
    const views = await Promise.all(
      [mac, pc].map((h) =>
        pairingOf(lab, h)
          .then((v) => ({
            reason: v.reason,
            servingId: v.servingId,
            peers: v.peers,
            hb: v.heartbeats,
          }))
          .catch((e: Error) => e.message),
      ),
    );
    throw new Error(
      `${(err as Error).message}\nmac: ${JSON.stringify(views[0])}\npc: ${JSON.stringify(views[1])}`,
    );
  };

  const startMac = async () => {
    mac = await startServer(lab, 'mac', {
      name: 'Studio Mac',
      role: 'primary',
      timing: TIMING,
      ...(dirs[0] ? { dataDir: dirs[0] } : {}),
    });
    dirs[0] = mac.dataDir;
    all.push(mac);
    return mac;
  };

  beforeAll(async () => {
    const probe = spawnSync(PY, ['-c', 'import zeroconf'], { encoding: 'utf8' });
    if (probe.status !== 0)
      throw new Error(
        `python3-zeroconf is missing: apt-get install -y python3-zeroconf (${probe.stderr.trim()})`,
      );
    lab = await createLab({ hosts: ['mac', 'pc', 'phone', 'attacker'] });
    phone = startPhone(lab);
    await phone.waitFor((e) => e.event === 'ready');
    [mac, pc] = await Promise.all([
      startMac(),
      startServer(lab, 'pc', { name: 'Gaming PC', role: 'fallback', timing: TIMING }),
    ]);
    all.push(pc);
    await pairViaDiscovery(lab, mac, pc);
  });

  afterAll(async () => {
    for (const s of all) await s.stop(3_000).catch(() => {});
    await lab?.teardown();
    for (const s of all) fs.rmSync(s.dataDir, { recursive: true, force: true });
  });

  it('paired through discovery and the code: the phone sees the Mac serving, the PC not, both with the same pair id', async () => {
    await phoneSees(phone, { 'Studio Mac': '1', 'Gaming PC': '0' });
    const withPair = (name: string) =>
      phone.events.filter((e) => e.instance === name && e.txt).at(-1)?.txt?.pair;
    await until(
      'the pair id in both TXT records',
      async () => [withPair('Studio Mac'), withPair('Gaming PC')],
      (v) => !!v[0] && !!v[1],
      5_000,
    );
    const macTxt = phone.events.filter((e) => e.instance === 'Studio Mac' && e.txt).at(-1)!.txt!;
    const pcTxt = phone.events.filter((e) => e.instance === 'Gaming PC' && e.txt).at(-1)!.txt!;
    expect(macTxt.pair).toBeTruthy();
    expect(pcTxt.pair).toBe(macTxt.pair);
    expect(pcTxt.serving).toBe('0');
    const view = await pairingOf(lab, pc);
    expect(view.servingId).toBe(hostIdOf(mac));
    expect(view.peers).toEqual([expect.objectContaining({ id: hostIdOf(mac), alive: true })]);
  });

  it('kill -9 of the Mac: the PC serves, as the phone sees it', async () => {
    const t0 = Date.now();
    expect(lab.kill('mac', 'SIGKILL').length).toBeGreaterThan(0); // the server itself, not only tsx's wrapper
    const seen = await phoneSees(phone, { 'Gaming PC': '1' }, 10_000);
    // Detection (≤ 3 intervals) plus the mDNS update; the bench measures this at default timing.
    expect(seen - t0).toBeLessThan(DEAD_MS + 3_000);
    expect((await pairingOf(lab, pc)).reason).toMatch(/serving|taking over/);
  });

  it('the Mac comes back: it takes over only after the hold-down', async () => {
    await startMac();
    const heard = await until(
      'the Mac to hear the PC',
      () => pairingOf(lab, mac),
      (v) => v.peers.some((p) => p.alive),
    );
    const heardAt = Date.now();
    // During the hold-down the PC keeps serving, and the Mac says it is waiting for stability.
    expect(heard.reason).toMatch(/stability|listening/);
    expect(phoneView(phone).get('Gaming PC')?.serving).toBe('1');
    const seen = await phoneSees(phone, { 'Studio Mac': '1', 'Gaming PC': '0' }, 20_000).catch(why);
    // The hold-down runs from the Mac's start, which is before it first heard the PC.
    expect(seen - heardAt).toBeGreaterThanOrEqual(
      TIMING.failbackHoldDownSeconds * 1000 - 2 * DEAD_MS,
    );
    await until(
      'the PC to stop serving',
      () => pairingOf(lab, pc),
      (v) => v.servingId === hostIdOf(mac),
    );
  });

  it("the Mac's link goes down: the PC serves; when it comes back the Mac wins and the PC yields", async () => {
    await run(['ip', '-n', lab.host('mac').ns, 'link', 'set', 'eth0', 'down']);
    try {
      await phoneSees(phone, { 'Gaming PC': '1' }, 10_000);
    } finally {
      await run(['ip', '-n', lab.host('mac').ns, 'link', 'set', 'eth0', 'up']);
      await run([
        'ip',
        '-n',
        lab.host('mac').ns,
        'route',
        'add',
        '224.0.0.0/4',
        'dev',
        'eth0',
      ]).catch(() => {});
    }
    // Healed: both served for a moment (each what it saw); neither has a session, so the Mac keeps it.
    await until(
      'the PC to yield',
      () => pairingOf(lab, pc),
      (v) => v.servingId === hostIdOf(mac),
      15_000,
    );
    await phoneSees(phone, { 'Studio Mac': '1', 'Gaming PC': '0' }, 15_000);
  });

  it('graceful quit of the Mac hands off at once (no timeout)', async () => {
    const t0 = Date.now();
    await mac.stop();
    const seen = await phoneSees(phone, { 'Gaming PC': '1' }, 5_000);
    expect(seen - t0).toBeLessThan(DEAD_MS + 1_500);
    const v = await pairingOf(lab, pc);
    expect(v.reason).toMatch(/serving|taking over/);
  });

  it('failback waits while the PC has a session (POST /api/activity), and happens once it is idle', async () => {
    let active = true;
    const poster = (async () => {
      while (active) {
        await lab
          .fetch('phone', `http://${pc.address}:${pc.port}/api/activity`, { method: 'POST' })
          .catch(() => {});
        await new Promise((r) => setTimeout(r, 800));
      }
    })();
    try {
      await startMac();
      await until(
        'the Mac to hear the PC',
        () => pairingOf(lab, mac),
        (v) => v.peers.some((p) => p.alive),
      );
      // Well past the hold-down: still the PC, and the Mac says why.
      await new Promise((r) => setTimeout(r, TIMING.failbackHoldDownSeconds * 1000 + 2_000));
      expect(phoneView(phone).get('Gaming PC')?.serving).toBe('1');
      expect((await pairingOf(lab, mac)).reason).toMatch(/session/);
    } finally {
      active = false;
      await poster;
    }
    const idleFrom = Date.now();
    await phoneSees(phone, { 'Studio Mac': '1', 'Gaming PC': '0' }, 20_000).catch(why);
    // The last activity went out up to ~1.5 s before `idleFrom` (a fetch from the phone namespace takes a moment).
    expect(Date.now() - idleFrom).toBeGreaterThanOrEqual(TIMING.sessionIdleSeconds * 1000 - 2_000);
  });

  it('forged and replayed heartbeats from the attacker change nothing, and are counted', async () => {
    await phoneSees(phone, { 'Studio Mac': '1', 'Gaming PC': '0' });
    const before = (await pairingOf(lab, pc)).heartbeats;
    // The attacker listens on the LAN (the switch floods like a hub) and records the Mac's heartbeats to the PC.
    await run([
      'ip',
      '-n',
      `${lab.id}-sw`,
      'link',
      'set',
      'br0',
      'type',
      'bridge',
      'ageing_time',
      '0',
    ]);
    await lab.exec('attacker', ['ip', 'link', 'set', 'eth0', 'promisc', 'on']);
    const sniff = await lab.exec(
      'attacker',
      [PY, '-c', SNIFF_PY, pc.address, String(pc.port), '5', 'eth0'],
      { timeoutMs: 30_000 },
    );
    const captured = sniff.stdout.trim().split('\n').filter(Boolean);
    expect(captured.length, sniff.stderr).toBe(5);

    // A forgery: the Mac "leaves" (which would make the PC take over), with a made-up tag.
    const body = JSON.parse(Buffer.from(captured[0]!, 'hex').subarray(37).toString('utf8')) as {
      advert: Record<string, unknown>;
      seq: number;
    };
    body.advert.eligible = false;
    body.advert.serving = false;
    body.seq += 1_000_000;
    const forged = Buffer.concat([
      Buffer.from('UMHB1'),
      Buffer.alloc(32, 0x5a),
      Buffer.from(JSON.stringify(body)),
    ]).toString('hex');

    // Then the Mac crashes, and the attacker replays its recorded heartbeats to keep it "alive".
    expect(lab.kill('mac', 'SIGKILL').length).toBeGreaterThan(0); // the server itself, not only tsx's wrapper
    const t0 = Date.now();
    const replay = lab.exec(
      'attacker',
      [PY, '-c', SEND_PY, pc.address, String(pc.port), '25', '0.2', forged, ...captured],
      { timeoutMs: 30_000 },
    );
    const seen = await phoneSees(phone, { 'Gaming PC': '1' }, 10_000).catch(why);
    expect(seen - t0).toBeLessThan(DEAD_MS + 3_000);
    await replay;
    const after = (await pairingOf(lab, pc)).heartbeats;
    expect(after.replayed! - before.replayed!).toBeGreaterThanOrEqual(5 * 20);
    expect(after.unauthenticated! - before.unauthenticated!).toBeGreaterThanOrEqual(20);
  });

  it('a wrong code entered 5 times locks pairing', async () => {
    const intruder = await startServer(lab, 'attacker', {
      name: 'Intruder',
      role: 'primary',
      timing: TIMING,
    });
    all.push(intruder);
    const start = await api(lab, intruder, 'POST', '/api/pairing/start', {
      address: pc.address,
      port: pc.port,
    });
    expect(start.status).toBe(202);
    const code = (await pairingOf(lab, pc)).incoming!.code;
    const wrong = code === '000000' ? '000001' : '000000';
    const answers: { status: number; message: string }[] = [];
    while (answers.length < 5) {
      const r = await api(lab, intruder, 'POST', '/api/pairing/confirm', { code: wrong });
      const message = (r.body as { error?: { message?: string } }).error?.message ?? '';
      if (r.status === 429) {
        // The `pairing` rate class (burst 5, then one per 5 s per address) slows guessing further.
        await new Promise((res) => setTimeout(res, 5_200));
        continue;
      }
      answers.push({ status: r.status, message });
    }
    expect(answers.slice(0, 4).map((a) => a.status)).toEqual([401, 401, 401, 401]);
    expect(answers[3]!.message).toMatch(/1 attempt\(s\) left/);
    expect(answers[4]).toMatchObject({ status: 403 });
    expect(answers[4]!.message).toMatch(/locked/);
    const v = await pairingOf(lab, pc);
    expect(v.lockedForSeconds).toBeGreaterThan(0);
    expect(v.incoming).toBeNull();
    // Even the right code is refused now, and so is a new request.
    const again = await api(lab, intruder, 'POST', '/api/pairing/start', {
      address: pc.address,
      port: pc.port,
    });
    expect([403, 429]).toContain(again.status);
    const status = (await lab.fetch('pc', `http://127.0.0.1:${pc.port}/api/status`)).body as {
      notices: { code: string }[];
      pairing: { pairId: string };
    };
    expect(status.notices.some((n) => n.code === 'pairing_locked')).toBe(true);
    // The real pair is untouched.
    expect((await pairingOf(lab, pc)).peers.map((p) => p.id)).toEqual([hostIdOf(mac)]);
  });
});
