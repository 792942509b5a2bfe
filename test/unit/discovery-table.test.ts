import { describe, expect, it } from 'vitest';
import { HostTable, type DnsRecord } from '../../main/core/discovery/host-table.js';
import {
  chooseInterfaces,
  interfaceOverride,
  onSubnet,
  type NetInterface,
} from '../../main/core/discovery/interfaces.js';
import { healthAddress } from '../../main/core/discovery/browser.js';
import { toPeer, toPeers } from '../../main/core/discovery/peers.js';

const PEER = '11111111-2222-4333-8444-555555555555';
const SELF = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const TYPE = '_unamentis._tcp.local';
const FROM = { address: '10.0.0.7', interface: 'eth0' };

function txt(over: Record<string, string> = {}): Buffer[] {
  const kv = {
    v: '1',
    id: PEER,
    role: 'fallback',
    prio: '100',
    serving: '0',
    state: 'cold',
    llm: '11434',
    ...over,
  };
  return Object.entries(kv).map(([k, v]) => Buffer.from(`${k}=${v}`));
}

/** A full announcement, as a responder sends it (ciao, mDNSResponder). */
function announce(
  name = 'Gaming PC',
  ttl = 4500,
  t: Buffer[] = txt(),
  host = 'Gaming-PC.local',
  port = 11400,
): DnsRecord[] {
  const fqdn = `${name}.${TYPE}`;
  return [
    { name: TYPE, type: 'PTR', ttl, data: fqdn },
    {
      name: fqdn,
      type: 'SRV',
      ttl: Math.min(ttl, 120),
      data: { target: host, port, priority: 0, weight: 0 },
    },
    { name: fqdn, type: 'TXT', ttl, data: t },
    { name: host, type: 'A', ttl: Math.min(ttl, 120), data: '10.0.0.7' },
    { name: host, type: 'AAAA', ttl: Math.min(ttl, 120), data: 'fe80::1' },
  ];
}

