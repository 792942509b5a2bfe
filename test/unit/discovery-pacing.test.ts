// TXT pacing (advertiser-pacing.ts): the decision alone, then the pacer against a simulated ciao 1.3.12
// (probing, 3 announcements 1 s then 2 s apart built from the record it has, then one update packet
// 50 ms after updateTxt) on a manual clock, checking what reaches the wire.

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/manual-clock.js';
import {
  paceTxt,
  TXT_COLLECT_MS,
  TXT_GAP_MS,
  TxtPacer,
  type CiaoPhase,
  type PacedTarget,
} from '../../main/core/discovery/advertiser-pacing.js';
import type { TxtRecord } from '../../main/core/discovery/txt.js';

const GAP = TXT_GAP_MS;
const COLLECT = TXT_COLLECT_MS;
const CIAO_DEBOUNCE_MS = 50;
const SEND_MS = 5; // an announcement's send, before ciao resolves it

/** ciao 1.3.12 as far as TXT records go, with the packets it would put on the wire. */
class FakeCiao implements PacedTarget {
  wire: { t: number; serving: string; via: 'announcement' | 'update' }[] = [];
  record: TxtRecord;
  state: 'probing' | 'announcing' | 'announced' = 'probing';
  builtLast = false;
  /** updateTxt calls while the last announcement was built: ciao would send 50 ms after it. */
  callsWhileClosing = 0;
  #waiters: (() => void)[] = [];
  #updateTimer = false;
  constructor(
    private readonly clock: ManualClock,
    initial: TxtRecord,
  ) {
    this.record = initial;
  }
  /** Probing is over: announcements at +0, +1 s, +3 s (each built from the record at that moment). */
  startAnnouncing(): void {
    this.state = 'announcing';
    this.builtLast = false;
    this.#slot(0);
  }
  #slot(i: number): void {
    if (i === 2) this.builtLast = true;
    this.#put('announcement');
    if (i < 2) this.clock.setTimeout(() => this.#slot(i + 1), i === 0 ? 1000 : 2000);
    else
      this.clock.setTimeout(() => {
        this.state = 'announced';
        for (const w of this.#waiters.splice(0)) void Promise.resolve().then(w);
      }, SEND_MS);
  }
  #put(via: 'announcement' | 'update'): void {
    this.wire.push({ t: this.clock.now(), serving: this.record.serving!, via });
  }
  phase(): CiaoPhase {
    if (this.state === 'announced') return 'announced';
    if (this.state === 'probing') return 'holding';
    return this.builtLast ? 'closing' : 'announcing';
  }
  updateTxt(txt: TxtRecord): void {
    this.record = txt;
    if (this.state === 'announcing' && this.builtLast) this.callsWhileClosing++;
    if (this.state === 'announced' && !this.#updateTimer) {
      this.#updateTimer = true;
      this.clock.setTimeout(() => {
        this.#updateTimer = false;
        this.#put('update');
      }, CIAO_DEBOUNCE_MS);
    }
  }
  afterAnnouncements(done: () => void): void {
    if (this.state === 'announced') void Promise.resolve().then(done);
    else this.#waiters.push(done);
  }
}

const txt = (serving: string): TxtRecord => ({
  v: '1',
  id: 'a',
  role: 'primary',
  prio: '200',
  serving,
  state: 'active',
});

/** A pacer on a fake ciao that has finished announcing `initial` (at t0), `settleMs` ago. */
async function announcedRig(initial = '1', settleMs = 5_000) {
  const clock = new ManualClock();
  const ciao = new FakeCiao(clock, txt(initial));
  const pacer = new TxtPacer(txt(initial), ciao, clock);
  const t0 = clock.now();
  ciao.startAnnouncing();
  pacer.announced();
  await clock.advance(settleMs);
  return { clock, ciao, pacer, t0 };
}

/** What the network got after `from`: [ms after `from`, serving]. */
const wireAfter = (ciao: FakeCiao, from: number) =>
  ciao.wire.filter((w) => w.t >= from).map((w) => [w.t - from, w.serving] as const);

/** Two different values on the wire less than a second apart: what RFC 6762 §10.2 cannot flush. */
function tooClose(ciao: FakeCiao): string[] {
  const bad: string[] = [];
  for (let i = 1; i < ciao.wire.length; i++) {
    const [a, b] = [ciao.wire[i - 1]!, ciao.wire[i]!];
    if (a.serving !== b.serving && b.t - a.t < 1_000)
      bad.push(`${a.serving}@${a.t} then ${b.serving}@${b.t}`);
  }
  return bad;
}

