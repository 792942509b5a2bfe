// The pure idle machine, without timers: every threshold edge, clock jumps, in-flight work,
// hibernate now, keep awake, disabled hibernation, per-service policy, and a random walk that
// checks no action ever runs twice.

import { describe, expect, it } from 'vitest';
import {
  depth,
  formatDuration,
  initialIdle,
  levelFor,
  LEVELS,
  nextStep,
  step,
  type Effect,
  type Idle,
  type IdleConfig,
  type IdleEvent,
  type Level,
  type ServicePlan,
} from '../../main/core/hibernation/machine.js';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const after = { warm: 30 * S, cool: 5 * MIN, cold: 30 * MIN, dormant: 2 * H };
const T0 = Date.UTC(2026, 0, 1);

function plans(over: Partial<Record<string, Partial<ServicePlan>>> = {}): ServicePlan[] {
  const base: ServicePlan[] = [
    {
      id: 'ollama',
      stopAt: 'dormant',
      unloadAt: 'cold',
      models: true,
      canStop: true,
      reachable: true,
    },
    { id: 'piper', stopAt: 'cold', unloadAt: null, models: false, canStop: true, reachable: true },
    {
      id: 'vibevoice',
      stopAt: 'cool',
      unloadAt: null,
      models: false,
      canStop: true,
      reachable: true,
    },
  ];
  return base.map((p) => ({ ...p, ...over[p.id] }));
}

function config(over: Partial<IdleConfig> = {}): IdleConfig {
  return { enabled: true, preventSleep: true, after, services: plans(), ...over };
}

const io = (fx: Effect[]) =>
  fx.filter(
    (e) => e.type === 'start' || e.type === 'stop' || e.type === 'unload' || e.type === 'preload',
  );
const kinds = (fx: Effect[]) =>
  fx.map((e) =>
    'service' in e
      ? `${e.type} ${e.service}`
      : e.type === 'power'
        ? `power ${e.awake ? 'on' : 'off'}`
        : e.type,
  );

/** Started machine at T0 (the first tick acquires the power block). */
function started(cfg = config()): Idle {
  const [s, fx] = step(initialIdle(T0), { type: 'tick', now: T0 }, cfg);
  expect(kinds(fx)).toEqual(['power on']);
  return s;
}

/** Applies events in order; every IO batch settles at once unless `settle` is false. */
function run(s: Idle, events: IdleEvent[], cfg = config(), settle = true): [Idle, Effect[]] {
  const all: Effect[] = [];
  for (const e of events) {
    const [n, fx] = step(s, e, cfg);
    all.push(...fx);
    s = n;
    if (settle && n.busy !== null)
      s = step(s, { type: 'settled', now: e.now, batch: n.busy }, cfg)[0];
  }
  return [s, all];
}

const tick = (now: number): IdleEvent => ({ type: 'tick', now });

describe('levelFor: the CONTRACT §4 table, edges belong to the deeper state', () => {
  const cases: [number, Level][] = [
    [0, 'active'],
    [29_999, 'active'],
    [30_000, 'warm'],
    [5 * MIN - 1, 'warm'],
    [5 * MIN, 'cool'],
    [30 * MIN - 1, 'cool'],
    [30 * MIN, 'cold'],
    [2 * H - 1, 'cold'],
    [2 * H, 'dormant'],
    [30 * 24 * H, 'dormant'],
  ];
  it.each(cases)('idle %i ms → %s', (idle, level) => {
    expect(levelFor(idle, after)).toBe(level);
  });
});

