import { describe, expect, it } from 'vitest';
import { defaultSettings, type Settings } from '../../main/core/settings/schema.js';
import type { ServiceEntry } from '../../main/core/contract.js';
import {
  encodeTxt,
  instanceName,
  MAX_INSTANCE_BYTES,
  parseTxt,
  TXT_KEYS,
  type TxtInput,
  type TxtRecord,
} from '../../main/core/discovery/txt.js';

const ID = '3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b';

function settings(patch: Partial<Settings> = {}): Settings {
  return {
    ...defaultSettings(
      { platform: 'darwin', hostname: 'Studio' },
      { hostId: ID, token: 'x'.repeat(32) },
    ),
    ...patch,
  };
}

function svc(id: string, port: number | null, enabled = true): ServiceEntry {
  return {
    id,
    name: id,
    enabled,
    status: enabled ? 'running' : 'disabled',
    port,
    pid: null,
    restarts: 0,
    uptimeSeconds: 0,
    health: null,
    lastError: null,
  };
}

function snap(
  over: Partial<TxtInput['host']> = {},
  services: ServiceEntry[] = [],
  state: TxtInput['hibernation']['state'] = 'warm',
): TxtInput {
  return {
    host: {
      id: ID,
      name: 'Studio',
      platform: 'darwin',
      role: 'primary',
      prio: 200,
      serving: true,
      ...over,
    },
    hibernation: { state, idleSeconds: 40, next: null },
    services,
  };
}

/** What goes on the wire: one `key=value` string per entry. */
function wire(txt: TxtRecord | Record<string, string>): Buffer[] {
  return Object.entries(txt).map(([k, v]) => Buffer.from(`${k}=${v}`));
}

const GOOD: Record<string, string> = {
  v: '1',
  id: ID,
  role: 'fallback',
  prio: '100',
  serving: '0',
  state: 'cold',
};

describe('encodeTxt', () => {
  it('writes every contract key, in order, with ports of enabled services and the pair id', () => {
    const s = settings({ pairing: { ...settings().pairing, pairId: 'p-7Hq2' } });
    const txt = encodeTxt(
      snap({}, [
        svc('ollama', 11434),
        svc('vibevoice', 8880),
        svc('piper', 11402),
        svc('whisper', 11401),
        svc('custom', 9999),
      ]),
      s,
    );
    expect(txt).toEqual({
      v: '1',
      id: ID,
      role: 'primary',
      prio: '200',
      serving: '1',
      state: 'warm',
      llm: '11434',
      tts: '8880',
      tts2: '11402',
      stt: '11401',
      pair: 'p-7Hq2',
    });
    expect(Object.keys(txt)).toEqual([...TXT_KEYS]);
  });

  it('leaves out disabled services, services without a port, and pair when unpaired', () => {
    const txt = encodeTxt(
      snap(
        { serving: false, role: 'fallback', prio: 100 },
        [svc('ollama', 11434, false), svc('piper', null)],
        'dormant',
      ),
      settings(),
    );
    expect(txt).toEqual({
      v: '1',
      id: ID,
      role: 'fallback',
      prio: '100',
      serving: '0',
      state: 'dormant',
    });
  });

  it('falls back to settings only for services the supervisor does not list, and only when explicitly enabled with a port', () => {
    const s = settings({
      services: {
        ollama: { enabled: true, port: 11500 },
        vibevoice: { enabled: true },
        whisper: { port: 11401 },
        piper: { enabled: true, port: 1 },
      },
    });
    // piper is in the snapshot as disabled: the snapshot wins over settings.
    const txt = encodeTxt(snap({}, [svc('piper', 11402, false)]), s);
    expect(txt.llm).toBe('11500');
    expect(txt.tts).toBeUndefined();
    expect(txt.stt).toBeUndefined();
    expect(txt.tts2).toBeUndefined();
  });

  it('clamps prio to 0-255 and keeps every string within 255 bytes', () => {
    expect(encodeTxt(snap({ prio: 999 }), settings()).prio).toBe('255');
    expect(encodeTxt(snap({ prio: -3 }), settings()).prio).toBe('0');
    const txt = encodeTxt(
      snap(),
      settings({ pairing: { ...settings().pairing, pairId: 'é'.repeat(200) } }),
    );
    expect(txt.pair).toBeUndefined();
    for (const b of wire(txt)) expect(b.length).toBeLessThanOrEqual(255);
  });

  it('round-trips through parseTxt', () => {
    const txt = encodeTxt(
      snap({}, [svc('ollama', 11434), svc('whisper', 11401)]),
      settings({ pairing: { ...settings().pairing, pairId: 'abc' } }),
    );
    const parsed = parseTxt(wire(txt));
    expect(parsed).toEqual({
      ok: true,
      problems: [],
      txt: {
        v: 1,
        id: ID,
        role: 'primary',
        prio: 200,
        serving: true,
        state: 'warm',
        ports: { llm: 11434, stt: 11401 },
        pair: 'abc',
      },
    });
  });
});

