// mDNS as the iPhone sees it: the installed `unamentis-server` (bench/installed.ts: the pack:linux
// tarball, unpacked) in one network namespace, Debian's python3-zeroconf browsing in another (the
// interop lab of test/e2e). Median of RUNS runs for each measure:
//   process start → resolved by the browser (what an admin sees), TXT change → seen, a burst of
//   changes → its final value seen, quit → removal seen.
// Times come from one clock: the browser stamps events with wall-clock ms; the server's log lines
// carry ISO timestamps (debug level, so "TXT re-announced" is logged at the moment of the update).

import fs from 'node:fs';
import { createLab, netnsSupport } from '../test/helpers/netns.js';
import { PhoneBrowser, startInLab } from '../test/e2e/mdns-lab.js';
import { median, type BenchRow } from './types.js';
import { installPackage } from './installed.js';

const RUNS = 5;
const TXT_CHANGES_PER_RUN = 2;

function logTime(output: string, pattern: RegExp, after = 0): number | null {
  for (const line of output.split('\n')) {
    if (!pattern.test(line)) continue;
    const t = Date.parse(line.slice(0, 24));
    if (Number.isFinite(t) && t >= after) return t;
  }
  return null;
}

export async function bench(): Promise<BenchRow[]> {
  const support = netnsSupport();
  if (!support.ok)
    return [{ name: 'mDNS interop bench skipped', value: NaN, unit: '', note: support.reason }];

  const installed = installPackage();
  const lab = await createLab({ hosts: ['mac', 'phone'] });
  const spawnToSeen: number[] = [];
  const coreToSeen: number[] = [];
  const txtSeen: number[] = [];
  const burstSeen: number[] = [];
  const quitSeen: number[] = [];
  try {
    const phone = PhoneBrowser.start(lab, 'phone');
    await phone.waitFor((e) => e.event === 'ready');
    for (let run = 0; run < RUNS; run++) {
      const name = `Bench ${run}`;
      let mark = phone.events.length;
      const spawnedAt = Date.now();
      const mac = await startInLab(
        lab,
        'mac',
        { displayName: name, role: 'primary', services: {} },
        { UNAMENTIS_LOG_LEVEL: 'debug' },
        { command: installed.bin },
      );
      try {
        const added = await phone.waitFor(
          (e) => e.event === 'add' && e.instance === name,
          10_000,
          mark,
        );
        spawnToSeen.push(added.t - spawnedAt);
        const listening = logTime(mac.output(), /\[core\] control API listening/);
        if (listening !== null) coreToSeen.push(added.t - listening);

        // TXT changes once the announcement has settled (as in use: state changes minutes later).
        // ciao announces at 0, 1 s and 3 s; a change within ~1.15 s of any TXT we sent waits for that
        // much (RFC 6762 §10.2 pacing, advertiser-pacing.ts), so isolated changes come well after.
        await new Promise((r) => setTimeout(r, 5_000));
        for (let i = 0; i < TXT_CHANGES_PER_RUN; i++) {
          // A new value each time: python3-zeroconf does not report a TXT that returns to a value still
          // in its cache (it purges flushed records lazily), which would look like a lost update.
          const prio = 150 + i;
          mark = phone.events.length;
          const before = Date.now();
          const put = await lab.fetch('mac', `http://127.0.0.1:${mac.port}/api/settings`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${mac.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ prio }),
          });
          if (put.status !== 200) throw new Error(`PUT /api/settings: ${put.status}`);
          const seen = await phone.waitFor(
            (e) => e.event === 'update' && e.instance === name && e.txt?.prio === String(prio),
            5_000,
            mark,
          );
          const announced = logTime(mac.output(), /TXT re-announced/, before);
          txtSeen.push(seen.t - (announced ?? before));
          await new Promise((r) => setTimeout(r, 2_500)); // past the change's second announcement
        }

        // A burst: 5 changes back and forth as fast as the API takes them, ending on a new value.
        const final = 160 + run;
        mark = phone.events.length;
        for (const prio of [170, 171, 170, 171, final]) {
          const put = await lab.fetch('mac', `http://127.0.0.1:${mac.port}/api/settings`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${mac.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ prio }),
          });
          if (put.status !== 200) throw new Error(`PUT /api/settings: ${put.status}`);
        }
        const lastPut = Date.now();
        const settled = await phone.waitFor(
          (e) => e.event === 'update' && e.instance === name && e.txt?.prio === String(final),
          5_000,
          mark,
        );
        burstSeen.push(settled.t - lastPut);
        await new Promise((r) => setTimeout(r, 1_500));

        mark = phone.events.length;
        const quitAt = Date.now();
        await mac.stop();
        const removed = await phone.waitFor(
          (e) => e.event === 'remove' && e.instance === name,
          5_000,
          mark,
        );
        quitSeen.push(removed.t - quitAt);
      } finally {
        await mac.stop(3_000);
        fs.rmSync(mac.dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    await lab.teardown();
    installed.remove();
  }

  const row = (name: string, xs: number[], goalMs: number | null, note: string): BenchRow => ({
    name: `${name} (median of ${xs.length})`,
    value: xs.length ? median(xs) : NaN,
    unit: 'ms',
    ...(goalMs !== null
      ? { goal: `≤ ${goalMs} ms`, pass: xs.length > 0 && median(xs) <= goalMs }
      : {}),
    note: `${note}; min ${Math.min(...xs)}, max ${Math.max(...xs)}`,
  });
  return [
    row(
      'installed unamentis-server: process start → resolved by python3-zeroconf',
      spawnToSeen,
      1_500,
      'spawned through `ip netns exec`; Node boot, settings, probing 3×250 ms, announce',
    ),
    row(
      'of which: "control API listening" log line → resolved',
      coreToSeen,
      null,
      'probing and the first announcement',
    ),
    row(
      'TXT change → seen by python3-zeroconf',
      txtSeen,
      1_000,
      'from the server updating the record (settled announcement, no TXT sent in the last 2 s)',
    ),
    row(
      'burst of 5 TXT changes → final value seen',
      burstSeen,
      2_000,
      'from the last change (one PUT per change, ~0.1–0.3 s each); intermediate values are coalesced',
    ),
    row(
      'quit (SIGTERM) → removal seen by python3-zeroconf',
      quitSeen,
      1_000,
      'goodbye (TTL 0) records',
    ),
  ];
}