describe('the staircase, one tick at a time', () => {
  it('goes active → warm → cool → cold → dormant at the exact thresholds, each action once', () => {
    let s = started();
    const expectations: [Level, string[]][] = [
      ['warm', ['transition']],
      ['cool', ['transition', 'power off', 'stop vibevoice']],
      ['cold', ['transition', 'unload ollama', 'stop piper']],
      ['dormant', ['transition', 'stop ollama']],
    ];
    let prev: Level = 'active';
    for (const [level, expected] of expectations) {
      const at = T0 + after[level as keyof typeof after];
      // One millisecond before: nothing happens.
      const [before, fxBefore] = run(s, [tick(at - 1)]);
      expect(before.state).toBe(prev);
      expect(fxBefore).toEqual([]);
      const [n, fx] = run(before, [tick(at)]);
      expect(n.state).toBe(level);
      expect(kinds(fx)).toEqual(expected);
      expect(fx[0]).toMatchObject({ type: 'transition', from: prev, to: level });
      expect((fx[0] as { reason: string }).reason).toMatch(new RegExp(`^idle .*\\(${level} after`));
      s = n;
      prev = level;
    }
    expect(s.stopped).toEqual(['ollama', 'piper', 'vibevoice']);
    expect(s.unloaded).toEqual([]); // stopping implies unloaded
    // Ticks long after: nothing more to do.
    expect(run(s, [tick(T0 + 10 * H), tick(T0 + 100 * H)])[1]).toEqual([]);
  });

  it('reports the next state and when it begins', () => {
    const s = started();
    expect(nextStep(s, config(), T0)).toEqual({ state: 'warm', at: T0 + after.warm });
    const [cool] = run(s, [tick(T0 + after.cool)]);
    expect(nextStep(cool, config(), T0 + after.cool)).toEqual({
      state: 'cold',
      at: T0 + after.cold,
    });
    const [dormant] = run(cool, [tick(T0 + after.dormant)]);
    expect(nextStep(dormant, config(), T0 + after.dormant)).toBeNull();
  });
});

describe('clock jumps', () => {
  it('a laptop that slept 3 h goes straight from active to dormant, each service stopped once, nothing unloaded', () => {
    const s = started();
    const [n, fx] = run(s, [tick(T0 + 3 * H)]);
    expect(n.state).toBe('dormant');
    expect(kinds(fx)).toEqual([
      'transition',
      'power off',
      'stop ollama',
      'stop piper',
      'stop vibevoice',
    ]);
    expect((fx[0] as { reason: string }).reason).toContain('skipped warm, cool, cold');
    expect(run(n, [tick(T0 + 3 * H + 1), tick(T0 + 4 * H)])[1]).toEqual([]);
  });

  it('from cool (VibeVoice already stopped) to dormant does not stop VibeVoice again', () => {
    const [cool] = run(started(), [tick(T0 + after.cool)]);
    const [n, fx] = run(cool, [tick(T0 + 5 * H)]);
    expect(n.state).toBe('dormant');
    expect(kinds(io(fx))).toEqual(['stop ollama', 'stop piper']);
  });

  it('from cold (models unloaded) to dormant stops Ollama without unloading again', () => {
    const [cold] = run(started(), [tick(T0 + after.cold)]);
    expect(cold.unloaded).toEqual(['ollama']);
    const [n, fx] = run(cold, [tick(T0 + after.dormant + 1)]);
    expect(kinds(io(fx))).toEqual(['stop ollama']);
    expect(n.unloaded).toEqual([]);
    expect(n.stopped).toEqual(['ollama', 'piper', 'vibevoice']);
  });

  it('a clock that went backwards restarts the idle clock instead of freezing it', () => {
    const [warm] = run(started(), [tick(T0 + after.warm)]);
    const back = T0 - 1 * H;
    const [n, fx] = run(warm, [tick(back)]);
    expect(n.lastActivity).toBe(back);
    expect(n.state).toBe('active');
    expect((fx[0] as { reason: string }).reason).toMatch(/below the warm threshold/);
    // …and it counts again from there.
    expect(run(n, [tick(back + after.cool)])[0].state).toBe('cool');
  });
});

