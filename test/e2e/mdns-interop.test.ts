// Interop: real headless servers in network namespaces, seen by an independent mDNS stack standing
// in for the iPhone (Debian's python3-zeroconf ServiceBrowser in a third namespace). Multicast stays
// inside the lab (a bridge in its own namespace; nothing touches the machine's interfaces).

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, netnsSupport, type Lab } from '../helpers/netns.js';
import { repoRoot, type Headless } from '../helpers/headless.js';
import {
  HOSTILE,
  hostId,
  PhoneBrowser,
  PY,
  startInLab,
  status,
  TXT_KEYS,
  until,
} from './mdns-lab.js';

const support = netnsSupport();
if (!support.ok) console.warn(`[mdns-interop] skipped: ${support.reason}`);

const SERVICES = {
  ollama: { enabled: true, port: 11434, command: '/bin/false' },
  vibevoice: { enabled: true, port: 8880, command: '/bin/false' },
  piper: { enabled: true, port: 11402, command: '/bin/false' },
  whisper: { enabled: true, port: 11401, command: '/bin/false' },
};

/** `npm run discover` inside a lab host (the interface named: under vitest it would default to lo). */
function discover(lab: Lab, host: string) {
  const tsx = path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs');
  return lab.exec(
    host,
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
}

const NO_SERVICES = {
  ollama: { enabled: false },
  vibevoice: { enabled: false },
  piper: { enabled: false },
  whisper: { enabled: false },
};

describe.skipIf(!support.ok)('mDNS interop with python3-zeroconf in network namespaces', () => {
  let lab: Lab;
  let phone: PhoneBrowser;
  const servers: Headless[] = [];

  beforeAll(async () => {
    const probe = spawnSync(PY, ['-c', 'import zeroconf'], { encoding: 'utf8' });
    if (probe.status !== 0)
      throw new Error(
        `python3-zeroconf is missing: apt-get install -y python3-zeroconf (${probe.stderr.trim()})`,
      );
    lab = await createLab({ hosts: ['mac', 'pc', 'phone'] });
    phone = PhoneBrowser.start(lab, 'phone');
    await phone.waitFor((e) => e.event === 'ready');
  });

  afterAll(async () => {
    for (const s of servers) await s.stop(3_000).catch(() => {});
    await lab?.teardown();
    for (const s of servers) fs.rmSync(s.dataDir, { recursive: true, force: true });
  });

  it('resolves the service and reads every TXT key, sees a TXT change, a renamed twin, hostile packets ignored, and goodbyes', async () => {
    // 1. Resolve, every key.
    const mac = await startInLab(lab, 'mac', {
      displayName: 'Studio Mac',
      role: 'primary',
      services: SERVICES,
      pairing: { pairId: 'pair-e2e' },
    });
    servers.push(mac);
    const added = await phone.waitFor((e) => e.event === 'add' && e.instance === 'Studio Mac');
    expect(added.port).toBe(mac.port);
    expect(added.addresses).toContain(mac.address);
    // IPv4 only by default (discovery.ipv6): the app builds http://host:port without brackets.
    expect(added.addresses!.filter((a) => a.includes(':'))).toEqual([]);
    expect(Object.keys(added.txt!).sort()).toEqual([...TXT_KEYS].sort());
    expect(added.txt).toEqual({
      v: '1',
      id: hostId(mac),
      role: 'primary',
      prio: '200',
      // Every service here is `/bin/false`: once they have failed, only a host that can serve says
      // serving=1 (issue 14). The first announcement may come before they fail (checked below).
      serving: expect.stringMatching(/^[01]$/),
      state: 'active',
      llm: '11434',
      tts: '8880',
      tts2: '11402',
      stt: '11401',
      pair: 'pair-e2e',
    });
    // Alone, it still serves (and holds the shared name), but it cannot: TXT serving=0.
    await phone.waitFor(
      (e) =>
        (e.event === 'add' || e.event === 'update') &&
        e.instance === 'Studio Mac' &&
        e.txt?.serving === '0',
      15_000,
    );

    // 2. A TXT change (the user makes this host the fallback) is re-announced, without a goodbye.
    const mark = phone.events.length;
    const put = await lab.fetch('mac', `http://127.0.0.1:${mac.port}/api/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${mac.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'fallback' }),
    });
    expect(put.status).toBe(200);
    const t0 = Date.now();
    const updated = await phone.waitFor(
      (e) => e.event === 'update' && e.instance === 'Studio Mac' && e.txt?.role === 'fallback',
      5_000,
      mark,
    );
    expect(updated.txt).toMatchObject({ role: 'fallback', prio: '100', id: hostId(mac) });
    console.log(`[mdns-interop] TXT change seen by python3-zeroconf after ${updated.t - t0} ms`);
    expect(phone.events.slice(mark).some((e) => e.event === 'remove')).toBe(false);

    // 3. A second host with the same name comes up renamed (RFC 6762 §9); the first stays listed.
    // pc runs no service, so its /health says ready: mac's `peers` then shows /health was confirmed.
    const pc = await startInLab(lab, 'pc', {
      displayName: 'Studio Mac',
      role: 'fallback',
      services: NO_SERVICES,
    });
    servers.push(pc);
    const twin = await phone.waitFor((e) => e.event === 'add' && e.instance === 'Studio Mac (2)');
    expect(twin.port).toBe(pc.port);
    expect(twin.txt?.id).toBe(hostId(pc));
    expect(phone.events.some((e) => e.event === 'remove' && e.instance === 'Studio Mac')).toBe(
      false,
    );
    const pcStatus = await status(lab, 'pc', pc);
    expect(pcStatus.host.advertisedName).toBe('Studio Mac (2)');
    expect(pcStatus.notices.find((n) => n.code === 'mdns_renamed')?.message).toContain(
      '"Studio Mac (2)"',
    );
    expect((await status(lab, 'mac', mac)).host.advertisedName).toBe('Studio Mac');

    // Each server browses the other and confirms it over /health: it shows in `peers`.
    await until(
      'mac lists pc as a ready peer',
      () => status(lab, 'mac', mac),
      (s) => s.peers.some((p) => p.id === hostId(pc) && p.ready === true),
    );
    await until(
      'pc lists mac as a ready peer',
      () => status(lab, 'pc', pc),
      (s) => s.peers.some((p) => p.id === hostId(mac) && p.name === 'Studio Mac'),
    );

    // `npm run discover` from the phone's namespace lists both, as the phone sees them.
    const found = await discover(lab, 'phone');
    expect(found.code).toBe(0);
    expect(found.stdout).toMatch(/^Found 2 UnaMentis servers \(listened on eth0/);
    expect(found.stdout).toMatch(
      new RegExp(
        `Studio Mac\\s+${mac.address.replace(/\./g, '\\.')}\\s+${mac.port}\\s+fallback\\s+100\\s+no\\s+active`,
      ),
    ); // cannot serve: serving=0
    expect(found.stdout).toMatch(
      new RegExp(
        `Studio Mac \\(2\\)\\s+${pc.address.replace(/\./g, '\\.')}\\s+${pc.port}\\s+fallback`,
      ),
    );

    // 4. Hostile packets from the phone's namespace: ignored, counted, nothing crashes or gets listed.
    const hostile = await lab.exec('phone', [
      PY,
      HOSTILE,
      '--interface',
      lab.host('phone').address,
      '--claim-id',
      hostId(mac),
    ]);
    expect(hostile.code).toBe(0);
    const macStatus = await until(
      'mac raises the id-clash notice',
      () => status(lab, 'mac', mac),
      (s) => s.notices.some((n) => n.code === 'mdns_id_conflict'),
    );
    expect(macStatus.peers.map((p) => p.name)).toEqual(['Studio Mac (2)']);
    expect((await lab.fetch('mac', `http://127.0.0.1:${mac.port}/health`)).status).toBe(200);
    expect(mac.output()).toMatch(/ignored mDNS input \(totals\).*"claimsOurId":1/);
    expect(mac.output()).toMatch(/ignored mDNS input \(totals\).*"oversized":/);
    expect(mac.output()).toMatch(/ignored mDNS input \(totals\).*"nonUtf8":/);
    expect(mac.output()).toMatch(/ignored mDNS input \(totals\).*"malformedPacket":/);

    // 5. The user turns advertising off on pc: goodbye, the phone and mac drop it at once.
    const mark2 = phone.events.length;
    const off = await lab.fetch('pc', `http://127.0.0.1:${pc.port}/api/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${pc.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ discovery: { advertise: false } }),
    });
    expect(off.status).toBe(200);
    await phone.waitFor(
      (e) => e.event === 'remove' && e.instance === 'Studio Mac (2)',
      3_000,
      mark2,
    );
    await until(
      'mac drops pc',
      () => status(lab, 'mac', mac),
      (s) => s.peers.length === 0,
      3_000,
    );

    // 6. pc announces again, then dies without a goodbye: mac drops it within a few seconds (no TTL wait).
    await lab.fetch('pc', `http://127.0.0.1:${pc.port}/api/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${pc.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ discovery: { advertise: true } }),
    });
    await until(
      'mac lists pc again',
      () => status(lab, 'mac', mac),
      (s) => s.peers.some((p) => p.id === hostId(pc)),
    );
    expect(lab.kill('pc', 'SIGKILL').length).toBeGreaterThan(0); // the whole host, not just tsx's wrapper
    const killedAt = Date.now();
    await until(
      'mac drops the dead pc',
      () => status(lab, 'mac', mac),
      (s) => s.peers.length === 0,
      12_000,
    );
    console.log(
      `[mdns-interop] a host killed without goodbye left mac's list after ${Date.now() - killedAt} ms`,
    );

    // 7. Quit (SIGTERM): goodbye, the phone removes it at once.
    const mark3 = phone.events.length;
    const quitAt = Date.now();
    expect(await mac.stop()).toBe(0);
    const removed = await phone.waitFor(
      (e) => e.event === 'remove' && e.instance === 'Studio Mac',
      3_000,
      mark3,
    );
    console.log(`[mdns-interop] goodbye on quit seen after ${removed.t - quitAt} ms`);

    // Nobody left: `npm run discover` says so, with what to check, and exits 1.
    const none = await discover(lab, 'phone');
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/^No UnaMentis server found/);
    expect(none.stdout).toContain('firewall');
  });
});
