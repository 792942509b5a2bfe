// The shared name's RFC 6762 machine (shared-name.ts): probing, announcing, answering, goodbyes and
// conflicts, with time passed in. No sockets.
import { describe, expect, it } from 'vitest';
import {
  compareAddr,
  initialName,
  NAME_CONFIG,
  needsProbe,
  sharedFqdn,
  stepName,
  type NameEffect,
  type NameEvent,
  type NameState,
} from '../../main/core/discovery/shared-name.js';
import { cannotServe } from '../../main/core/pairing/can-serve.js';
import { encodeTxt } from '../../main/core/discovery/txt.js';

const NAME = 'unamentis.local';
const ME = '10.0.0.2';
const PEER = '10.0.0.3';
const STRANGER = '10.0.0.9';

function run(s: NameState, ...evs: NameEvent[]): [NameState, NameEffect[]] {
  let fx: NameEffect[] = [];
  for (const ev of evs) {
    const [n, f] = stepName(s, ev, NAME);
    s = n;
    fx = [...fx, ...f];
  }
  return [s, fx];
}

/** Ticks at every deadline until `until`. */
function advance(s: NameState, until: number): [NameState, NameEffect[], number[]] {
  const at: number[] = [];
  let fx: NameEffect[] = [];
  while (s.nextAt !== null && s.nextAt <= until) {
    const now = s.nextAt;
    const [n, f] = stepName(s, { type: 'tick', now }, NAME);
    if (f.length) at.push(now);
    s = n;
    fx = [...fx, ...f];
  }
  return [s, fx, at];
}

const query = (
  now: number,
  over: Partial<Extract<NameEvent, { type: 'query' }>> = {},
): NameEvent => ({
  type: 'query',
  now,
  id: 7,
  questions: [{ name: 'Unamentis.local', type: 'A' }],
  known: [],
  authority: [],
  from: { address: '10.0.0.50', port: 5353 },
  ours: ME,
  friends: [ME, PEER],
  ...over,
});

describe('shared name: first claim', () => {
  it('probes three times 250 ms apart after the jitter, then announces twice one second apart (RFC 6762 §8)', () => {
    const [s, fx] = run(initialName(), {
      type: 'want',
      now: 0,
      hold: true,
      probe: true,
      jitterMs: 100,
    });
    expect(fx).toEqual([]);
    expect(s.phase).toBe('probing');
    const [s2, fx2, at] = advance(s, 5_000);
    expect(fx2.map((f) => f.type)).toEqual(['probe', 'probe', 'probe', 'announce', 'announce']);
    expect(at).toEqual([100, 350, 600, 850, 1850]);
    expect(s2.phase).toBe('holding');
    expect(s2.nextAt).toBeNull();
  });

  it('does not answer queries while probing, answers them once holding', () => {
    const [s0] = run(initialName(), { type: 'want', now: 0, hold: true, probe: true, jitterMs: 0 });
    expect(run(s0, query(10))[1]).toEqual([]);
    const [s] = advance(s0, 2_000);
    expect(run(s, query(2_100))[1]).toEqual([{ type: 'answer', unicast: null, aaaa: false }]);
  });

  it('a stranger answering during probing is a conflict: no announcement, a notice, a new probe a minute later', () => {
    let [s, fx] = run(
      initialName(),
      { type: 'want', now: 0, hold: true, probe: true, jitterMs: 0 },
      { type: 'tick', now: 0 },
    );
    expect(fx).toEqual([{ type: 'probe' }]);
    [s, fx] = run(s, {
      type: 'response',
      now: 50,
      records: [{ name: 'unamentis.local', type: 'A', ttl: 120, data: STRANGER }],
      from: { address: STRANGER },
      friends: [ME, PEER],
    });
    expect(fx).toEqual([{ type: 'conflict', with: STRANGER }]);
    expect(s.phase).toBe('conflict');
    [s, fx] = advance(s, 30_000);
    expect(fx).toEqual([]);
    const [s2, fx2, at] = advance(s, 61_000);
    expect(fx2.map((f) => f.type)).toEqual([
      'probe',
      'probe',
      'probe',
      'conflict-cleared',
      'announce',
    ]);
    expect(at[0]).toBe(60_050);
    expect(s2.phase).toBe('holding');
  });

  it('loses a simultaneous probe to a greater address and probes again 1 s later (§8.2); wins against a smaller one', () => {
    let [s] = run(
      initialName(),
      { type: 'want', now: 0, hold: true, probe: true, jitterMs: 0 },
      { type: 'tick', now: 0 },
    );
    const probe = (addr: string, now: number) =>
      query(now, {
        questions: [{ name: NAME, type: 'ANY' }],
        authority: [{ name: NAME, type: 'A', data: addr }],
        from: { address: addr, port: 5353 },
        friends: [ME],
      });
    [s] = run(s, probe('10.0.0.1', 100)); // smaller: we win, nothing changes
    expect(s.nextAt).toBe(250);
    const [s3, fx] = run(s, probe('10.0.0.200', 120)); // greater: we defer
    s = s3;
    expect(fx).toEqual([]);
    expect(s.probesSent).toBe(0);
    expect(s.nextAt).toBe(1_120);
  });
});