describe('paceTxt (the decision)', () => {
  const base = { now: 10_000, changedAt: null, lastSentAt: null, repeatOwed: false } as const;

  it('after a quiet spell, sends a change once the collect window is over', () => {
    expect(paceTxt({ ...base, phase: 'announced', changedAt: 10_000, lastSentAt: 2_000 })).toEqual({
      do: 'send',
      at: 10_000 + COLLECT,
    });
    expect(
      paceTxt({ ...base, now: 10_030, phase: 'announced', changedAt: 10_000, lastSentAt: 2_000 }),
    ).toEqual({ do: 'send', at: 10_030 });
  });

  it('holds a change until a gap after the last send, and repeats a change one gap later', () => {
    expect(paceTxt({ ...base, phase: 'announced', changedAt: 10_000, lastSentAt: 9_700 })).toEqual({
      do: 'send',
      at: 9_700 + GAP,
    });
    expect(paceTxt({ ...base, phase: 'announced', lastSentAt: 9_700, repeatOwed: true })).toEqual({
      do: 'send',
      at: 9_700 + GAP,
    });
    // A newer change takes the repeat's slot.
    expect(
      paceTxt({
        ...base,
        phase: 'announced',
        changedAt: 10_000,
        lastSentAt: 9_700,
        repeatOwed: true,
      }),
    ).toEqual({ do: 'send', at: 9_700 + GAP });
    expect(paceTxt({ ...base, phase: 'announced', lastSentAt: 9_700 })).toEqual({ do: 'nothing' });
  });

  it('hands a change to ciao while it probes or announces, and waits while the last announcement goes', () => {
    expect(paceTxt({ ...base, phase: 'holding', changedAt: 10_000 })).toEqual({ do: 'hand-over' });
    expect(paceTxt({ ...base, phase: 'announcing', changedAt: 10_000, lastSentAt: 9_900 })).toEqual(
      { do: 'hand-over' },
    );
    expect(paceTxt({ ...base, phase: 'announcing', lastSentAt: 9_900, repeatOwed: true })).toEqual({
      do: 'nothing',
    });
    expect(paceTxt({ ...base, phase: 'closing', changedAt: 10_000 })).toEqual({
      do: 'wait-announcements',
    });
    expect(paceTxt({ ...base, phase: 'closing', repeatOwed: true })).toEqual({
      do: 'wait-announcements',
    });
    expect(paceTxt({ ...base, phase: 'closing' })).toEqual({ do: 'nothing' });
  });
});

