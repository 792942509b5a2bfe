// Issue #20, finding 1: one 8.9 KB mDNS response whose 592 names each point to the previous one held
// the event loop 230 ms inside @homebridge/ciao 1.3.12's decoder. mdns-guard.ts refuses such packets
// before any decoder sees them, and rate-limits mDNS work per source and in total.

import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MdnsGate, precheckMdns, MDNS_LIMITS } from '../../main/core/discovery/mdns-guard.js';
import { repoRoot } from '../helpers/headless.js';

const require = createRequire(import.meta.url);
// bonjour-service's encoder (no types of its own): compresses names as real responders do.
const dnsPacket = require('dns-packet') as {
  encode: (p: unknown) => Buffer;
  AUTHORITATIVE_ANSWER: number;
};

/** The packet of issue #20, built as test/fixtures/mdns_hostile.py builds it (`--flood`). */
function hostileChain(): Buffer {
  const out = execFileSync('/usr/bin/python3', [
    '-c',
    `import importlib.util, sys
spec = importlib.util.spec_from_file_location("h", ${JSON.stringify(path.join(repoRoot, 'test/fixtures/mdns_hostile.py'))})
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
sys.stdout.write(m.pointer_chain().hex())`,
  ]);
  return Buffer.from(out.toString(), 'hex');
}

/** A service announcement as real responders send it (dns-packet compresses names like mDNSResponder). */
function announcement(extra = 0): Buffer {
  const fqdn = 'Studio Mac._unamentis._tcp.local';
  const answers: unknown[] = [
    { type: 'PTR', name: '_unamentis._tcp.local', data: fqdn, ttl: 4500 },
    { type: 'SRV', name: fqdn, data: { port: 11400, target: 'studio-mac.local' }, ttl: 120 },
    { type: 'TXT', name: fqdn, data: ['v=1', 'id=0b7c', 'role=primary'], ttl: 4500 },
    { type: 'A', name: 'studio-mac.local', data: '192.168.1.20', ttl: 120 },
  ];
  for (let i = 0; i < extra; i++) {
    answers.push({
      type: 'PTR',
      name: `_svc${i}._tcp.local`,
      data: `Living Room TV ${i}._svc${i}._tcp.local`,
      ttl: 4500,
    });
  }
  return dnsPacket.encode({ type: 'response', flags: dnsPacket.AUTHORITATIVE_ANSWER, answers });
}

describe('precheckMdns', () => {
  it('refuses issue #20 packet (8,891 bytes, 592 chained names) in microseconds, whatever the limit it trips first', () => {
    const p = hostileChain();
    expect(p.length).toBe(8_891);
    expect(precheckMdns(p)).toBe('too many records');
    expect(precheckMdns(p, { ...MDNS_LIMITS, maxRecords: 10_000 })).toBe('too many pointers');
    const loose = { ...MDNS_LIMITS, maxRecords: 10_000, maxPointers: 10_000 };
    expect(precheckMdns(p, loose)).toBe('names too costly'); // 1,024 pointers in all
    expect(precheckMdns(p, { ...loose, maxPointerWork: 1e9 })).toBe('name too long');
    expect(precheckMdns(p, { ...loose, maxPointerWork: 1e9, maxNameOctets: 1e9 })).toBe(
      'names too costly',
    ); // octets
  });

  it('lets real announcements through, also a large one (60 records)', () => {
    expect(precheckMdns(announcement())).toBeNull();
    const big = announcement(56);
    expect(big.length).toBeGreaterThan(2_000);
    expect(precheckMdns(big)).toBeNull();
    // and queries
    expect(
      precheckMdns(
        dnsPacket.encode({
          type: 'query',
          questions: [{ type: 'PTR', name: '_unamentis._tcp.local' }],
        }),
      ),
    ).toBeNull();
  });

  it('refuses the fixture hostile packets that are malformed, and forward pointers and loops', () => {
    expect(precheckMdns(Buffer.from([0, 0, 0x84]))).toBe('truncated header');
    const header = (an: number) => Buffer.from([0, 0, 0x84, 0, 0, 0, 0, an, 0, 0, 0, 0]);
    expect(precheckMdns(header(40))).toBe('truncated name');
    // "pointer loop": a name pointing at itself
    const loop = Buffer.concat([
      header(1),
      Buffer.from([0xc0, 0x0c, 0, 12, 0, 1, 0, 0, 0, 120, 0, 2, 0xc0, 0x0c]),
    ]);
    expect(precheckMdns(loop)).toBe('pointer not backwards');
    // a pointer forwards
    const fwd = Buffer.concat([
      header(1),
      Buffer.from([0xc0, 0x20, 0, 1, 0, 1, 0, 0, 0, 120, 0, 0]),
    ]);
    expect(precheckMdns(fwd)).toBe('pointer not backwards');
    // 0x40 / 0x80 label types (ciao would read 0x80 as its "local compression")
    const local = Buffer.concat([
      header(1),
      Buffer.from([0x80, 0x01, 0, 1, 0, 1, 0, 0, 0, 120, 0, 0]),
    ]);
    expect(precheckMdns(local)).toBe('bad label type');
    // a name in RDATA that runs past its record
    const ptr = Buffer.concat([
      header(1),
      Buffer.from([1, 0x61, 0, 0, 12, 0, 1, 0, 0, 0, 120, 0, 1, 3, 0x61, 0x62, 0x63, 0]),
    ]);
    expect(precheckMdns(ptr)).toBe('name beyond its record');
  });

  it('bounds a name to 255 octets in a single label run too', () => {
    const labels = Buffer.concat(
      Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])),
    );
    const p = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
      labels,
      Buffer.from([0, 0, 1, 0, 1]),
    ]);
    expect(precheckMdns(p)).toBe('name too long');
  });
});