describe('shared name: inside the pair', () => {
  it('a takeover from a paired host announces at once, with no probe', () => {
    const [s, fx] = run(initialName(), {
      type: 'want',
      now: 5,
      hold: true,
      probe: false,
      jitterMs: 200,
    });
    expect(fx).toEqual([{ type: 'announce' }]);
    expect(s.phase).toBe('holding');
    expect(s.nextAt).toBe(1_005);
  });

  it('the paired host answering for the name (a handoff in flight, a healed split) is never a conflict', () => {
    let [s] = run(initialName(), { type: 'want', now: 0, hold: true, probe: false, jitterMs: 0 });
    let fx: NameEffect[];
    [s, fx] = run(s, {
      type: 'response',
      now: 10,
      records: [{ name: NAME, type: 'A', ttl: 120, data: PEER }],
      from: { address: PEER },
      friends: [ME, PEER],
    });
    expect(fx).toEqual([]);
    expect(s.phase).toBe('holding');
    [, fx] = run(s, {
      type: 'response',
      now: 20,
      records: [{ name: NAME, type: 'A', ttl: 120, data: STRANGER }],
      from: { address: STRANGER },
      friends: [ME, PEER],
    });
    expect(fx).toEqual([{ type: 'goodbye' }, { type: 'conflict', with: STRANGER }]);
  });

  it('a goodbye for the stranger record (TTL 0) is not a claim', () => {
    const [s0] = run(initialName(), {
      type: 'want',
      now: 0,
      hold: true,
      probe: false,
      jitterMs: 0,
    });
    const [s, fx] = run(s0, {
      type: 'response',
      now: 10,
      records: [{ name: NAME, type: 'A', ttl: 0, data: STRANGER }],
      from: { address: STRANGER },
      friends: [ME],
    });
    expect(fx).toEqual([]);
    expect(s.phase).toBe('holding');
  });

  it('letting go sends one goodbye; letting go again sends nothing', () => {
    let [s] = run(initialName(), { type: 'want', now: 0, hold: true, probe: false, jitterMs: 0 });
    let fx: NameEffect[];
    [s, fx] = run(s, { type: 'want', now: 10, hold: false, probe: false, jitterMs: 0 });
    expect(fx).toEqual([{ type: 'goodbye' }]);
    expect(s.nextAt).toBeNull();
    [s, fx] = run(s, { type: 'want', now: 20, hold: false, probe: false, jitterMs: 0 });
    expect(fx).toEqual([]);
    [, fx] = run(s, query(30));
    expect(fx).toEqual([]);
  });

  it('a probe under way stops at once when the pair vouches for the name', () => {
    const [s0] = run(
      initialName(),
      { type: 'want', now: 0, hold: true, probe: true, jitterMs: 0 },
      { type: 'tick', now: 0 },
    );
    const [s, fx] = run(s0, { type: 'want', now: 100, hold: true, probe: false, jitterMs: 0 });
    expect(fx).toEqual([{ type: 'announce' }]);
    expect(s.phase).toBe('holding');
  });
});

