// The failover election, without timers or sockets: a small deterministic simulator delivers
// heartbeats between election instances on a simulated clock, with crashes, quits and cut links.

import { describe, expect, it } from 'vitest';
import {
  advertOf,
  compareRank,
  electionConfig,
  initialElection,
  isFit,
  nextDeadline,
  step,
  type Election,
  type ElectionConfig,
  type ElectionEffect,
  type ElectionEvent,
  type SelfStatus,
} from '../../main/core/pairing/election.js';

const cfg: ElectionConfig = electionConfig({
  heartbeatIntervalMs: 1000,
  failbackHoldDownSeconds: 10,
  sessionIdleSeconds: 60,
});
const TICK = 50;

const status = (prio: number, over: Partial<SelfStatus> = {}): SelfStatus => ({
  prio,
  ready: true,
  failed: false,
  state: 'active',
  activityAt: null,
  ...over,
});

interface SimHost {
  id: string;
  e: Election;
  up: boolean;
  lastSent: number;
  /** serve effects, with time */
  log: { t: number; serving: boolean; kind: string; reason: string }[];
}

class Sim {
  t = 0;
  readonly hosts = new Map<string, SimHost>();
  readonly cut = new Set<string>();
  /** Max number of hosts serving at once, seen at any instant after `watchFrom`. */
  maxServing = 0;
  watchFrom = Infinity;

  constructor(readonly cfg: ElectionConfig = cfgDefault()) {}

  add(id: string, prio: number, peers: string[], over: Partial<SelfStatus> = {}): SimHost {
    const e = initialElection(id, status(prio, over), peers, this.t, this.cfg);
    const h: SimHost = { id, e, up: true, lastSent: -Infinity, log: [] };
    if (e.serving) h.log.push({ t: this.t, serving: true, kind: 'initial', reason: e.reason });
    this.hosts.set(id, h);
    this.send(h);
    return h;
  }

  host(id: string): SimHost {
    return this.hosts.get(id)!;
  }

  linked(a: string, b: string): boolean {
    return !this.cut.has([a, b].sort().join('|'));
  }

  setLink(a: string, b: string, up: boolean): void {
    const k = [a, b].sort().join('|');
    if (up) this.cut.delete(k);
    else this.cut.add(k);
  }

  apply(h: SimHost, ev: ElectionEvent): void {
    const [next, fx] = step(h.e, ev, this.cfg);
    h.e = next;
    this.effects(h, fx);
  }

  effects(h: SimHost, fx: ElectionEffect[]): void {
    for (const f of fx) {
      if (f.type === 'serve')
        h.log.push({ t: this.t, serving: f.serving, kind: f.kind, reason: f.reason });
    }
    this.observe();
    if (fx.some((f) => f.type === 'announce')) this.send(h);
  }

  send(from: SimHost): void {
    if (!from.up) return;
    from.lastSent = this.t;
    const advert = advertOf(from.e, this.t);
    for (const to of this.hosts.values()) {
      if (to === from || !to.up || !this.linked(from.id, to.id) || !(from.id in to.e.peers))
        continue;
      this.apply(to, { type: 'heartbeat', now: this.t, from: from.id, advert });
    }
  }

  observe(): void {
    if (this.t < this.watchFrom) return;
    const n = [...this.hosts.values()].filter((h) => h.up && h.e.serving).length;
    this.maxServing = Math.max(this.maxServing, n);
  }

  run(ms: number, each?: (t: number) => void): void {
    const end = this.t + ms;
    while (this.t < end) {
      this.t += TICK;
      each?.(this.t);
      for (const h of this.hosts.values()) {
        if (!h.up) continue;
        if (this.t - h.lastSent >= this.cfg.intervalMs) this.send(h);
        this.apply(h, { type: 'tick', now: this.t });
      }
    }
  }

  crash(id: string): void {
    this.host(id).up = false;
  }

  restart(id: string, prio: number, peers: string[], over: Partial<SelfStatus> = {}): SimHost {
    return this.add(id, prio, peers, over);
  }

  serving(): string[] {
    return [...this.hosts.values()]
      .filter((h) => h.up && h.e.serving)
      .map((h) => h.id)
      .sort();
  }

  /** When `id` last started serving. */
  servedAt(id: string): number | null {
    const l = this.host(id).log.filter((x) => x.serving);
    return l.length ? l[l.length - 1]!.t : null;
  }
}

function cfgDefault(): ElectionConfig {
  return cfg;
}

const MAC = 'a-mac';
const PC = 'b-pc';