describe('activity and wake restore exactly what hibernation removed', () => {
  it('activity in active only resets the idle clock', () => {
    const s = started();
    const [n, fx] = run(s, [{ type: 'activity', now: T0 + 20 * S, source: 'api' }]);
    expect(fx).toEqual([]);
    expect(n.lastActivity).toBe(T0 + 20 * S);
    expect(nextStep(n, config(), T0 + 20 * S)).toEqual({ state: 'warm', at: T0 + 50 * S });
  });

  it('activity in warm returns to active with no IO', () => {
    const [warm] = run(started(), [tick(T0 + after.warm)]);
    const [n, fx] = run(warm, [{ type: 'activity', now: T0 + 40 * S, source: 'api' }]);
    expect(n.state).toBe('active');
    expect(fx).toEqual([
      { type: 'transition', from: 'warm', to: 'active', reason: 'activity (api)' },
    ]);
  });

  it('activity in cool starts VibeVoice again and takes the power block back', () => {
    const [cool] = run(started(), [tick(T0 + after.cool)]);
    const [n, fx] = run(cool, [{ type: 'activity', now: T0 + 6 * MIN, source: 'ollama' }]);
    expect(kinds(fx)).toEqual(['transition', 'power on', 'start vibevoice']);
    expect(n.stopped).toEqual([]);
  });

  it('wake from cold starts the TTS services and preloads Ollama (models were unloaded)', () => {
    const [cold] = run(started(), [tick(T0 + after.cold)]);
    const [n, fx] = run(cold, [{ type: 'wake', now: T0 + 31 * MIN, source: 'api' }]);
    expect(kinds(fx)).toEqual([
      'transition',
      'power on',
      'start piper',
      'start vibevoice',
      'preload ollama',
    ]);
    expect(n.unloaded).toEqual([]);
    expect(n.state).toBe('active');
  });

  it('wake from dormant starts everything and preloads once', () => {
    const [dormant] = run(started(), [tick(T0 + 3 * H)]);
    const [n, fx] = run(dormant, [{ type: 'wake', now: T0 + 3 * H + 1, source: 'api' }]);
    expect(kinds(fx)).toEqual([
      'transition',
      'power on',
      'start ollama',
      'start piper',
      'start vibevoice',
      'preload ollama',
    ]);
    expect(n).toMatchObject({
      state: 'active',
      stopped: [],
      unloaded: [],
      lastActivity: T0 + 3 * H + 1,
    });
  });

  it('an explicit wake while active makes sure models are loaded; plain activity does not', () => {
    const s = started();
    expect(kinds(run(s, [{ type: 'wake', now: T0 + 5 * S, source: 'api' }])[1])).toEqual([
      'preload ollama',
    ]);
    expect(run(s, [{ type: 'activity', now: T0 + 5 * S, source: 'api' }])[1]).toEqual([]);
  });

  it('does not start services hibernation did not stop (stopped by the user, or not up)', () => {
    const cfg = config({ services: plans({ vibevoice: { canStop: false, reachable: false } }) });
    const [cool, fx] = run(started(cfg), [tick(T0 + after.cool)], cfg);
    expect(io(fx)).toEqual([]);
    expect(cool.stopped).toEqual([]);
    expect(io(run(cool, [{ type: 'wake', now: T0 + 6 * MIN, source: 'x' }], cfg)[1])).toEqual([
      { type: 'preload', service: 'ollama' },
    ]);
  });

  it('does not unload an Ollama that is not answering (nothing loaded to unload)', () => {
    const cfg = config({ services: plans({ ollama: { reachable: false, canStop: false } }) });
    const [cold, fx] = run(started(cfg), [tick(T0 + after.cold)], cfg);
    expect(kinds(io(fx))).toEqual(['stop piper', 'stop vibevoice']);
    expect(cold.unloaded).toEqual([]);
  });

  it('an external Ollama (not ours to stop) still has its models unloaded, even on a jump to dormant', () => {
    const cfg = config({ services: plans({ ollama: { canStop: false, reachable: true } }) });
    const [d, fx] = run(started(cfg), [tick(T0 + 3 * H)], cfg);
    expect(kinds(io(fx))).toEqual(['unload ollama', 'stop piper', 'stop vibevoice']);
    expect(d).toMatchObject({ stopped: ['piper', 'vibevoice'], unloaded: ['ollama'] });
    expect(kinds(io(run(d, [{ type: 'wake', now: T0 + 4 * H, source: 'x' }], cfg)[1]))).toEqual([
      'start piper',
      'start vibevoice',
      'preload ollama',
    ]);
  });

  it('forgets a service that left the settings instead of starting it on wake', () => {
    const [cool] = run(started(), [tick(T0 + after.cool)]);
    const cfg = config({ services: plans().filter((p) => p.id !== 'vibevoice') });
    const [n, fx] = run(cool, [{ type: 'activity', now: T0 + 6 * MIN, source: 'x' }], cfg);
    expect(io(fx)).toEqual([]);
    expect(n.stopped).toEqual([]);
  });
});

