// Pairing's pure parts: the CPace exchange and key schedule, the responder's code desk (expiry,
// 5 wrong codes lock), heartbeat authentication and the replay guard.

import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cpaceKey,
  cpaceShare,
  decodeShare,
  isCode,
  newCode,
  open,
  peerKeys,
  seal,
  sessionKeys,
  b64,
} from '../../main/core/pairing/crypto.js';
import { initiatorFinish, Responder, type HostCard } from '../../main/core/pairing/handshake.js';
import {
  decodeHeartbeat,
  encodeHeartbeat,
  EPOCH_FILE,
  MAGIC,
  nextBootEpoch,
  ReplayGuard,
  type Heartbeat,
} from '../../main/core/pairing/heartbeat.js';

const A = randomUUID();
const B = randomUUID();
const card = (id: string, over: Partial<HostCard> = {}): HostCard => ({
  id,
  name: 'Studio Mac',
  role: 'primary',
  prio: 200,
  port: 11400,
  pairId: null,
  ...over,
});

describe('CPace key exchange', () => {
  const ctx = { sid: randomBytes(16), initiator: A, responder: B };

  it('the same code gives both sides the same key; a different code does not', () => {
    const a = cpaceShare('123456', ctx);
    const b = cpaceShare('123456', ctx);
    const shares = { initiator: a.share, responder: b.share };
    const ka = cpaceKey(a, b.share, ctx, shares);
    const kb = cpaceKey(b, a.share, ctx, shares);
    expect(ka.equals(kb)).toBe(true);
    const wrong = cpaceShare('123457', ctx);
    const k2 = cpaceKey(wrong, b.share, ctx, { initiator: wrong.share, responder: b.share });
    const kb2 = cpaceKey(b, wrong.share, ctx, { initiator: wrong.share, responder: b.share });
    expect(k2.equals(kb2)).toBe(false);
  });

  it('the key depends on the session id and both ids (a transcript from one session is useless in another)', () => {
    const a = cpaceShare('000000', ctx);
    const b = cpaceShare('000000', ctx);
    const shares = { initiator: a.share, responder: b.share };
    const k = cpaceKey(a, b.share, ctx, shares);
    const other = { ...ctx, sid: randomBytes(16) };
    expect(cpaceKey(a, b.share, other, shares).equals(k)).toBe(false);
    const swapped = { ...ctx, initiator: B, responder: A };
    expect(cpaceKey(a, b.share, swapped, shares).equals(k)).toBe(false);
  });

  it('shares are fresh every time (nothing a listener saw before can be reused)', () => {
    expect(cpaceShare('123456', ctx).share.equals(cpaceShare('123456', ctx).share)).toBe(false);
  });

  it('refuses a share that is not a canonical, non-identity ristretto255 element', () => {
    expect(() => decodeShare(Buffer.alloc(32))).toThrow(/identity/);
    expect(() => decodeShare(Buffer.alloc(32, 0xff))).toThrow();
    expect(() => decodeShare(Buffer.alloc(31, 1))).toThrow(/32 bytes/);
  });

  it('codes are 6 digits, leading zeros kept', () => {
    expect(newCode(() => 42)).toBe('000042');
    for (let i = 0; i < 50; i++) expect(isCode(newCode())).toBe(true);
    expect(isCode('12345')).toBe(false);
    expect(isCode('12345a')).toBe(false);
    expect(isCode(123456)).toBe(false);
  });

  it('boxes open only with the same key and context; any change is detected', () => {
    const keys = sessionKeys(randomBytes(64), randomBytes(16));
    const box = seal(keys.boxInitiator, { hello: 'world' }, 'ctx');
    expect(open(keys.boxInitiator, box, 'ctx')).toEqual({ hello: 'world' });
    expect(() => open(keys.boxInitiator, box, 'other ctx')).toThrow();
    expect(() => open(keys.boxResponder, box, 'ctx')).toThrow();
    const data = Buffer.from(box.data, 'base64');
    data[0]! ^= 1;
    expect(() =>
      open(keys.boxInitiator, { ...box, data: data.toString('base64') }, 'ctx'),
    ).toThrow();
    expect(() => open(keys.boxInitiator, { iv: 'x' }, 'ctx')).toThrow(/malformed/);
  });

  it('per-purpose keys differ from the pair key and from each other', () => {
    const pk = randomBytes(32);
    const k = peerKeys(pk);
    expect(k.heartbeat.equals(k.rpc)).toBe(false);
    expect(k.heartbeat.equals(pk)).toBe(false);
  });

  it('b64 accepts only canonical base64 of the right length', () => {
    const x = randomBytes(32);
    expect(b64(x.toString('base64'), 32)?.equals(x)).toBe(true);
    expect(b64(x.toString('base64'), 16)).toBeNull();
    expect(b64('%%%', 32)).toBeNull();
    expect(b64(42, 32)).toBeNull();
  });
});

