import { describe, expect, it } from 'vitest';
import { appChoice, formatReport } from '../../main/core/discovery/report.js';
import { phoneChoice } from '../../main/core/discovery/peers.js';
import type { DiscoveredHost } from '../../main/core/discovery/host-table.js';

function host(
  name: string,
  over: Partial<DiscoveredHost['txt']> = {},
  health: Partial<DiscoveredHost['health']> = {},
): DiscoveredHost {
  return {
    id: `${name}-id`,
    name,
    fqdn: `${name.toLowerCase()}._unamentis._tcp.local`,
    hostname: `${name}.local`,
    port: 11400,
    addresses: ['fe80::1', '192.168.1.20'],
    txt: {
      v: 1,
      id: `${name}-id`,
      role: 'fallback',
      prio: 100,
      serving: false,
      state: 'cold',
      ports: {},
      pair: null,
      ...over,
    },
    via: { address: '192.168.1.20', interface: 'en0' },
    lastSeenAt: 0,
    health: { ok: true, ready: true, latencyMs: 4, checkedAt: 0, failures: 0, ...health },
  };
}

describe('npm run discover output', () => {
  it('says plainly that nothing was found, and what to check', () => {
    const text = formatReport([], { interfaces: ['en0'], seconds: 3 });
    expect(text).toMatch(/^No UnaMentis server found \(listened on en0 for 3\.0 s\)\./);
    for (const hint of ['same Wi-Fi', 'firewall', 'UDP port 5353', 'multicast', '--interface'])
      expect(text).toContain(hint);
  });

  it('lists every server as the phone sees it, the one it would use marked', () => {
    const text = formatReport(
      [
        host('Gaming PC', { ports: { llm: 11434 } }, { ok: false, ready: null }),
        host('Studio Mac', {
          role: 'primary',
          prio: 200,
          serving: true,
          state: 'warm',
          ports: { llm: 11434, tts: 8880, stt: 11401 },
          pair: 'p1',
        }),
      ],
      { interfaces: ['en0', 'eth0'], seconds: 3.04 },
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('Found 2 UnaMentis servers (listened on en0, eth0 for 3.0 s):');
    expect(lines[2]).toMatch(
      /^\s+NAME\s+ADDRESS\s+PORT\s+ROLE\s+PRIO\s+SERVING\s+STATE\s+HEALTH\s+SERVICES$/,
    );
    expect(lines[3]).toMatch(
      /^>\*\s+Studio Mac\s+192\.168\.1\.20\s+11400\s+primary\s+200\s+yes\s+warm\s+ready 4 ms\s+llm 11434, tts 8880, stt 11401; pair p1$/,
    );
    expect(lines[4]).toMatch(
      /^\s+Gaming PC\s+192\.168\.1\.20\s+11400\s+fallback\s+100\s+no\s+cold\s+no answer\s+llm 11434$/,
    );
    expect(text).toContain('* = the serving host');
    expect(text).toContain("> = what the app's Bonjour discovery would pick");
  });

  it('picks like the iPhone: serving=1 first, else the highest prio that answers /health', () => {
    const a = host('A', { prio: 250 }, { ok: false });
    const b = host('B', { prio: 120 });
    const c = host('C', { prio: 110, serving: true });
    expect(phoneChoice([a, b, c])?.name).toBe('C');
    expect(phoneChoice([a, b])?.name).toBe('B');
    expect(phoneChoice([a])).toBeNull();
    expect(formatReport([a], { interfaces: ['en0'], seconds: 1 })).toContain('No host serves now');
  });

  it("the real app's pick: the first host resolved whose /health answers 200 (it forwards to the serving one)", () => {
    const pc = host('Gaming PC', { prio: 100 });
    const mac = {
      ...host('Studio Mac', { role: 'primary', prio: 200, serving: true }),
      via: { address: '192.168.1.21', interface: 'en0' },
      addresses: ['192.168.1.21'],
    };
    expect(appChoice([pc, mac])?.name).toBe('Gaming PC');
    expect(appChoice([{ ...pc, health: { ...pc.health, ok: false } }, mac])?.name).toBe(
      'Studio Mac',
    );
    const text = formatReport([pc, mac], {
      interfaces: ['en0'],
      seconds: 1,
      sharedName: { name: 'unamentis.local', addresses: ['192.168.1.21'] },
    });
    expect(text).toMatch(/^> \s+Gaming PC/m);
    expect(text).toContain('(it passes requests on to Studio Mac)');
    expect(text).toContain(
      'Shared name (type this in the app): unamentis.local → 192.168.1.21 (Studio Mac, serving)',
    );
    expect(
      formatReport([pc], {
        interfaces: ['en0'],
        seconds: 1,
        sharedName: { name: 'unamentis.local', addresses: [] },
      }),
    ).toContain('unamentis.local: nobody answered');
  });
});