describe('work in flight', () => {
  it('a wake during the cold unload cancels it, then restores; the old batch settling later changes nothing', () => {
    const [warm] = run(started(), [tick(T0 + after.cool - 1)]);
    const [cool] = run(warm, [tick(T0 + after.cool)]);
    // The cold batch (unload ollama, stop piper) is in flight: not settled.
    const [cold, coldFx] = step(cool, tick(T0 + after.cold), config());
    expect(kinds(io(coldFx))).toEqual(['unload ollama', 'stop piper']);
    const inFlight = cold.busy!;
    expect(inFlight).not.toBeNull();

    const [woken, fx] = step(
      cold,
      { type: 'wake', now: T0 + after.cold + 200, source: 'api' },
      config(),
    );
    expect(kinds(fx)).toEqual([
      'transition',
      'power on',
      'cancel',
      'start piper',
      'start vibevoice',
      'preload ollama',
    ]);
    expect(woken.busy).toBe(inFlight + 1);
    expect(woken).toMatchObject({ state: 'active', stopped: [], unloaded: [] });

    const [afterOld, oldFx] = step(
      woken,
      { type: 'settled', now: T0 + after.cold + 300, batch: inFlight },
      config(),
    );
    expect(oldFx).toEqual([]);
    expect(afterOld.busy).toBe(inFlight + 1);
    const [done] = step(
      afterOld,
      { type: 'settled', now: T0 + after.cold + 400, batch: inFlight + 1 },
      config(),
    );
    expect(done.busy).toBeNull();
  });

  it('going deeper while a batch is in flight queues without cancelling', () => {
    const [cool] = run(started(), [tick(T0 + after.cool)]);
    const [cold] = step(cool, tick(T0 + after.cold), config());
    const [dormant, fx] = step(cold, tick(T0 + after.dormant), config());
    expect(kinds(fx)).toEqual(['transition', 'stop ollama']);
    expect(dormant.busy).toBe(cold.busy! + 1);
  });

  it('concurrent wakes coalesce: a second wake while the first is in flight issues nothing', () => {
    const [dormant] = run(started(), [tick(T0 + 3 * H)]);
    const [w1, fx1] = step(dormant, { type: 'wake', now: T0 + 3 * H + 10, source: 'a' }, config());
    expect(io(fx1)).toHaveLength(4);
    const [w2, fx2] = step(w1, { type: 'wake', now: T0 + 3 * H + 20, source: 'b' }, config());
    expect(fx2).toEqual([]);
    expect(w2.busy).toBe(w1.busy);
    const [w3, fx3] = step(w2, { type: 'activity', now: T0 + 3 * H + 30, source: 'c' }, config());
    expect(fx3).toEqual([]);
    expect(w3.busy).toBe(w1.busy);
  });
});

describe('hibernate now', () => {
  it('goes to the chosen state at once, doing every action up to it once', () => {
    const s = started();
    const [n, fx] = run(s, [{ type: 'hibernate', now: T0 + 10 * S, state: 'cold' }]);
    expect(n.state).toBe('cold');
    expect(kinds(fx)).toEqual([
      'transition',
      'power off',
      'unload ollama',
      'stop piper',
      'stop vibevoice',
    ]);
    expect((fx[0] as { reason: string }).reason).toBe('hibernate now (cold)');
    // It stays cold (the idle clock says active) and deepens to dormant on the idle clock.
    expect(run(n, [tick(T0 + 20 * MIN)])[1]).toEqual([]);
    expect(nextStep(n, config(), T0 + 20 * MIN)).toEqual({
      state: 'dormant',
      at: T0 + after.dormant,
    });
    const [d, dfx] = run(n, [tick(T0 + after.dormant)]);
    expect(d.state).toBe('dormant');
    expect(kinds(io(dfx))).toEqual(['stop ollama']);
    // Activity clears it.
    expect(run(n, [{ type: 'activity', now: T0 + 21 * MIN, source: 'api' }])[0].state).toBe(
      'active',
    );
  });

  it('to a shallower state restores only what that state keeps, and restarts the idle clock at its threshold', () => {
    const [dormant] = run(started(), [tick(T0 + 3 * H)]);
    const now = T0 + 3 * H + 5;
    const [n, fx] = run(dormant, [{ type: 'hibernate', now, state: 'cool' }]);
    expect(n.state).toBe('cool');
    expect(kinds(io(fx))).toEqual(['start ollama', 'start piper', 'preload ollama']);
    expect(n.stopped).toEqual(['vibevoice']);
    expect(n.lastActivity).toBe(now - after.cool);
    expect(nextStep(n, config(), now)).toEqual({
      state: 'cold',
      at: now - after.cool + after.cold,
    });
  });

  it('to active is a wake, and it ends keep awake', () => {
    const [ka] = run(started(), [{ type: 'keepAwake', now: T0, on: true }]);
    const [n] = run(ka, [{ type: 'hibernate', now: T0 + 1, state: 'cool' }]);
    expect(n.keepAwake).toBeNull();
    expect(n.state).toBe('cool');
    const [w, fx] = run(n, [{ type: 'hibernate', now: T0 + 2, state: 'active' }]);
    expect(w.state).toBe('active');
    expect(kinds(io(fx))).toEqual(['start vibevoice', 'preload ollama']);
  });
});