describe('the responder desk', () => {
  function desk(code = '424242') {
    let now = 1_000_000;
    const clock = { now: () => now, advance: (ms: number) => (now += ms) };
    const r = new Responder(() => ({ id: B }), clock.now, { code: () => code });
    return { r, clock };
  }

  function attempt(r: Responder, typed: string) {
    const inc = r.pending()!;
    const a = initiatorFinish(typed, inc.sid, A, B, inc.share.share);
    return { a, res: r.finish(inc.sid.toString('base64'), A, a.share, a.mac, inc.address) };
  }

  it('the right code pairs, and both sides hold the same pair key; the initiator can check the responder', () => {
    const { r } = desk();
    const req = r.request(card(A), '10.0.0.2');
    expect(req.ok).toBe(true);
    const { a, res } = attempt(r, '424242');
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.keys.pairKey.equals(a.keys.pairKey)).toBe(true);
    // The responder's confirmation is what the initiator expects.
    expect(
      a.expectResponderMac.equals(
        createHmac('sha256', res.keys.confirmResponder).update(res.transcript).digest(),
      ),
    ).toBe(true);
    expect(r.pending()).toBeNull();
  });

  it('wrong codes count down; the 5th locks pairing; the right code is then refused; cancel lifts the lock', () => {
    const { r } = desk();
    r.request(card(A), '10.0.0.2');
    for (let i = 1; i <= 4; i++) {
      const { res } = attempt(r, String(100000 + i));
      expect(res).toMatchObject({
        ok: false,
        reason: 'mismatch',
        attemptsLeft: 5 - i,
        locked: false,
      });
    }
    const { res } = attempt(r, '999999');
    expect(res).toMatchObject({ ok: false, attemptsLeft: 0, locked: true });
    expect(r.pending()).toBeNull();
    expect(r.lockedFor()).toBeGreaterThan(0);
    const again = r.request(card(A), '10.0.0.2');
    expect(again).toMatchObject({ ok: false, reason: 'locked' });
    r.cancel();
    expect(r.request(card(A), '10.0.0.2').ok).toBe(true);
  });

  it('the lock wears off after 10 minutes', () => {
    const { r, clock } = desk();
    r.request(card(A), 'x');
    for (let i = 0; i < 5; i++) attempt(r, '000000');
    expect(r.request(card(A), 'x').ok).toBe(false);
    clock.advance(10 * 60_000);
    expect(r.request(card(A), 'x').ok).toBe(true);
  });

  it('a code expires after 2 minutes', () => {
    const { r, clock } = desk();
    r.request(card(A), 'x');
    const inc = r.pending()!;
    clock.advance(120_000);
    expect(r.pending()).toBeNull();
    const a = initiatorFinish('424242', inc.sid, A, B, inc.share.share);
    expect(r.finish(inc.sid.toString('base64'), A, a.share, a.mac, 'x')).toMatchObject({
      ok: false,
      reason: 'none',
    });
  });

  it('one request per address, four in all: a fifth address is told to wait; an address replaces its own', () => {
    const { r } = desk();
    for (const a of ['a', 'b', 'c', 'd']) expect(r.request(card(randomUUID()), a).ok).toBe(true);
    const other = r.request(card(randomUUID(), { name: 'Intruder' }), 'e');
    expect(other).toMatchObject({ ok: false, reason: 'busy' });
    expect(r.request(card(A), 'b').ok).toBe(true);
    expect(r.all().map((i) => i.address)).toEqual(['a', 'c', 'd', 'b']);
  });

  it('a finish from another id, session or address does not touch the pending request', () => {
    const { r } = desk();
    r.request(card(A), 'x');
    const inc = r.pending()!;
    const a = initiatorFinish('424242', inc.sid, A, B, inc.share.share);
    expect(r.finish(inc.sid.toString('base64'), randomUUID(), a.share, a.mac, 'x')).toMatchObject({
      ok: false,
      reason: 'none',
    });
    expect(r.finish(randomBytes(16).toString('base64'), A, a.share, a.mac, 'x')).toMatchObject({
      ok: false,
      reason: 'none',
    });
    // A sniffer elsewhere replays the sid with garbage, 5 times: nothing counts (issue #20: it voided the request).
    for (let i = 0; i < 5; i++) {
      expect(
        r.finish(inc.sid.toString('base64'), A, a.share, randomBytes(32), 'sniffer'),
      ).toMatchObject({ ok: false, reason: 'none' });
    }
    expect(r.pending()?.failures).toBe(0);
    expect(r.lockedFor()).toBe(0);
    expect(r.finish(inc.sid.toString('base64'), A, a.share, a.mac, 'x').ok).toBe(true);
  });

  it('an attacker locking itself out does not lock the real peer out, nor take its slot (issue #20)', () => {
    const { r } = desk();
    // Six unauthenticated requests: one request, five bad finishes.
    r.request(card(randomUUID(), { name: 'Studio Mac' }), '10.0.0.66');
    for (let i = 0; i < 5; i++) {
      const inc = r.all().find((x) => x.address === '10.0.0.66')!;
      r.finish(
        inc.sid.toString('base64'),
        inc.from.id,
        Buffer.alloc(32),
        randomBytes(32),
        '10.0.0.66',
      );
    }
    expect(r.lockedFor('10.0.0.66')).toBeGreaterThan(0);
    expect(r.lockedOut()).toEqual([{ address: '10.0.0.66', forMs: 10 * 60_000 }]);
    expect(r.request(card(randomUUID()), '10.0.0.66')).toMatchObject({
      ok: false,
      reason: 'locked',
    });
    // The real peer pairs meanwhile.
    expect(r.request(card(A), '10.0.0.2').ok).toBe(true);
    const { res } = attempt(r, '424242');
    expect(res.ok).toBe(true);
  });

  it('wrong codes from one address count across its requests (no fresh five by asking again)', () => {
    const { r } = desk();
    r.request(card(A), 'x');
    for (let i = 0; i < 3; i++) attempt(r, '000000');
    r.request(card(A), 'x');
    expect(r.pending()!.failures).toBe(3);
    attempt(r, '000000');
    const { res } = attempt(r, '000000');
    expect(res).toMatchObject({ ok: false, locked: true });
  });

  it('an invalid share counts as a failed attempt', () => {
    const { r } = desk();
    r.request(card(A), 'x');
    const inc = r.pending()!;
    expect(
      r.finish(inc.sid.toString('base64'), A, Buffer.alloc(32), randomBytes(32), 'x'),
    ).toMatchObject({ ok: false, reason: 'malformed', attemptsLeft: 4 });
  });

  it('an active attacker who relays the request but guesses the code gets a different key (one guess per attempt)', () => {
    // The attacker plays initiator with its own guess: its key differs from the responder's, so its MAC fails.
    const { r } = desk('111111');
    r.request(card(A), 'x');
    const { res } = attempt(r, '222222');
    expect(res.ok).toBe(false);
  });
});

