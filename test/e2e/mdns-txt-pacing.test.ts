// TXT updates as the phone sees them (RFC 6762 §10.2): a burst of changes with flips back, then
// settled changes. In the phone's namespace: python3-zeroconf's ServiceBrowser (the test fixture that
// stands in for the iPhone) and a passive sniffer that shows every TXT record on the wire.
//
// Without pacing, the burst put several values on the wire within a second; the browser kept them
// all cached and, as the newest "change" was only a refresh of a cached value, ended on the wrong one.
//
// The settled changes go to values the phone has not seen: python3-zeroconf 0.47 (Debian's) keeps a
// flushed record in its cache until its 10-second cleanup, so a change back to a value it saw in the
// last ~10 s is a refresh to it, however well paced (measured; mDNSResponder expires it after 1 s).

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, netnsSupport, type Lab } from '../helpers/netns.js';
import { repoRoot, type Headless } from '../helpers/headless.js';
import { PhoneBrowser, PY, startInLab } from './mdns-lab.js';

const support = netnsSupport();
if (!support.ok) console.warn(`[mdns-txt-pacing] skipped: ${support.reason}`);

const SNIFFER = path.join(repoRoot, 'test/fixtures/mdns_txt_sniffer.py');
const NAME = 'Pacing Mac';
const NO_SERVICES = {
  ollama: { enabled: false },
  vibevoice: { enabled: false },
  piper: { enabled: false },
  whisper: { enabled: false },
};