describe('keep awake', () => {
  it('until turned off: stays active forever, with no next step; idle counts from turning it off', () => {
    const [ka] = run(started(), [{ type: 'keepAwake', now: T0 + S, on: true }]);
    expect(ka.keepAwake).toEqual({ until: null });
    const [later, fx] = run(ka, [tick(T0 + 50 * H)]);
    expect(fx).toEqual([]);
    expect(later.state).toBe('active');
    expect(nextStep(later, config(), T0 + 50 * H)).toBeNull();
    const off = T0 + 50 * H;
    const [n] = run(later, [{ type: 'keepAwake', now: off, on: false }]);
    expect(n.keepAwake).toBeNull();
    expect(run(n, [tick(off + after.warm - 1)])[0].state).toBe('active');
    expect(run(n, [tick(off + after.warm)])[0].state).toBe('warm');
  });

  it('for a time: wakes from cold, holds active until the end, then idles from the end', () => {
    const [cold] = run(started(), [tick(T0 + after.cold)]);
    const on = T0 + after.cold + S;
    const until = on + 60 * MIN;
    const [ka, fx] = run(cold, [{ type: 'keepAwake', now: on, on: true, until }]);
    expect(kinds(fx)).toEqual([
      'transition',
      'power on',
      'start piper',
      'start vibevoice',
      'preload ollama',
    ]);
    expect(run(ka, [tick(until - 1)])[0].state).toBe('active');
    expect(nextStep(ka, config(), on)).toEqual({ state: 'warm', at: until + after.warm });
    const [ended] = run(ka, [tick(until)]);
    expect(ended.keepAwake).toBeNull();
    expect(ended.lastActivity).toBe(until);
    expect(run(ended, [tick(until + after.warm)])[0].state).toBe('warm');
    // A jump far past the end counts from the end, not from the last activity before the pin.
    const [jumped, jfx] = run(ka, [tick(until + after.cool)]);
    expect(jumped.state).toBe('cool');
    expect(kinds(io(jfx))).toEqual(['stop vibevoice']);
  });

  it('an end time already past is the same as off', () => {
    const [n] = run(started(), [{ type: 'keepAwake', now: T0 + 10, on: true, until: T0 + 5 }]);
    expect(n.keepAwake).toBeNull();
  });
});

describe('disabled hibernation', () => {
  const off = config({ enabled: false });
  it('never leaves active by itself and has no next step', () => {
    const s = started(off);
    expect(run(s, [tick(T0 + 100 * H)], off)[1]).toEqual([]);
    expect(nextStep(s, off, T0)).toBeNull();
  });

  it('disabling it while cold restores everything', () => {
    const [cold] = run(started(), [tick(T0 + after.cold)]);
    const [n, fx] = run(cold, [tick(T0 + after.cold + 1)], off);
    expect(n.state).toBe('active');
    expect(fx[0]).toMatchObject({ type: 'transition', reason: 'hibernation disabled' });
    expect(kinds(io(fx))).toEqual(['start piper', 'start vibevoice', 'preload ollama']);
  });

  it('"hibernate now" still works, and holds until activity', () => {
    const [n] = run(started(off), [{ type: 'hibernate', now: T0 + 1, state: 'dormant' }], off);
    expect(n.state).toBe('dormant');
    expect(run(n, [tick(T0 + 1000 * H)], off)[0].state).toBe('dormant');
    expect(run(n, [{ type: 'activity', now: T0 + 2, source: 'x' }], off)[0].state).toBe('active');
  });
});

