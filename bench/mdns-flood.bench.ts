// Issue #20, finding 1: `/health` as the phone sees it while another device on the LAN sends the
// hostile mDNS packet (8.9 KB, 592 chained names) 50 times a second. Three network namespaces: the
// server, the attacker (test/fixtures/mdns_hostile.py --flood) and the phone (a Python client asking
// /health every 50 ms for 10 s). Rows: no flood; flood with the guard (mdns-guard.ts); flood with
// `UNAMENTIS_MDNS_GUARD=off` (the decoders see every packet, as before the fix).

import fs from 'node:fs';
import { createLab, netnsSupport, type Lab } from '../test/helpers/netns.js';
import { HOSTILE, PY, startInLab } from '../test/e2e/mdns-lab.js';
import type { BenchRow } from './types.js';

const RATE = 50;
const PROBE_S = 10;

// One GET per 50 ms on a fresh connection (as the phone's URLSession would after idling), each timed.
const PROBE = `
import http.client, json, sys, time
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
out, end = [], time.monotonic() + seconds
while time.monotonic() < end:
    t = time.monotonic()
    try:
        c = http.client.HTTPConnection(host, port, timeout=15)
        c.request("GET", "/health"); c.getresponse().read(); c.close()
        out.append((time.monotonic() - t) * 1000)
    except Exception:
        out.append(15000.0)
    time.sleep(max(0.0, 0.05 - (time.monotonic() - t)))
print(json.dumps(out))
`;

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)] ?? NaN;
}

async function measure(
  lab: Lab,
  flood: boolean,
  guard: boolean,
): Promise<{ p99: number; max: number; n: number; sent: number }> {
  const mac = await startInLab(
    lab,
    'mac',
    { displayName: 'Flood Bench', role: 'primary', services: {} },
    guard ? {} : { UNAMENTIS_MDNS_GUARD: 'off' },
  );
  try {
    await new Promise((r) => setTimeout(r, 4_000)); // past probing and the announcements
    const attacker = flood
      ? lab.exec(
          'evil',
          [
            PY,
            HOSTILE,
            '--interface',
            lab.host('evil').address,
            '--flood',
            String(RATE),
            '--seconds',
            String(PROBE_S + 2),
          ],
          {
            timeoutMs: (PROBE_S + 30) * 1000,
          },
        )
      : null;
    if (flood) await new Promise((r) => setTimeout(r, 1_500)); // let the flood build up first
    const probe = await lab.exec(
      'phone',
      [PY, '-c', PROBE, lab.host('mac').address, String(mac.port), String(PROBE_S)],
      {
        timeoutMs: (PROBE_S + 60) * 1000,
      },
    );
    const sent = attacker ? Number((await attacker).stdout.trim()) : 0;
    if (probe.code !== 0) throw new Error(`probe failed: ${probe.stderr}`);
    const xs = JSON.parse(probe.stdout) as number[];
    return { p99: p99(xs), max: Math.max(...xs), n: xs.length, sent };
  } finally {
    await mac.stop(3_000);
    fs.rmSync(mac.dataDir, { recursive: true, force: true });
  }
}

export async function bench(): Promise<BenchRow[]> {
  const support = netnsSupport();
  if (!support.ok)
    return [{ name: 'mDNS flood bench skipped', value: NaN, unit: '', note: support.reason }];
  const lab = await createLab({ hosts: ['mac', 'evil', 'phone'] });
  try {
    const quiet = await measure(lab, false, true);
    const guarded = await measure(lab, true, true);
    const open = await measure(lab, true, false);
    const row = (name: string, m: typeof quiet, goal: boolean): BenchRow => ({
      name,
      value: m.p99,
      unit: 'ms',
      ...(goal ? { goal: '≤ 50 ms', pass: m.p99 <= 50 } : {}),
      note: `${m.n} GETs, max ${m.max.toFixed(1)} ms${m.sent ? `; ${m.sent} hostile packets sent` : ''}`,
    });
    return [
      row('/health p99, no flood', quiet, false),
      row(`/health p99 while ${RATE} hostile mDNS packets/s arrive (guard on)`, guarded, true),
      row(
        `/health p99 while ${RATE} hostile mDNS packets/s arrive (UNAMENTIS_MDNS_GUARD=off)`,
        open,
        false,
      ),
    ];
  } finally {
    await lab.teardown();
  }
}