function pair(sim: Sim, opts: { macFirst?: boolean } = {}): void {
  if (opts.macFirst ?? true) {
    sim.add(MAC, 200, [PC]);
    sim.add(PC, 100, [MAC]);
  } else {
    sim.add(PC, 100, [MAC]);
    sim.add(MAC, 200, [PC]);
  }
}

describe('election: basics', () => {
  it('an unpaired host serves itself, and stops when the user says so', () => {
    let e = initialElection(MAC, status(200), [], 0, cfg);
    expect(e.serving).toBe(true);
    expect(e.reason).toMatch(/not paired/);
    let fx: ElectionEffect[];
    [e, fx] = step(e, { type: 'standby', now: 10, on: true }, cfg);
    expect(e.serving).toBe(false);
    expect(fx).toContainEqual(
      expect.objectContaining({ type: 'serve', serving: false, kind: 'standby' }),
    );
    expect(advertOf(e, 10).eligible).toBe(false);
    [e, fx] = step(e, { type: 'standby', now: 20, on: false }, cfg);
    expect(e.serving).toBe(true);
    expect(fx).toContainEqual(expect.objectContaining({ type: 'serve', serving: true }));
  });

  it('a paired host listens first: it does not serve before it has heard its peers or 3 intervals passed', () => {
    let e = initialElection(MAC, status(200), [PC], 0, cfg);
    expect(e.serving).toBe(false);
    expect(e.reason).toMatch(/listening/);
    [e] = step(e, { type: 'tick', now: cfg.deadAfterMs - 1 }, cfg);
    expect(e.serving).toBe(false);
    const [after, fx] = step(e, { type: 'tick', now: cfg.deadAfterMs }, cfg);
    expect(after.serving).toBe(true);
    expect(fx).toContainEqual(
      expect.objectContaining({ type: 'serve', serving: true, kind: 'promotion' }),
    );
  });

  it('hearing every peer ends the listening early', () => {
    let e = initialElection(MAC, status(200), [PC], 0, cfg);
    const pcAdvert = { ...advertOf(initialElection(PC, status(100), [MAC], 0, cfg), 0) };
    [e] = step(e, { type: 'heartbeat', now: 100, from: PC, advert: pcAdvert }, cfg);
    expect(e.serving).toBe(true);
  });

  it('heartbeats from hosts that are not paired peers are ignored', () => {
    const e = initialElection(MAC, status(200), [PC], 0, cfg);
    const [after] = step(
      e,
      { type: 'heartbeat', now: 10, from: 'z-stranger', advert: advertOf(e, 0) },
      cfg,
    );
    expect(after.peers).not.toHaveProperty('z-stranger');
  });

  it('rank: fit first, then prio, then the lower id', () => {
    const a = { id: 'a', prio: 100, fit: true };
    const b = { id: 'b', prio: 200, fit: false };
    const c = { id: 'c', prio: 200, fit: true };
    const d = { id: 'd', prio: 200, fit: true };
    expect([b, a, d, c].sort(compareRank).map((x) => x.id)).toEqual(['c', 'd', 'a', 'b']);
  });

  it('fitness: failed never; ready yes; hibernating (cool/cold/dormant) counts, since a wake restores it', () => {
    expect(isFit({ failed: false, ready: true, state: 'active' })).toBe(true);
    expect(isFit({ failed: false, ready: false, state: 'active' })).toBe(false);
    expect(isFit({ failed: false, ready: false, state: 'warm' })).toBe(false);
    for (const state of ['cool', 'cold', 'dormant'] as const)
      expect(isFit({ failed: false, ready: false, state })).toBe(true);
    expect(isFit({ failed: true, ready: true, state: 'active' })).toBe(false);
  });

  it('nextDeadline names the moment a silent peer times out', () => {
    let e = initialElection(MAC, status(200), [PC], 0, cfg);
    const pc = initialElection(PC, status(100), [MAC], 0, cfg);
    [e] = step(e, { type: 'heartbeat', now: 5000, from: PC, advert: advertOf(pc, 5000) }, cfg);
    expect(nextDeadline(e, 5000, cfg)).toBe(5000 + cfg.deadAfterMs);
  });

  it('removing the serving peer from the pair promotes at once', () => {
    const sim = new Sim();
    pair(sim);
    sim.run(5000);
    expect(sim.serving()).toEqual([MAC]);
    sim.apply(sim.host(PC), { type: 'peers', now: sim.t, ids: [] });
    expect(sim.host(PC).e.serving).toBe(true);
    expect(sim.host(PC).e.reason).toMatch(/not paired/);
  });
});