describe('policy and power', () => {
  it('keeps a service the user marked "never" (e.g. Piper, CPU-only)', () => {
    const cfg = config({ services: plans({ piper: { stopAt: null } }) });
    const [d, fx] = run(started(cfg), [tick(T0 + 3 * H)], cfg);
    expect(d.stopped).toEqual(['ollama', 'vibevoice']);
    expect(kinds(io(fx))).not.toContain('stop piper');
  });

  it('a policy changed while hibernating is reconciled at the next tick', () => {
    const [cold] = run(started(), [tick(T0 + after.cold)]);
    const cfg = config({ services: plans({ piper: { stopAt: null } }) });
    const [n, fx] = run(cold, [tick(T0 + after.cold + S)], cfg);
    expect(kinds(io(fx))).toEqual(['start piper']);
    expect(n.stopped).toEqual(['vibevoice']);
  });

  it('unloadAt earlier than the stop: models go at cool, Ollama is stopped at dormant', () => {
    const cfg = config({ services: plans({ ollama: { unloadAt: 'cool' } }) });
    const [, fx] = run(started(cfg), [tick(T0 + after.cool)], cfg);
    expect(kinds(io(fx))).toEqual(['unload ollama', 'stop vibevoice']);
  });

  it('with preventSleep off, never blocks sleep; turning it off while active releases', () => {
    const quiet = config({ preventSleep: false });
    const [s, fx] = step(initialIdle(T0), tick(T0), quiet);
    expect(fx).toEqual([]);
    expect(kinds(run(s, [tick(T0 + 3 * H)], quiet)[1])).not.toContain('power on');
    const [n, fx2] = run(started(), [tick(T0 + 1)], quiet);
    expect(kinds(fx2)).toEqual(['power off']);
    expect(n.awake).toBe(false);
  });

  it('the power block follows the levels: held in active and warm, released from cool, retaken on wake', () => {
    let s = started();
    const powers: string[] = [];
    for (const at of [after.warm, after.cool, after.cold, after.dormant]) {
      const [n, fx] = run(s, [tick(T0 + at)]);
      powers.push(...kinds(fx).filter((k) => k.startsWith('power')));
      s = n;
    }
    expect(powers).toEqual(['power off']);
    expect(kinds(run(s, [{ type: 'wake', now: T0 + 3 * H, source: 'x' }])[1])).toContain(
      'power on',
    );
  });
});