describe('heartbeats', () => {
  const key = peerKeys(randomBytes(32)).heartbeat;
  const hb = (over: Partial<Heartbeat> = {}): Heartbeat => ({
    v: 1,
    from: A,
    to: B,
    boot: 'aaaaaaaaaaaaaaaa',
    epoch: 1,
    seq: 1,
    ts: 1_700_000_000_000,
    echo: 'bbbbbbbbbbbbbbbb',
    name: 'Studio Mac',
    role: 'primary',
    port: 11400,
    pairId: 'abcd1234',
    advert: {
      prio: 200,
      ready: true,
      failed: false,
      state: 'active',
      serving: true,
      claim: false,
      eligible: true,
      activityAgeMs: null,
    },
    ...over,
  });
  const keyFor = (id: string) => (id === A ? key : null);

  it('round-trips', () => {
    const d = decodeHeartbeat(encodeHeartbeat(hb(), key), keyFor, B);
    expect(d).toEqual({ ok: true, hb: hb() });
  });

  it('a flipped bit anywhere, a wrong key, a stranger or another recipient is unauthenticated', () => {
    const buf = encodeHeartbeat(hb(), key);
    for (const i of [MAGIC.length + 1, buf.length - 3]) {
      const t = Buffer.from(buf);
      t[i]! ^= 1;
      const d = decodeHeartbeat(t, keyFor, B);
      expect(d.ok).toBe(false);
    }
    expect(decodeHeartbeat(encodeHeartbeat(hb(), randomBytes(32)), keyFor, B)).toMatchObject({
      ok: false,
      reason: 'unauthenticated',
    });
    expect(
      decodeHeartbeat(encodeHeartbeat(hb({ from: randomUUID() }), key), keyFor, B),
    ).toMatchObject({ ok: false, reason: 'unauthenticated' });
    expect(decodeHeartbeat(encodeHeartbeat(hb(), key), keyFor, randomUUID())).toMatchObject({
      ok: false,
      reason: 'unauthenticated',
    });
  });

  it('malformed input is refused without throwing', () => {
    const bad: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from('hello'),
      Buffer.concat([MAGIC, randomBytes(32), Buffer.from('{not json')]),
      Buffer.concat([MAGIC, randomBytes(32), Buffer.from('[]')]),
      Buffer.concat([MAGIC, randomBytes(32), Buffer.from(JSON.stringify({ ...hb(), seq: -1 }))]),
      Buffer.concat([
        MAGIC,
        randomBytes(32),
        Buffer.from(JSON.stringify({ ...hb(), advert: { ...hb().advert, state: 'asleep' } })),
      ]),
      Buffer.concat([MAGIC, randomBytes(32), Buffer.alloc(2000, 0x20)]),
      encodeHeartbeat({ ...hb(), v: 2 as 1 }, key),
    ];
    for (const b of bad)
      expect(decodeHeartbeat(b, keyFor, B)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('replay guard: only heartbeats made after we started (echo), moving forward, from a boot not superseded', () => {
    const g = new ReplayGuard('bbbbbbbbbbbbbbbb');
    expect(g.check({ from: A, boot: '1111111111111111', seq: 5, echo: null })).toBe('unconfirmed');
    expect(g.check({ from: A, boot: '1111111111111111', seq: 5, echo: 'cccccccccccccccc' })).toBe(
      'unconfirmed',
    );
    expect(g.check({ from: A, boot: '1111111111111111', seq: 6, echo: 'bbbbbbbbbbbbbbbb' })).toBe(
      'ok',
    );
    expect(g.check({ from: A, boot: '1111111111111111', seq: 6, echo: 'bbbbbbbbbbbbbbbb' })).toBe(
      'replayed',
    );
    expect(g.check({ from: A, boot: '1111111111111111', seq: 3, echo: 'bbbbbbbbbbbbbbbb' })).toBe(
      'replayed',
    );
    expect(g.check({ from: A, boot: '1111111111111111', seq: 7, echo: 'bbbbbbbbbbbbbbbb' })).toBe(
      'ok',
    );
    // The peer restarted: a new boot is fine, the old one is retired for good.
    expect(g.check({ from: A, boot: '2222222222222222', seq: 1, echo: 'bbbbbbbbbbbbbbbb' })).toBe(
      'ok',
    );
    expect(g.check({ from: A, boot: '1111111111111111', seq: 99, echo: 'bbbbbbbbbbbbbbbb' })).toBe(
      'replayed',
    );
    // Another peer's sequence is its own.
    expect(g.check({ from: B, boot: '1111111111111111', seq: 1, echo: 'bbbbbbbbbbbbbbbb' })).toBe(
      'ok',
    );
  });

  it('replay guard across restarts: a run with a lower epoch, or a second boot in one epoch, is a replay, confirmed or not', () => {
    // Host B restarted (run 8) while we (boot bbbb…) were up; recorded heartbeats of run 7 arrive.
    const g = new ReplayGuard('bbbbbbbbbbbbbbbb');
    expect(g.check({ from: A, boot: '8888888888888888', epoch: 8, seq: 1, echo: null })).toBe(
      'unconfirmed',
    );
    // Before the fix this was 'unconfirmed', and the caller then echoed the dead boot back to A.
    expect(
      g.check({ from: A, boot: '7777777777777777', epoch: 7, seq: 900, echo: 'aaaaaaaaaaaaaaaa' }),
    ).toBe('replayed');
    expect(
      g.check({ from: A, boot: '7777777777777777', epoch: 7, seq: 901, echo: 'bbbbbbbbbbbbbbbb' }),
    ).toBe('replayed');
    expect(g.check({ from: A, boot: '9999999999999999', epoch: 8, seq: 1, echo: null })).toBe(
      'replayed',
    );
    expect(
      g.check({ from: A, boot: '8888888888888888', epoch: 8, seq: 2, echo: 'bbbbbbbbbbbbbbbb' }),
    ).toBe('ok');
    // The next real run is accepted.
    expect(
      g.check({ from: A, boot: '9999999999999999', epoch: 9, seq: 1, echo: 'bbbbbbbbbbbbbbbb' }),
    ).toBe('ok');
    // Senders without epochs (0) keep the boot-only rules.
    expect(g.check({ from: B, boot: '1111111111111111', seq: 1, echo: 'bbbbbbbbbbbbbbbb' })).toBe(
      'ok',
    );
    expect(g.check({ from: B, boot: '2222222222222222', seq: 1, echo: 'bbbbbbbbbbbbbbbb' })).toBe(
      'ok',
    );
  });

  it('nextBootEpoch: each run above the last, also when the clock goes back; saved 0600', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'epoch-'));
    try {
      const a = nextBootEpoch(dir, 5_000).epoch;
      expect(a).toBe(5_000);
      expect(nextBootEpoch(dir, 1_000).epoch).toBe(5_001);
      expect(nextBootEpoch(dir, 9_000).epoch).toBe(9_000);
      expect(fs.statSync(path.join(dir, EPOCH_FILE)).mode & 0o777).toBe(0o600);
      // Unwritable: the clock still orders the run, and the failure is reported.
      const r = nextBootEpoch(path.join(dir, 'missing'), 12_000);
      expect(r.epoch).toBe(12_000);
      expect(r.error).not.toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