describe('election: a Mac primary and a PC fallback', () => {
  it('both start together: the Mac serves, the PC does not, and only one ever serves', () => {
    const sim = new Sim();
    sim.watchFrom = 0;
    pair(sim);
    sim.run(60_000);
    expect(sim.serving()).toEqual([MAC]);
    expect(sim.maxServing).toBe(1);
    expect(sim.host(PC).log).toEqual([]);
  });

  it('crash of the Mac: the PC promotes within 3 intervals of the last heartbeat', () => {
    const sim = new Sim();
    pair(sim);
    sim.run(20_000);
    const lastHeard = sim.host(MAC).lastSent;
    sim.crash(MAC);
    const crashAt = sim.t;
    sim.run(10_000);
    expect(sim.serving()).toEqual([PC]);
    const at = sim.servedAt(PC)!;
    expect(at - lastHeard).toBeLessThanOrEqual(cfg.deadAfterMs + TICK);
    expect(at - crashAt).toBeLessThanOrEqual(cfg.deadAfterMs + TICK);
    expect(at - lastHeard).toBeGreaterThanOrEqual(cfg.deadAfterMs);
    expect(sim.host(PC).log.at(-1)!.kind).toBe('promotion');
  });

  it('graceful quit: the handoff is immediate, not after the timeout', () => {
    const sim = new Sim();
    sim.watchFrom = 0;
    pair(sim);
    sim.run(20_000);
    const t = sim.t;
    sim.apply(sim.host(MAC), { type: 'leave', now: t, reason: 'quit' });
    expect(sim.host(MAC).e.serving).toBe(false);
    expect(sim.host(MAC).log.at(-1)).toMatchObject({ serving: false, kind: 'handoff' });
    expect(sim.host(PC).e.serving).toBe(true);
    expect(sim.servedAt(PC)).toBe(t);
    sim.crash(MAC);
    sim.run(10_000);
    expect(sim.serving()).toEqual([PC]);
    expect(sim.maxServing).toBe(1);
  });

  it('"stop serving" on the Mac hands off at once; resuming fails back after the hold-down', () => {
    const sim = new Sim();
    sim.watchFrom = 0;
    pair(sim);
    sim.run(20_000);
    sim.apply(sim.host(MAC), { type: 'standby', now: sim.t, on: true });
    expect(sim.serving()).toEqual([PC]);
    sim.run(5000);
    const resumed = sim.t;
    sim.apply(sim.host(MAC), { type: 'standby', now: sim.t, on: false });
    expect(sim.serving()).toEqual([PC]);
    sim.run(cfg.holdDownMs - 500);
    expect(sim.serving()).toEqual([PC]);
    sim.run(3000);
    expect(sim.serving()).toEqual([MAC]);
    expect(sim.servedAt(MAC)! - resumed).toBeGreaterThanOrEqual(cfg.holdDownMs);
    expect(sim.maxServing).toBe(1);
  });

  it('the Mac comes back: failback only after the hold-down, break before make', () => {
    const sim = new Sim();
    pair(sim);
    sim.run(10_000);
    sim.crash(MAC);
    sim.run(10_000);
    expect(sim.serving()).toEqual([PC]);
    sim.watchFrom = sim.t;
    const back = sim.t;
    sim.restart(MAC, 200, [PC]);
    sim.run(cfg.holdDownMs - TICK);
    expect(sim.serving()).toEqual([PC]);
    expect(sim.host(MAC).e.reason).toMatch(/stability/);
    sim.run(2000);
    expect(sim.serving()).toEqual([MAC]);
    expect(sim.servedAt(MAC)! - back).toBeGreaterThanOrEqual(cfg.holdDownMs);
    expect(sim.servedAt(MAC)! - back).toBeLessThanOrEqual(cfg.holdDownMs + cfg.intervalMs + TICK);
    expect(sim.host(PC).log.at(-1)).toMatchObject({ serving: false, kind: 'failback' });
    expect(sim.host(MAC).log.at(-1)).toMatchObject({ serving: true, kind: 'failback' });
    expect(sim.maxServing).toBe(1);
  });

  it('failback waits while the PC has a session, and happens once the PC has been idle for sessionIdle', () => {
    const sim = new Sim();
    pair(sim);
    sim.run(10_000);
    sim.crash(MAC);
    sim.run(5000);
    const sessionEnd = sim.t + 120_000;
    const pc = sim.host(PC);
    const activity = (t: number) => {
      // The phone posts activity every 20 s while the lesson runs.
      if (t <= sessionEnd && t % 20_000 === 0)
        sim.apply(pc, { type: 'self', now: t, status: { ...pc.e.self, activityAt: t } });
    };
    activity(sim.t - (sim.t % 20_000));
    sim.apply(pc, { type: 'self', now: sim.t, status: { ...pc.e.self, activityAt: sim.t } });
    sim.restart(MAC, 200, [PC]);
    sim.run(120_000, activity);
    expect(sim.serving()).toEqual([PC]);
    expect(sim.host(MAC).e.claim).toBe(true);
    expect(sim.host(MAC).e.reason).toMatch(/session/);
    expect(sim.host(MAC).log.filter((l) => l.serving)).toEqual([]);
    sim.run(cfg.sessionIdleMs + 2000, activity);
    expect(sim.serving()).toEqual([MAC]);
    const lastActivity = pc.e.self.activityAt!;
    expect(sim.servedAt(MAC)! - lastActivity).toBeGreaterThanOrEqual(cfg.sessionIdleMs);
  });

  it('a service that failed on the serving host hands over to a fit peer, and it comes back after the hold-down', () => {
    const sim = new Sim();
    pair(sim);
    sim.run(20_000);
    const mac = sim.host(MAC);
    sim.apply(mac, {
      type: 'self',
      now: sim.t,
      status: { ...mac.e.self, failed: true, ready: false },
    });
    sim.run(100);
    expect(sim.serving()).toEqual([PC]);
    sim.run(30_000);
    expect(sim.serving()).toEqual([PC]);
    sim.apply(mac, {
      type: 'self',
      now: sim.t,
      status: { ...mac.e.self, failed: false, ready: true },
    });
    sim.run(cfg.holdDownMs + 2000);
    expect(sim.serving()).toEqual([MAC]);
  });

  it('equal prio: the lower id serves, deterministically', () => {
    const sim = new Sim();
    sim.add('b-two', 100, ['a-one']);
    sim.add('a-one', 100, ['b-two']);
    sim.run(30_000);
    expect(sim.serving()).toEqual(['a-one']);
  });

  it('hibernation on the non-serving PC does not make it take over, nor does the Mac going dormant', () => {
    const sim = new Sim();
    pair(sim);
    sim.run(10_000);
    const mac = sim.host(MAC);
    const pc = sim.host(PC);
    sim.apply(pc, {
      type: 'self',
      now: sim.t,
      status: { ...pc.e.self, ready: false, state: 'dormant' },
    });
    sim.apply(mac, {
      type: 'self',
      now: sim.t,
      status: { ...mac.e.self, ready: false, state: 'dormant' },
    });
    sim.run(30_000);
    expect(sim.serving()).toEqual([MAC]);
    // A wake on the Mac (services starting: active, not ready) does not hand the pair over either.
    sim.apply(mac, {
      type: 'self',
      now: sim.t,
      status: { ...mac.e.self, ready: false, state: 'active' },
    });
    sim.run(30_000);
    expect(sim.serving()).toEqual([MAC]);
  });
});