describe('parseTxt (hostile input)', () => {
  it('accepts a minimal record and ignores unknown keys and empty strings', () => {
    const r = parseTxt([...wire(GOOD), Buffer.from('future=whatever'), Buffer.alloc(0)]);
    expect(r.ok && r.txt).toEqual({
      v: 1,
      id: ID,
      role: 'fallback',
      prio: 100,
      serving: false,
      state: 'cold',
      ports: {},
      pair: null,
    });
    expect(r.problems).toEqual([]);
  });

  it('reads keys case-insensitively and normalises the id', () => {
    const r = parseTxt(
      wire({ ...GOOD, id: ID.toUpperCase() }).map((b) =>
        Buffer.from(b.toString().replace(/^(\w+)=/, (m) => m.toUpperCase())),
      ),
    );
    expect(r.ok && r.txt.id).toBe(ID);
  });

  it.each(['v', 'id', 'role', 'prio', 'serving', 'state'])('rejects a record missing %s', (key) => {
    const { [key]: _gone, ...rest } = GOOD;
    const r = parseTxt(wire(rest));
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['missingKey']);
  });

  it.each([
    ['v', 'one'],
    ['id', 'not-a-uuid'],
    ['role', 'boss'],
    ['prio', '256'],
    ['prio', '-1'],
    ['prio', '1e2'],
    ['serving', 'yes'],
    ['state', 'asleep'],
  ])('rejects a record whose %s is %s', (key, value) => {
    const r = parseTxt(wire({ ...GOOD, [key]: value }));
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['wrongType']);
  });

  it('rejects a required key given as a boolean attribute (no "=")', () => {
    const r = parseTxt([
      ...wire({ ...GOOD, serving: '' }).filter((b) => !b.toString().startsWith('serving')),
      Buffer.from('serving'),
    ]);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['wrongType']);
  });

  it('rejects another contract version', () => {
    const r = parseTxt(wire({ ...GOOD, v: '2' }));
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['unsupportedVersion']);
  });

  it('drops a bad port or pair but keeps the host, counting each', () => {
    const r = parseTxt(
      wire({ ...GOOD, llm: '0', tts: '65536', tts2: 'abc', stt: '11401', pair: 'has space' }),
    );
    expect(r.ok && r.txt.ports).toEqual({ stt: 11401 });
    expect(r.ok && r.txt.pair).toBeNull();
    expect(r.problems).toEqual(['wrongType', 'wrongType', 'wrongType', 'wrongType']);
  });

  it('takes the first of duplicate keys (RFC 6763 §6.4) and counts the rest', () => {
    const r = parseTxt([...wire(GOOD), Buffer.from('role=primary'), Buffer.from('ROLE=primary')]);
    expect(r.ok && r.txt.role).toBe('fallback');
    expect(r.problems).toEqual(['duplicateKey', 'duplicateKey']);
  });

  it('treats non-UTF-8 values as unusable (and a later duplicate cannot replace them)', () => {
    const bad = Buffer.concat([Buffer.from('state='), Buffer.from([0xc3, 0x28])]);
    const others = wire(GOOD).filter((b) => !b.toString().startsWith('state='));
    const r = parseTxt([...others, bad, Buffer.from('state=active')]);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['nonUtf8', 'duplicateKey', 'wrongType']);

    const badPort = Buffer.concat([Buffer.from('llm='), Buffer.from([0xff, 0xfe])]);
    const r2 = parseTxt([...wire(GOOD), badPort]);
    expect(r2.ok && r2.txt.ports).toEqual({});
    expect(r2.problems).toEqual(['nonUtf8', 'wrongType']);
  });

  it('counts keys with control or non-ASCII bytes as malformed and skips them', () => {
    const r = parseTxt([
      ...wire(GOOD),
      Buffer.from('=novalue'),
      Buffer.from([0x01, 0x3d, 0x31]),
      Buffer.from('clé=1'),
    ]);
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual(['malformed', 'malformed', 'malformed']);
  });

  it('rejects oversized records: too many strings, too many bytes, or a string longer than the wire allows', () => {
    const many = [...wire(GOOD), ...Array.from({ length: 60 }, (_, i) => Buffer.from(`x${i}=1`))];
    expect(parseTxt(many)).toMatchObject({ ok: false, problems: ['oversized'] });
    const big = [...wire(GOOD), ...Array.from({ length: 6 }, () => Buffer.alloc(250, 0x61))];
    expect(parseTxt(big)).toMatchObject({ ok: false, problems: ['oversized'] });
    expect(parseTxt([...wire(GOOD), Buffer.alloc(300, 0x61)])).toMatchObject({
      ok: false,
      problems: ['oversized'],
    });
  });

  it.each([null, undefined, 'v=1', 42, {}, [1, 2], [Buffer.from('v=1'), 'id=x']])(
    'rejects data that is not a list of strings (%j)',
    (data) => {
      const r = parseTxt(data);
      expect(r.ok).toBe(false);
      expect(r.problems).toEqual(['malformed']);
    },
  );

  it('keeps hostile values out of its messages', () => {
    const r = parseTxt(wire({ ...GOOD, role: '\u0007'.repeat(5) + 'x'.repeat(100) }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason.includes('\u0007')).toBe(false);
      expect(r.reason.length).toBeLessThan(120);
    }
  });
});

describe('instanceName', () => {
  it('keeps ordinary names, including dots and parentheses', () => {
    expect(instanceName('Studio Mac')).toBe('Studio Mac');
    expect(instanceName("Mr. Smith's PC (den)")).toBe("Mr. Smith's PC (den)");
  });

  it('drops control characters, collapses whitespace, never returns empty', () => {
    expect(instanceName('  Studio\t\n Mac\u0000 ')).toBe('Studio Mac');
    expect(instanceName(' \u0007 ')).toBe('UnaMentis Server');
  });

  it('cuts on a character boundary, leaving room for a " (NN)" rename within the 63-byte label', () => {
    const name = instanceName('Küche-🎧'.repeat(10));
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_INSTANCE_BYTES);
    expect(Buffer.byteLength(`${name} (99)`)).toBeLessThanOrEqual(63);
    expect(name).not.toMatch(/\uFFFD/);
    expect('Küche-🎧'.repeat(10).startsWith(name)).toBe(true);
  });
});