interface Sniffed {
  event: 'ready' | 'txt';
  t: number;
  src?: string;
  instance?: string;
  ttl?: number;
  section?: 'answer' | 'authority' | 'additional';
  txt?: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const key = (txt: Record<string, string | null> | undefined) =>
  `prio=${txt?.prio} serving=${txt?.serving}`;

describe.skipIf(!support.ok)(
  'TXT update pacing, seen by python3-zeroconf in network namespaces',
  () => {
    let lab: Lab;
    let phone: PhoneBrowser;
    let sniffer: PhoneBrowser;
    let mac: Headless & { address: string };

    beforeAll(async () => {
      const probe = spawnSync(PY, ['-c', 'import zeroconf'], { encoding: 'utf8' });
      if (probe.status !== 0)
        throw new Error(
          `python3-zeroconf is missing: apt-get install -y python3-zeroconf (${probe.stderr.trim()})`,
        );
      lab = await createLab({ hosts: ['mac', 'phone'] });
      sniffer = new PhoneBrowser(
        lab.spawn('phone', [PY, SNIFFER, '--interface', lab.host('phone').address]),
      );
      phone = PhoneBrowser.start(lab, 'phone');
      await Promise.all([
        phone.waitFor((e) => e.event === 'ready'),
        sniffer.waitFor((e) => e.event === 'ready'),
      ]);
    });

    afterAll(async () => {
      await mac?.stop(3_000).catch(() => {});
      await lab?.teardown();
      if (mac) fs.rmSync(mac.dataDir, { recursive: true, force: true });
    });

    const api = async (method: string, p: string, body?: unknown) => {
      const r = await lab.fetch('mac', `http://127.0.0.1:${mac.port}${p}`, {
        method,
        headers: {
          authorization: `Bearer ${mac.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      expect(r.status, `${method} ${p}: ${JSON.stringify(r.body)}`).toBe(200);
    };
    const setPrio = (prio: number) => api('PUT', '/api/settings', { prio });

    it('a burst reaches the phone as its final value; settled changes each arrive as an update; never two values on the wire within a second', async () => {
      mac = await startInLab(lab, 'mac', {
        displayName: NAME,
        role: 'primary',
        services: NO_SERVICES,
        models: { preload: [] },
        hibernation: { enabled: false }, // `state` stays `active` through the test
      });
      const added = await phone.waitFor((e) => e.event === 'add' && e.instance === NAME);
      expect(added.txt).toMatchObject({ prio: '200', serving: '1' });
      await sleep(4_000); // ciao's three announcements (0, 1 s, 3 s) are over: changes are updates now

      // 1. A burst: 5 changes back and forth, one per settings PUT (0.1–0.3 s each); it ends on prio 150.
      const burstAt = Date.now();
      for (const prio of [150, 151, 150, 151, 150]) await setPrio(prio);
      const burstMs = Date.now() - burstAt;
      await sleep(2_500);
      const view = () =>
        phone.events
          .filter((e) => (e.event === 'add' || e.event === 'update') && e.instance === NAME)
          .at(-1)?.txt;
      expect(key(view()), `phone events: ${JSON.stringify(phone.events.slice(-6))}`).toBe(
        'prio=150 serving=1',
      );

      // 2. Settled changes, 2.5 s apart, each to a value the phone has not seen: one update each.
      const settled: { label: string; act: () => Promise<void>; want: string }[] = [
        {
          label: 'stop serving',
          act: () => api('POST', '/api/serving/stop'),
          want: 'prio=150 serving=0',
        },
        { label: 'prio 160', act: () => setPrio(160), want: 'prio=160 serving=0' },
        {
          label: 'resume serving',
          act: () => api('POST', '/api/serving/resume'),
          want: 'prio=160 serving=1',
        },
      ];
      const latencies: string[] = [];
      for (const step of settled) {
        const mark = phone.events.length;
        const t0 = Date.now();
        await step.act();
        const seen = await phone.waitFor(
          (e) => e.event === 'update' && e.instance === NAME && key(e.txt) === step.want,
          3_000,
          mark,
        );
        latencies.push(`${step.label}: ${seen.t - t0} ms`);
        await sleep(2_500);
      }
      console.log(
        `[mdns-txt-pacing] burst of 5 changes in ${burstMs} ms; settled change → python3-zeroconf update: ${latencies.join(', ')}`,
      );

      // The phone's final view is the server's final record (the wire's last announcement or update).
      const wire = (sniffer.events as unknown as Sniffed[]).filter(
        (e) => e.event === 'txt' && e.instance === NAME && e.src === mac.address,
      );
      const sent = wire.filter((e) => e.section === 'answer' && e.t >= burstAt);
      expect(key(view())).toBe('prio=160 serving=1');
      expect(view()).toEqual({ ...added.txt, prio: '160', serving: '1' });
      expect(sent.at(-1)!.txt).toEqual(view());

      // On the wire: the burst's intermediate value never went out, and no two different records
      // went out less than a second apart (the server keeps 1.15 s; ~100 ms allowed for the
      // phone's own receive timing). Each change was announced twice (RFC 6762 §8.4).
      const trace = sent.map((e) => `${e.t - burstAt}ms ${key(e.txt)}`).join('\n');
      expect(
        sent.some((e) => e.txt!.prio === '151'),
        trace,
      ).toBe(false);
      const gaps = sent
        .slice(1)
        .flatMap((e, i) => (key(e.txt) !== key(sent[i]!.txt) ? [e.t - sent[i]!.t] : []));
      for (const gap of gaps) expect(gap, trace).toBeGreaterThanOrEqual(1_000 - 100);
      const distinct = sent
        .filter((e, i) => i === 0 || key(e.txt) !== key(sent[i - 1]!.txt))
        .map((e) => key(e.txt));
      expect(distinct, trace).toEqual([
        'prio=150 serving=1',
        'prio=150 serving=0',
        'prio=160 serving=0',
        'prio=160 serving=1',
      ]);
      for (const k of distinct)
        expect(sent.filter((e) => key(e.txt) === k).length, trace).toBeGreaterThanOrEqual(2);

      // Records riding in answers to queries (ciao builds those from the record of the moment).
      const riding = wire.filter((e) => e.section !== 'answer' && e.t >= burstAt);
      console.log(
        `[mdns-txt-pacing] on the wire since the burst: ${sent.length} announcements/updates (closest two different records ${Math.min(...gaps)} ms apart), ${riding.length} records in answers to queries`,
      );
    });
  },
);