describe('shared name: answering', () => {
  const holding = () =>
    run(initialName(), { type: 'want', now: 0, hold: true, probe: false, jitterMs: 0 })[0];

  it('legacy unicast queries (source port ≠ 5353) get a unicast answer with their id (§6.7)', () => {
    const [, fx] = run(
      holding(),
      query(10, { from: { address: '10.0.0.50', port: 41000 }, id: 4242 }),
    );
    expect(fx).toEqual([
      { type: 'answer', unicast: { address: '10.0.0.50', port: 41000, id: 4242 }, aaaa: false },
    ]);
  });

  it('known-answer suppression: no answer when the asker holds our record with ≥ half its TTL (§7.1)', () => {
    const [s, fx] = run(
      holding(),
      query(10, { known: [{ name: NAME, type: 'A', ttl: 100, data: ME }] }),
    );
    expect(fx).toEqual([]);
    expect(s.counts.suppressed).toBe(1);
    expect(
      run(s, query(20, { known: [{ name: NAME, type: 'A', ttl: 30, data: ME }] }))[1],
    ).toHaveLength(1);
  });

  it('ignores other names and types; AAAA and ANY are answered (with the NSEC that denies AAAA)', () => {
    const s = holding();
    expect(run(s, query(1, { questions: [{ name: 'other.local', type: 'A' }] }))[1]).toEqual([]);
    expect(run(s, query(1, { questions: [{ name: NAME, type: 'TXT' }] }))[1]).toEqual([]);
    expect(run(s, query(1, { questions: [{ name: NAME, type: 'AAAA' }] }))[1]).toEqual([
      { type: 'answer', unicast: null, aaaa: true },
    ]);
    expect(
      run(s, query(1, { questions: [{ name: 'UNAMENTIS.LOCAL.', type: 'ANY' }] }))[1],
    ).toHaveLength(1);
  });
});

describe('helpers', () => {
  it('probe only for a first claim: unpaired, or paired but nobody heard yet', () => {
    expect(needsProbe({ paired: false, heardPeer: false })).toBe(true);
    expect(needsProbe({ paired: true, heardPeer: false })).toBe(true);
    expect(needsProbe({ paired: true, heardPeer: true })).toBe(false);
  });
  it('names and addresses', () => {
    expect(sharedFqdn('UnaMentis')).toBe('unamentis.local');
    expect(sharedFqdn('kitchen.local')).toBe('kitchen.local');
    expect(compareAddr('10.0.0.10', '10.0.0.9')).toBeGreaterThan(0);
    expect(NAME_CONFIG.probes).toBe(3);
  });
  it('cannotServe: a failed service (missing or given up) says why; starting or backing off does not count', () => {
    const svc = (status: string, enabled = true, lastError: string | null = null) =>
      ({
        id: 'x',
        name: 'Ollama',
        enabled,
        status,
        port: 1,
        pid: null,
        restarts: 0,
        uptimeSeconds: 0,
        health: null,
        lastError,
      }) as never;
    expect(cannotServe({ services: [svc('starting'), svc('backoff')] })).toBeNull();
    expect(cannotServe({ services: [svc('failed', false)] })).toBeNull();
    expect(
      cannotServe({
        services: [svc('failed', true, 'ollama was not found (looked in PATH). Install it.\nmore')],
      }),
    ).toBe('ollama was not found (looked in PATH). Install it.');
    expect(cannotServe({ services: [svc('failed', true, 'exited with code 1')] })).toBe(
      'Ollama: exited with code 1',
    );
  });
  it('TXT serving is 1 only for a serving host that can serve', () => {
    const snap = (host: Record<string, unknown>) =>
      ({
        host: { id: 'x', role: 'primary', prio: 200, serving: true, ...host },
        hibernation: { state: 'active' },
        services: [],
      }) as never;
    const settings = { services: {}, pairing: { pairId: null } } as never;
    expect(encodeTxt(snap({}), settings).serving).toBe('1');
    expect(encodeTxt(snap({ cannotServe: 'Ollama failed' }), settings).serving).toBe('0');
    expect(encodeTxt(snap({ serving: false }), settings).serving).toBe('0');
  });
});