describe('TxtPacer on a simulated ciao', () => {
  it("an isolated change goes out within collect + ciao's 50 ms, then once more a gap later", async () => {
    const { clock, ciao, pacer } = await announcedRig('1');
    const t = clock.now();
    pacer.want(txt('0'));
    await clock.advance(4_000);
    expect(wireAfter(ciao, t)).toEqual([
      [COLLECT + CIAO_DEBOUNCE_MS, '0'],
      [COLLECT + GAP + CIAO_DEBOUNCE_MS, '0'],
    ]);
    expect(pacer.counts).toEqual({ changes: 1, repeats: 1, skipped: 0 });
  });

  it('a burst goes out as its first and its last value, a gap apart; the repeat follows the newest value only', async () => {
    const { clock, ciao, pacer } = await announcedRig('1');
    const t = clock.now();
    for (const v of ['0', '1', '0', '1', '2']) {
      pacer.want(txt(v));
      await clock.advance(100);
    }
    await clock.advance(5_000);
    const sent = COLLECT + CIAO_DEBOUNCE_MS;
    expect(wireAfter(ciao, t)).toEqual([
      [sent, '0'],
      [COLLECT + GAP + CIAO_DEBOUNCE_MS, '2'],
      [COLLECT + 2 * GAP + CIAO_DEBOUNCE_MS, '2'],
    ]);
    expect(tooClose(ciao)).toEqual([]);
    expect(pacer.counts).toEqual({ changes: 2, repeats: 1, skipped: 2 }); // the two 1s never went out
  });

  it('a change undone within the gap sends nothing new (only the repeat of what the network has)', async () => {
    const { clock, ciao, pacer } = await announcedRig('1');
    const t = clock.now();
    pacer.want(txt('0'));
    await clock.advance(300);
    pacer.want(txt('1'));
    await clock.advance(200);
    pacer.want(txt('0'));
    await clock.advance(4_000);
    expect(wireAfter(ciao, t).map(([, v]) => v)).toEqual(['0', '0']);
    expect(tooClose(ciao)).toEqual([]);
  });

  it('during the announcements a change rides the next one; after the last one is built it waits for it, then a gap', async () => {
    const clock = new ManualClock();
    const ciao = new FakeCiao(clock, txt('1'));
    const pacer = new TxtPacer(txt('1'), ciao, clock);
    const t0 = clock.now();
    ciao.startAnnouncing();
    pacer.announced();
    await clock.advance(500);
    pacer.want(txt('0')); // rides the announcement at +1 s
    await clock.advance(3_000 - 500 + 2); // the last announcement (+3 s) is built, not yet sent
    expect(ciao.phase()).toBe('closing');
    pacer.want(txt('1'));
    await clock.advance(5_000);
    expect(wireAfter(ciao, t0)).toEqual([
      [0, '1'],
      [1_000, '0'],
      [3_000, '0'],
      [3_000 + SEND_MS + GAP + CIAO_DEBOUNCE_MS, '1'],
      [3_000 + SEND_MS + 2 * GAP + CIAO_DEBOUNCE_MS, '1'],
    ]);
    expect(ciao.callsWhileClosing).toBe(0);
  });

  it('a change made while probing goes out with the first announcement', async () => {
    const clock = new ManualClock();
    const ciao = new FakeCiao(clock, txt('1'));
    const pacer = new TxtPacer(txt('1'), ciao, clock);
    pacer.want(txt('0'));
    await clock.advance(700);
    const t0 = clock.now();
    ciao.startAnnouncing();
    pacer.announced();
    await clock.advance(6_000);
    expect(wireAfter(ciao, t0)).toEqual([
      [0, '0'],
      [1_000, '0'],
      [3_000, '0'],
    ]);
  });

  it('stop drops what is pending', async () => {
    const { clock, ciao, pacer } = await announcedRig('1');
    pacer.want(txt('0'));
    await clock.advance(200);
    pacer.want(txt('1'));
    pacer.want(txt('2'));
    pacer.stop();
    const n = ciao.wire.length;
    await clock.advance(5_000);
    expect(ciao.wire.length).toBe(n);
    expect(clock.timers).toEqual([]);
  });

  it('random change sequences: never two values under a second apart, never a superseded value after a newer one, always converges', async () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let run = 0; run < 200; run++) {
      const clock = new ManualClock();
      const ciao = new FakeCiao(clock, txt('0'));
      const pacer = new TxtPacer(txt('0'), ciao, clock);
      const wants: { t: number; v: string }[] = [{ t: clock.now(), v: '0' }];
      // Some changes while probing, the rest during and after the announcements.
      const probeMs = Math.floor(rand() * 800);
      const steps = 3 + Math.floor(rand() * 12);
      const announceAt = wants[0]!.t + probeMs;
      let announced = false;
      for (let i = 0; i < steps; i++) {
        const at =
          clock.now() + (rand() < 0.5 ? Math.floor(rand() * 400) : Math.floor(rand() * 3_000));
        if (!announced && at >= announceAt) {
          await clock.advance(announceAt - clock.now());
          announced = true;
          ciao.startAnnouncing();
          pacer.announced();
        }
        await clock.advance(at - clock.now());
        const v = String(Math.floor(rand() * 3));
        pacer.want(txt(v));
        wants.push({ t: clock.now(), v });
      }
      if (!announced) {
        ciao.startAnnouncing();
        pacer.announced();
      }
      const lastWant = wants.at(-1)!;
      await clock.advance(10_000);
      const where = `run ${run}: wants ${JSON.stringify(wants.map((w) => [w.t - wants[0]!.t, w.v]))} wire ${JSON.stringify(wireAfter(ciao, wants[0]!.t))}`;
      expect(tooClose(ciao), where).toEqual([]);
      expect(ciao.callsWhileClosing, where).toBe(0);
      // Converges: the last packet carries the last value wanted, in time.
      expect(ciao.wire.at(-1)!.serving, where).toBe(lastWant.v);
      const before = ciao.wire.filter((w) => w.t < lastWant.t).at(-1);
      if (before && before.serving !== lastWant.v) {
        const firstFinal = ciao.wire.find((w) => w.t >= lastWant.t && w.serving === lastWant.v);
        expect(firstFinal, where).toBeDefined();
        expect(firstFinal!.t - lastWant.t, where).toBeLessThanOrEqual(
          2_000 + SEND_MS + GAP + CIAO_DEBOUNCE_MS,
        );
      }
      // Every packet carries a value wanted at some point before it, and those points never go back in time.
      let lastIndex = 0;
      for (const w of ciao.wire) {
        let idx = -1;
        for (let i = wants.length - 1; i >= 0; i--) {
          if (wants[i]!.t <= w.t && wants[i]!.v === w.serving) {
            idx = i;
            break;
          }
        }
        expect(idx, where).toBeGreaterThanOrEqual(lastIndex);
        lastIndex = idx;
      }
    }
  });
});