describe('election: split brain', () => {
  it('each side serves what it sees; when healed the Mac wins once, without flapping', () => {
    const sim = new Sim();
    pair(sim);
    sim.run(10_000);
    sim.setLink(MAC, PC, false);
    sim.run(10_000);
    expect(sim.serving()).toEqual([MAC, PC]);
    sim.setLink(MAC, PC, true);
    sim.run(30_000);
    expect(sim.serving()).toEqual([MAC]);
    // The Mac never stopped; the PC served once (during the partition) and yielded once.
    expect(sim.host(MAC).log.filter((l) => !l.serving)).toEqual([]);
    expect(sim.host(PC).log.map((l) => l.serving)).toEqual([true, false]);
  });

  it('healed while the PC side has a session: the PC keeps it, the Mac yields and fails back after the session', () => {
    const sim = new Sim();
    pair(sim);
    sim.run(10_000);
    sim.setLink(MAC, PC, false);
    sim.run(10_000);
    const pc = sim.host(PC);
    const sessionEnd = sim.t + 60_000;
    const activity = (t: number) => {
      if (t <= sessionEnd && t % 10_000 === 0)
        sim.apply(pc, { type: 'self', now: t, status: { ...pc.e.self, activityAt: t } });
    };
    sim.apply(pc, { type: 'self', now: sim.t, status: { ...pc.e.self, activityAt: sim.t } });
    sim.run(5000, activity);
    sim.setLink(MAC, PC, true);
    sim.run(5000, activity);
    expect(sim.serving()).toEqual([PC]);
    sim.run(200_000, activity);
    expect(sim.serving()).toEqual([MAC]);
    expect(sim.host(MAC).log.map((l) => l.serving)).toEqual([true, false, true]);
    expect(sim.host(PC).log.map((l) => l.serving)).toEqual([true, false]);
  });

  it('a link that drops for 1 s in every 30 s during a session on the PC causes no failback', () => {
    const sim = new Sim();
    pair(sim);
    sim.run(10_000);
    sim.crash(MAC);
    sim.run(5000);
    const pc = sim.host(PC);
    sim.apply(pc, { type: 'self', now: sim.t, status: { ...pc.e.self, activityAt: sim.t } });
    sim.restart(MAC, 200, [PC]);
    const start = sim.t;
    sim.run(10 * 60_000, (t) => {
      const phase = (t - start) % 30_000;
      sim.setLink(MAC, PC, !(phase >= 15_000 && phase < 16_000));
      if ((t - start) % 20_000 === 0)
        sim.apply(pc, { type: 'self', now: t, status: { ...pc.e.self, activityAt: t } });
    });
    expect(sim.host(MAC).log.filter((l) => l.serving)).toEqual([]);
    expect(sim.serving()).toEqual([PC]);
  });
});