describe('HostTable', () => {
  it('lists a host once PTR, SRV, TXT and an address have arrived, with everything the phone reads', () => {
    const t = new HostTable();
    const changes = t.observe(announce(), FROM, 1_000);
    expect(changes.map((c) => c.type)).toEqual(['up']);
    expect(t.list()).toEqual([
      {
        id: PEER,
        name: 'Gaming PC',
        fqdn: `gaming pc.${TYPE}`,
        hostname: 'gaming-pc.local',
        port: 11400,
        addresses: ['10.0.0.7', 'fe80::1'],
        txt: {
          v: 1,
          id: PEER,
          role: 'fallback',
          prio: 100,
          serving: false,
          state: 'cold',
          ports: { llm: 11434 },
          pair: null,
        },
        via: FROM,
        lastSeenAt: 1_000,
        health: { ok: null, ready: null, latencyMs: null, checkedAt: null, failures: 0 },
      },
    ]);
  });

  it('assembles a host from records arriving in separate packets, and asks for what is missing', () => {
    const t = new HostTable();
    const [ptr, srv, tx, a] = announce();
    expect(t.observe([ptr!], FROM, 0)).toEqual([]);
    expect(t.incomplete()).toEqual([
      { name: `gaming pc.${TYPE}`, type: 'SRV' },
      { name: `gaming pc.${TYPE}`, type: 'TXT' },
    ]);
    t.observe([srv!], FROM, 10);
    expect(t.incomplete()).toEqual([
      { name: `gaming pc.${TYPE}`, type: 'TXT' },
      { name: 'gaming-pc.local', type: 'A' },
    ]);
    expect(t.observe([tx!], FROM, 20).map((c) => c.type)).toEqual(['up']);
    t.observe([a!], FROM, 30);
    expect(t.incomplete()).toEqual([]);
    expect(t.list()[0]!.addresses).toEqual(['10.0.0.7']);
  });

  it('reports a TXT-only update (what ciao sends on updateTxt) and nothing when nothing changed', () => {
    const t = new HostTable();
    t.observe(announce(), FROM, 0);
    const fqdn = `Gaming PC.${TYPE}`;
    expect(t.observe([{ name: fqdn, type: 'TXT', ttl: 4500, data: txt() }], FROM, 100)).toEqual([]);
    const changes = t.observe(
      [{ name: fqdn, type: 'TXT', ttl: 4500, data: txt({ serving: '1', state: 'active' }) }],
      FROM,
      200,
    );
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      type: 'update',
      host: { txt: { serving: true, state: 'active' } },
      previous: { txt: { serving: false } },
    });
  });

  it('removes a host on a goodbye (TTL 0) at once', () => {
    const t = new HostTable();
    t.observe(announce(), FROM, 0);
    const changes = t.observe(announce('Gaming PC', 0), FROM, 50);
    expect(changes).toEqual([expect.objectContaining({ type: 'down', reason: 'goodbye' })]);
    expect(t.list()).toEqual([]);
  });

  it('does not wait for TTLs: a host not heard for staleMs leaves; /health answers keep it', () => {
    const t = new HostTable({ staleMs: 5_000 });
    t.observe(announce(), FROM, 0);
    const fqdn = `gaming pc.${TYPE}`;
    expect(t.sweep(4_000)).toEqual([]);
    t.healthResult(fqdn, { id: PEER, ready: true, latencyMs: 3.4 }, 4_000);
    expect(t.sweep(8_000)).toEqual([]);
    expect(t.list()[0]!.health).toEqual({
      ok: true,
      ready: true,
      latencyMs: 3,
      checkedAt: 4_000,
      failures: 0,
    });
    // Failing /health does not refresh it; the next sweep past staleMs drops it.
    t.healthResult(fqdn, null, 6_000);
    t.healthResult(fqdn, null, 8_000);
    expect(t.list()[0]!.health).toMatchObject({ ok: false, failures: 2 });
    expect(t.sweep(9_001)).toEqual([expect.objectContaining({ type: 'down', reason: 'stale' })]);
  });

  it('keeps a host whose /health fails while its responder still answers, marked unhealthy', () => {
    const t = new HostTable({ staleMs: 5_000 });
    const fqdn = `gaming pc.${TYPE}`;
    t.observe(announce(), FROM, 0);
    const c = t.healthResult(fqdn, null, 2_000);
    expect(c).toEqual([
      expect.objectContaining({
        type: 'update',
        host: expect.objectContaining({ health: expect.objectContaining({ ok: false }) }),
      }),
    ]);
    t.observe(announce().slice(1, 3), FROM, 4_000); // the answer to our SRV/TXT re-query
    expect(t.sweep(8_000)).toEqual([]);
    expect(t.list()).toHaveLength(1);
  });

  it('expires records past their TTL even while other records keep arriving', () => {
    const t = new HostTable({ staleMs: 60_000 });
    t.observe(announce('Gaming PC', 2), FROM, 0);
    expect(t.sweep(2_001)).toEqual([expect.objectContaining({ type: 'down', reason: 'expired' })]);
  });

  it('counts a /health answer with another id as a mismatch and a failure', () => {
    const t = new HostTable();
    t.observe(announce(), FROM, 0);
    t.healthResult(`gaming pc.${TYPE}`, { id: SELF, ready: true, latencyMs: 1 }, 10);
    expect(t.list()[0]!.health.ok).toBe(false);
    expect(t.counters.healthIdMismatch).toBe(1);
  });

  it('never lists itself, and ignores (and counts once) another host claiming our id', () => {
    const t = new HostTable();
    t.setSelf(SELF, ['Studio']);
    expect(t.observe(announce('Studio', 4500, txt({ id: SELF })), FROM, 0)).toEqual([]);
    expect(t.observe(announce('Impostor', 4500, txt({ id: SELF }), 'imp.local'), FROM, 0)).toEqual(
      [],
    );
    t.observe(announce('Impostor', 4500, txt({ id: SELF }), 'imp.local'), FROM, 10);
    expect(t.list()).toEqual([]);
    expect(t.counters.claimsOurId).toBe(1);
    expect(t.incomplete()).toEqual([]);
  });

  it('drops a listed host that starts sending an invalid TXT, and counts why', () => {
    const t = new HostTable();
    t.observe(announce(), FROM, 0);
    const changes = t.observe(
      [{ name: `Gaming PC.${TYPE}`, type: 'TXT', ttl: 4500, data: txt({ role: 'boss' }) }],
      FROM,
      10,
    );
    expect(changes).toEqual([expect.objectContaining({ type: 'down', reason: 'invalid' })]);
    expect(t.counters.wrongType).toBe(1);
  });

  it('survives garbage records without throwing and counts them', () => {
    const t = new HostTable();
    const junk: unknown[] = [
      null,
      42,
      'PTR',
      { name: TYPE, type: 'PTR' },
      { name: 5, type: 'PTR', ttl: 1, data: 'x' },
      { name: TYPE, type: 'PTR', ttl: -1, data: 'x' },
      { name: 'x'.repeat(300), type: 'TXT', ttl: 10, data: [] },
      { name: TYPE, type: 'PTR', ttl: 10, data: { not: 'a string' } },
      { name: `A.${TYPE}`, type: 'SRV', ttl: 10, data: null },
      { name: `A.${TYPE}`, type: 'SRV', ttl: 10, data: { target: 'a.local', port: 70000 } },
      { name: `A.${TYPE}`, type: 'TXT', ttl: 10, data: 'v=1' },
      { name: 'a.local', type: 'A', ttl: 10, data: Buffer.from([1, 2, 3, 4]) },
      { name: `.${TYPE}`, type: 'SRV', ttl: 10, data: { target: 'a.local', port: 1 } },
    ];
    expect(() => t.observe(junk, FROM, 0)).not.toThrow();
    expect(t.list()).toEqual([]);
    // 7 that are not records at all, then PTR data, SRV null, SRV port, A data: 11; the TXT string is malformed.
    expect(t.counters).toEqual({ badRecord: 11, malformed: 1 });
  });

  it('bounds its size against a flood of instances and addresses', () => {
    const t = new HostTable({ maxHosts: 4, maxAddresses: 2 });
    for (let i = 0; i < 10; i++)
      t.observe(
        announce(`Host ${i}`, 4500, txt({ id: PEER.replace(/5$/, String(i)) }), `h${i}.local`),
        FROM,
        i,
      );
    expect(t.list()).toHaveLength(4);
    expect(t.counters.tableFull).toBeGreaterThan(0);
    // The newest stay (a flood gives up its own oldest entries: see the next test).
    t.observe(
      ['10.0.0.8', '10.0.0.9', '10.0.0.10'].map((a) => ({
        name: 'h9.local',
        type: 'A',
        ttl: 100,
        data: a,
      })),
      FROM,
      20,
    );
    expect(t.get(`host 9.${TYPE}`)!.addresses).toHaveLength(2);
  });

  // Issue #20, finding 6: 5,000 fake hosts filled the 64 entries; a real host that appeared during the
  // flood was never listed.
  const fakeId = (i: number) => `ffffffff-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const fake = (i: number) =>
    announce(`Fake ${i}`, 4500, txt({ id: fakeId(i) }), `fake-${i}.local`);
  const REAL = { address: '10.0.0.20', interface: 'eth0' };

  it('a real host that appears during a flood of 5,000 fake hosts from one machine is listed, confirmed and kept', () => {
    const t = new HostTable();
    const EVIL = { address: '10.0.0.66', interface: 'eth0' };
    let now = 0;
    for (let i = 0; i < 2_500; i++) t.observe(fake(i), EVIL, (now += 2));
    const up = t.observe(announce(), REAL, (now += 2));
    expect(up.map((c) => c.type)).toEqual(['up']);
    t.healthResult(`gaming pc.${TYPE}`, { id: PEER, ready: true, latencyMs: 3 }, (now += 5));
    for (let i = 2_500; i < 5_000; i++) t.observe(fake(i), EVIL, (now += 2));
    expect(t.get(`gaming pc.${TYPE}`)?.health.ok).toBe(true);
    // The flooding machine holds at most its quota.
    expect(t.list().filter((h) => h.via.address === EVIL.address)).toHaveLength(16);
  });

  it('with spoofed sources too: a newcomer takes an unconfirmed slot; confirmed hosts are never evicted', () => {
    const t = new HostTable();
    let now = 0;
    const src = (i: number) => ({
      address: `10.0.${(i >> 8) & 255}.${i & 255}`,
      interface: 'eth0',
    });
    for (let i = 0; i < 2_500; i++) t.observe(fake(i), src(i), (now += 2));
    // One fake gives up its slot (down), the real host comes up.
    expect(t.observe(announce(), REAL, (now += 2)).map((c) => c.type)).toEqual(['down', 'up']);
    t.healthResult(`gaming pc.${TYPE}`, { id: PEER, ready: true, latencyMs: 3 }, (now += 5));
    for (let i = 2_500; i < 5_000; i++) t.observe(fake(i), src(i), (now += 2));
    expect(t.get(`gaming pc.${TYPE}`)?.health.ok).toBe(true);
    expect(t.list()).toHaveLength(64);
  });

  it('a table full of confirmed hosts refuses newcomers (counted)', () => {
    const t = new HostTable({ maxHosts: 3 });
    for (let i = 0; i < 3; i++) {
      t.observe(fake(i), { address: `10.0.1.${i}`, interface: 'eth0' }, i);
      t.healthResult(`fake ${i}.${TYPE}`, { id: fakeId(i), ready: true, latencyMs: 1 }, i);
    }
    expect(t.observe(announce(), REAL, 10)).toEqual([]);
    expect(t.list()).toHaveLength(3);
    expect(t.counters.tableFull).toBeGreaterThan(0);
  });
});

describe('interfaces', () => {
  const all: NetInterface[] = [
    {
      name: 'lo',
      up: true,
      addresses: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', internal: true }],
    },
    {
      name: 'en0',
      up: true,
      addresses: [
        { address: '192.168.1.20', netmask: '255.255.255.0', family: 'IPv4', internal: false },
        { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', internal: false },
      ],
    },
    {
      name: 'eth1',
      up: false,
      addresses: [{ address: '10.1.0.2', netmask: '255.255.0.0', family: 'IPv4', internal: false }],
    },
    {
      name: 'docker0',
      up: true,
      addresses: [
        { address: '172.17.0.1', netmask: '255.255.0.0', family: 'IPv4', internal: false },
      ],
    },
    {
      name: 'utun3',
      up: true,
      addresses: [{ address: 'fd00::3', netmask: 'ffff::', family: 'IPv6', internal: false }],
    },
    {
      name: 'eth0',
      up: true,
      addresses: [
        { address: '10.9.8.2', netmask: '255.255.255.0', family: 'IPv4', internal: false },
      ],
    },
  ];

  it('empty list: every up, non-loopback, non-virtual interface with IPv4', () => {
    const c = chooseInterfaces(all, []);
    expect(c.interfaces.map((i) => i.name)).toEqual(['en0', 'eth0']);
    expect(c.interfaces[0]).toEqual({
      name: 'en0',
      ipv4: '192.168.1.20',
      netmask: '255.255.255.0',
      ipv6: ['fe80::1'],
      loopback: false,
    });
    expect(c.source).toBe('all');
  });

  it('named interfaces: exactly those, loopback and virtual included; unusable ones say why', () => {
    const c = chooseInterfaces(all, ['lo', 'docker0', 'eth1', 'wlan9', 'utun3', 'lo'], 'env');
    expect(c.interfaces.map((i) => i.name)).toEqual(['lo', 'docker0']);
    expect(c.interfaces[0]!.loopback).toBe(true);
    expect(c.unusable).toEqual([
      { name: 'eth1', why: 'the interface is down' },
      { name: 'wlan9', why: 'no such interface on this machine' },
      { name: 'utun3', why: 'the interface has no IPv4 address' },
    ]);
  });

  it('the env override keeps tests on loopback, and * defers to the settings', () => {
    expect(interfaceOverride({ UNAMENTIS_MDNS_INTERFACES: 'lo, eth0' })).toEqual(['lo', 'eth0']);
    expect(interfaceOverride({ UNAMENTIS_MDNS_INTERFACES: '*' })).toBeNull();
    expect(interfaceOverride({ VITEST: 'true' })).toEqual(['lo']);
    expect(interfaceOverride({ VITEST: 'true', UNAMENTIS_MDNS_INTERFACES: '*' })).toBeNull();
    expect(interfaceOverride({})).toBeNull();
  });

  it('onSubnet and the /health address stay on our own subnets', () => {
    const en0 = { ipv4: '192.168.1.20', netmask: '255.255.255.0' };
    expect(onSubnet('192.168.1.200', en0)).toBe(true);
    expect(onSubnet('::ffff:192.168.1.3', en0)).toBe(true);
    expect(onSubnet('192.168.2.1', en0)).toBe(false);
    expect(onSubnet('fe80::1', en0)).toBe(false);
    expect(onSubnet('300.1.1.1', en0)).toBe(false);
    expect(
      healthAddress(
        { via: { address: '192.168.1.9', interface: 'en0' }, addresses: ['10.0.0.1'] },
        [en0],
      ),
    ).toBe('192.168.1.9');
    expect(
      healthAddress(
        { via: { address: '10.5.5.5', interface: 'x' }, addresses: ['10.0.0.1', '192.168.1.7'] },
        [en0],
      ),
    ).toBe('192.168.1.7');
    expect(
      healthAddress({ via: { address: '10.5.5.5', interface: 'x' }, addresses: ['10.0.0.1'] }, [
        en0,
      ]),
    ).toBeNull();
  });
});

describe('toPeer', () => {
  it('maps a discovered host to the snapshot Peer, serving first then by prio', () => {
    const t = new HostTable();
    t.observe(announce('B', 4500, txt({ prio: '150' }), 'b.local'), FROM, 0);
    t.observe(
      announce(
        'A',
        4500,
        txt({
          id: PEER.replace(/5$/, '6'),
          serving: '1',
          role: 'primary',
          prio: '200',
          state: 'active',
        }),
        'a.local',
      ),
      FROM,
      0,
    );
    t.healthResult(`a.${TYPE}`, { id: PEER.replace(/5$/, '6'), ready: true, latencyMs: 2 }, 1_000);
    const peers = toPeers(t.list(), 3_400);
    expect(peers.map((p) => p.name)).toEqual(['A', 'B']);
    expect(peers[0]).toEqual({
      id: PEER.replace(/5$/, '6'),
      name: 'A',
      role: 'primary',
      prio: 200,
      serving: true,
      state: 'active',
      lastSeenSeconds: 2,
      ready: true,
      addresses: ['10.0.0.7', 'fe80::1'],
      port: 11400,
    });
    expect(toPeer(t.get(`b.${TYPE}`)!, 0).ready).toBe(false);
  });
});