describe('random walk: invariants over many event sequences', () => {
  // A tiny seeded PRNG so failures reproduce.
  function prng(seed: number) {
    return () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
  }

  it('never stops a stopped service, starts a running one, or unloads twice; the state matches the idle clock', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = prng(seed);
      const running = new Set(['ollama', 'piper', 'vibevoice']);
      let loaded = true; // Ollama's models
      let now = T0;
      const cfgNow = (enabled: boolean): IdleConfig =>
        config({
          enabled,
          services: plans({
            ollama: { canStop: running.has('ollama'), reachable: running.has('ollama') },
            piper: { canStop: running.has('piper'), reachable: running.has('piper') },
            vibevoice: { canStop: running.has('vibevoice'), reachable: running.has('vibevoice') },
          }),
        });
      let enabled = true;
      let s = step(initialIdle(now), tick(now), cfgNow(enabled))[0];
      for (let i = 0; i < 60; i++) {
        const r = rnd();
        now += Math.floor(rnd() * (r < 0.1 ? 4 * H : 20 * MIN));
        let e: IdleEvent;
        if (r < 0.55) e = tick(now);
        else if (r < 0.7) e = { type: 'activity', now, source: 'r' };
        else if (r < 0.8) e = { type: 'wake', now, source: 'r' };
        else if (r < 0.9)
          e = { type: 'hibernate', now, state: LEVELS[Math.floor(rnd() * LEVELS.length)]! };
        else if (r < 0.95)
          e = {
            type: 'keepAwake',
            now,
            on: rnd() < 0.5,
            until: rnd() < 0.5 ? null : now + Math.floor(rnd() * 3 * H),
          };
        else {
          enabled = !enabled;
          e = tick(now);
        }
        const cfg = cfgNow(enabled);
        const [n, fx] = step(s, e, cfg);
        for (const f of fx) {
          const where = `seed ${seed} event ${i} ${JSON.stringify(e)} → ${kinds(fx).join(', ')}`;
          if (f.type === 'stop') {
            expect(running.has(f.service), where).toBe(true);
            running.delete(f.service);
            if (f.service === 'ollama') loaded = false;
          } else if (f.type === 'start') {
            expect(running.has(f.service), where).toBe(false);
            running.add(f.service);
          } else if (f.type === 'unload') {
            expect(loaded && running.has('ollama'), where).toBe(true);
            loaded = false;
          } else if (f.type === 'preload') {
            expect(running.has('ollama'), where).toBe(true);
            loaded = true;
          }
        }
        s = n.busy === null ? n : step(n, { type: 'settled', now, batch: n.busy }, cfg)[0];
        // The state is what the idle clock, the floor and the pin say; and so is the world.
        const idleLevel = enabled ? levelFor(now - s.lastActivity, after) : 'active';
        const expected: Level = s.keepAwake
          ? 'active'
          : depth(s.floor ?? 'active') > depth(idleLevel)
            ? s.floor!
            : idleLevel;
        expect(s.state, `seed ${seed} event ${i}`).toBe(expected);
        for (const p of plans()) {
          const shouldRun = !(p.stopAt && depth(s.state) >= depth(p.stopAt));
          expect(running.has(p.id), `seed ${seed} event ${i}: ${p.id} in ${s.state}`).toBe(
            shouldRun,
          );
        }
        if (running.has('ollama'))
          expect(loaded, `seed ${seed} event ${i}: models in ${s.state}`).toBe(
            depth(s.state) < depth('cold'),
          );
        expect(s.awake).toBe(depth(s.state) <= depth('warm'));
      }
    }
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [42_000, '42s'],
    [5 * MIN, '5m 0s'],
    [3 * H + 5 * MIN, '3h 5m'],
  ])('%i ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('ready: a service came up (any start), hibernation decides what to load', () => {
  const ready = (now: number, service = 'ollama'): IdleEvent => ({ type: 'ready', now, service });

  it('loads where the level keeps the models (active, warm, cool by default), with the service keep-alive; it is not use', () => {
    for (const idle of [0, 40 * S, 10 * MIN]) {
      const [s] = run(started(), [tick(T0 + idle)]);
      const [n, fx] = step(s, ready(T0 + idle), config());
      expect(fx).toEqual([{ type: 'preload', service: 'ollama', ready: true }]);
      expect(n.lastActivity).toBe(s.lastActivity);
      expect(n.busy).toBe(n.batch);
    }
  });

  it('loads nothing at cold or dormant, or where the policy unloads at that level already', () => {
    for (const idle of [30 * MIN, 3 * H]) {
      const [s] = run(started(), [tick(T0 + idle)]);
      expect(io(step(s, ready(T0 + idle), config())[1])).toEqual([]);
    }
    const cfg = config({ services: plans({ ollama: { unloadAt: 'warm' } }) });
    const [s] = run(started(cfg), [tick(T0 + 40 * S)], cfg);
    expect(s.unloaded).toEqual(['ollama']);
    expect(io(step(s, ready(T0 + 40 * S), cfg)[1])).toEqual([]);
  });

  it('a service without models, or one not in the settings, loads nothing', () => {
    const s = started();
    expect(io(step(s, ready(T0, 'piper'), config())[1])).toEqual([]);
    expect(io(step(s, ready(T0, 'gone'), config())[1])).toEqual([]);
  });

  it('with hibernation disabled it always loads (the level stays active)', () => {
    const cfg = config({ enabled: false });
    const s = started(cfg);
    expect(io(step(s, ready(T0 + 5 * H), cfg)[1])).toEqual([
      { type: 'preload', service: 'ollama', ready: true },
    ]);
  });
});