describe('election: groups of more than two', () => {
  it('the Mac crashes: the better of two PCs promotes, the other stays put', () => {
    const sim = new Sim();
    sim.watchFrom = 0;
    sim.add(MAC, 200, [PC, 'c-pc2']);
    sim.add(PC, 100, [MAC, 'c-pc2']);
    sim.add('c-pc2', 150, [MAC, PC]);
    sim.run(20_000);
    expect(sim.serving()).toEqual([MAC]);
    sim.crash(MAC);
    sim.run(10_000);
    expect(sim.serving()).toEqual(['c-pc2']);
    expect(sim.host(PC).log).toEqual([]);
    expect(sim.maxServing).toBe(1);
  });

  it('random crashes, restarts, quits and partitions: once things settle, exactly one host serves, the best one', () => {
    for (let seed = 1; seed <= 25; seed++) {
      let x = seed * 7919;
      const rand = () => (x = (x * 48271) % 2147483647) / 2147483647;
      const ids = ['a-mac', 'b-pc', 'c-pc2'];
      const prio: Record<string, number> = { 'a-mac': 200, 'b-pc': 100, 'c-pc2': 150 };
      const sim = new Sim();
      for (const id of ids)
        sim.add(
          id,
          prio[id]!,
          ids.filter((o) => o !== id),
        );
      for (let round = 0; round < 30; round++) {
        const r = rand();
        const id = ids[Math.floor(rand() * ids.length)]!;
        const h = sim.host(id);
        if (r < 0.2 && h.up) sim.crash(id);
        else if (r < 0.4 && !h.up)
          sim.restart(
            id,
            prio[id]!,
            ids.filter((o) => o !== id),
          );
        else if (r < 0.5 && h.up) {
          sim.apply(h, { type: 'leave', now: sim.t, reason: 'quit' });
          sim.crash(id);
        } else if (r < 0.8) {
          const other = ids.find((o) => o !== id)!;
          sim.setLink(id, other, rand() < 0.5);
        } else if (h.up) {
          sim.apply(h, {
            type: 'self',
            now: sim.t,
            status: { ...h.e.self, activityAt: rand() < 0.5 ? sim.t : h.e.self.activityAt },
          });
        }
        sim.run(Math.floor(rand() * 8000));
      }
      // Heal everything, bring everyone back, and wait long enough for every timer involved.
      for (const a of ids) for (const b of ids) if (a !== b) sim.setLink(a, b, true);
      for (const id of ids)
        if (!sim.host(id).up)
          sim.restart(
            id,
            prio[id]!,
            ids.filter((o) => o !== id),
          );
      sim.run(cfg.deadAfterMs + cfg.holdDownMs + cfg.sessionIdleMs + 10_000);
      expect(sim.serving(), `seed ${seed}`).toEqual(['a-mac']);
      // …and it stays that way.
      sim.watchFrom = sim.t;
      sim.maxServing = 0;
      const before = ids.map((id) => sim.host(id).log.length);
      sim.run(30_000);
      expect(
        ids.map((id) => sim.host(id).log.length),
        `seed ${seed}`,
      ).toEqual(before);
      expect(sim.maxServing).toBe(1);
    }
  });
});
