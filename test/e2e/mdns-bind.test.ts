// UNAMENTIS_BIND=127.0.0.1 must not advertise on the LAN: in network namespaces (nothing reaches the
// machine's own network), a server bound to loopback is never seen by python3-zeroconf on the lab's
// LAN, while one bound to all addresses beside it is; the first says so in its log.

import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, netnsSupport, type Lab } from '../helpers/netns.js';
import type { Headless } from '../helpers/headless.js';
import { PhoneBrowser, PY, startInLab } from './mdns-lab.js';

const support = netnsSupport();
if (!support.ok) console.warn(`[mdns-bind] skipped: ${support.reason}`);

const NO_SERVICES = {
  ollama: { enabled: false },
  vibevoice: { enabled: false },
  piper: { enabled: false },
  whisper: { enabled: false },
};

describe.skipIf(!support.ok)('a loopback bind keeps mDNS off the LAN', () => {
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

  it('UNAMENTIS_BIND=127.0.0.1: not seen on the LAN; the same server on 0.0.0.0 is', async () => {
    const hidden = await startInLab(
      lab,
      'pc',
      { displayName: 'Loopback PC', services: NO_SERVICES },
      { UNAMENTIS_BIND: '127.0.0.1' },
    );
    servers.push(hidden);
    const seen = await startInLab(lab, 'mac', { displayName: 'LAN Mac', services: NO_SERVICES });
    servers.push(seen);
    await phone.waitFor((e) => e.event === 'add' && e.instance === 'LAN Mac', 15_000);
    // ciao announces at 0, 1 and 3 s: wait past the third announcement of the loopback one.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(phone.events.filter((e) => e.instance === 'Loopback PC')).toEqual([]);
    expect(hidden.output()).toMatch(/mDNS interfaces \{"interfaces":\["lo"\],"source":"bind"\}/);
    expect(hidden.output()).toContain('the iPhone will not find this server');
  });
});