describe('MdnsGate', () => {
  it('rate-limits one source (burst 40, 20/s) without starving another, and caps all sources together', () => {
    let now = 0;
    const gate = new MdnsGate(() => now);
    const ok = announcement();
    const verdicts = Array.from({ length: 50 }, () => gate.check(ok, '10.0.0.9'));
    expect(verdicts.filter((v) => v === 'ok')).toHaveLength(40);
    expect(verdicts.at(-1)).toBe('rate');
    expect(gate.check(ok, '10.0.0.20')).toBe('ok');
    now += 1_000;
    expect(
      Array.from({ length: 25 }, () => gate.check(ok, '10.0.0.9')).filter((v) => v === 'ok'),
    ).toHaveLength(20);
    // Spoofed sources: each is new, the total (burst 400) still holds.
    now += 60_000;
    const spoofed = Array.from({ length: 1_000 }, (_, i) =>
      gate.check(ok, `10.1.${i >> 8}.${i & 255}`),
    );
    expect(spoofed.filter((v) => v === 'ok')).toHaveLength(400);
    expect(gate.counters.rate).toBeGreaterThanOrEqual(610);
  });

  it('counts costly packets by reason', () => {
    const gate = new MdnsGate(() => 0);
    expect(gate.check(hostileChain(), '10.0.0.9')).toBe('too many records');
    expect(gate.counters['too many records']).toBe(1);
  });
});

describe('the hook on @homebridge/ciao', () => {
  it('keeps a costly packet from reaching ciao’s decoder, passes a real one', async () => {
    const { ciaoGate } = await import('../../main/core/discovery/ciao.js');
    const { MDNSServer } = require('@homebridge/ciao/lib/MDNSServer.js') as {
      MDNSServer: { prototype: { handleMessage: (...args: unknown[]) => void } };
    };
    const { DNSPacket } = require('@homebridge/ciao/lib/coder/DNSPacket.js') as {
      DNSPacket: { decode: (...args: unknown[]) => unknown };
    };
    const decode = DNSPacket.decode;
    let decoded = 0;
    DNSPacket.decode = (...args: unknown[]) => {
      decoded++;
      return decode(...args);
    };
    try {
      // Just enough of an MDNSServer for handleMessage to reach its decoder.
      const server = {
        bound: true,
        networkManager: {
          getInterface: () => ({
            name: 'eth0',
            loopback: false,
            ip4Netmask: '255.255.255.0',
            ipv4Netaddress: '10.0.0.0',
          }),
          isLoopbackNetaddressV4: () => false,
        },
        checkIfPacketWasPreviouslySentFromUs: () => false,
        handler: { handleQuery: () => undefined, handleResponse: () => undefined },
      };
      const before = ciaoGate.counters['too many records'] ?? 0;
      MDNSServer.prototype.handleMessage.call(
        server,
        'eth0',
        hostileChain(),
        { address: '10.0.0.9', port: 5353 },
        'IPv4',
      );
      expect(decoded).toBe(0);
      expect(ciaoGate.counters['too many records']).toBe(before + 1);
      MDNSServer.prototype.handleMessage.call(
        server,
        'eth0',
        announcement(),
        { address: '10.0.0.9', port: 5353 },
        'IPv4',
      );
      expect(decoded).toBe(1);
    } finally {
      DNSPacket.decode = decode;
    }
  });
});
