// The front door's pure parts: the hold/refuse/forward verdict, wake?wait=1 readiness, the LAN
// filter, the model sniffing and learned preload, the minute counter, and the placeholders that
// put a user's own command behind the front door.

import { describe, expect, it } from 'vitest';
import {
  readiness,
  verdict,
  type ServiceView,
  type VerdictInput,
} from '../../main/core/frontdoor/verdict.js';
import { allowed, bearerOf, isLanAddress } from '../../main/core/frontdoor/lan.js';
import { modelInBody, preloadList, recordUse } from '../../main/core/frontdoor/models.js';
import { MinuteCounter } from '../../main/core/frontdoor/counter.js';
import {
  buildLaunch,
  fillPlaceholders,
  resolveSpec,
  takesAddress,
} from '../../main/core/services/command.js';
import { defaultSettings } from '../../main/core/settings/schema.js';
import { encodeTxt } from '../../main/core/discovery/txt.js';
import type { FrontDoorPort, ServiceEntry } from '../../main/core/contract.js';

const svc = (patch: Partial<ServiceView> = {}): ServiceView => ({
  id: 'vibevoice',
  name: 'VibeVoice',
  enabled: true,
  status: 'running',
  healthOk: true,
  lastError: null,
  ...patch,
});
const T0 = 1_000_000;
const input = (patch: Partial<VerdictInput> = {}): VerdictInput => ({
  service: svc(),
  stoppedByHibernation: false,
  wakeIssued: false,
  held: 0,
  limits: { maxHeld: 2, maxHoldMs: 90_000 },
  now: T0,
  heldSince: null,
  ...patch,
});

describe('verdict', () => {
  it('forwards to a running, healthy service (ours or external)', () => {
    expect(verdict(input())).toEqual({ type: 'forward' });
    expect(verdict(input({ service: svc({ status: 'external' }) }))).toEqual({ type: 'forward' });
  });

  it('holds a request for a service hibernation stopped, until the hold bound', () => {
    const v = verdict(
      input({ service: svc({ status: 'stopped', healthOk: false }), stoppedByHibernation: true }),
    );
    expect(v).toEqual({ type: 'hold', why: 'VibeVoice is waking up', until: T0 + 90_000 });
  });

  it('keeps holding while it starts, then refuses with Retry-After once the bound passed', () => {
    const starting = svc({ status: 'starting', healthOk: false });
    expect(verdict(input({ service: starting, heldSince: T0, now: T0 + 89_999 })).type).toBe(
      'hold',
    );
    const late = verdict(input({ service: starting, heldSince: T0, now: T0 + 90_000 }));
    expect(late).toMatchObject({ type: 'refuse', status: 503, retryAfterSeconds: 5 });
    expect(late.type === 'refuse' && late.message).toMatch(
      /VibeVoice is starting and was not ready within 90 s/,
    );
  });

  it('refuses a new request once the queue is full, but not one already held', () => {
    const stopped = svc({ status: 'stopped', healthOk: false });
    const full = verdict(input({ service: stopped, stoppedByHibernation: true, held: 2 }));
    expect(full).toMatchObject({ type: 'refuse', retryAfterSeconds: 5 });
    expect(full.type === 'refuse' && full.message).toMatch(/2 requests are already waiting/);
    expect(
      verdict(input({ service: stopped, wakeIssued: true, held: 2, heldSince: T0 })).type,
    ).toBe('hold');
  });

  it('counts a request held again after a refused connect against the queue bound', () => {
    const starting = svc({ status: 'starting', healthOk: false });
    // Held since T0, forwarded, refused, and asking again while it is not in the queue.
    const again = input({
      service: starting,
      held: 2,
      heldSince: T0,
      now: T0 + 1000,
      queued: false,
    });
    expect(verdict(again)).toMatchObject({ type: 'refuse', retryAfterSeconds: 5 });
    expect(verdict({ ...again, held: 1 })).toMatchObject({ type: 'hold', until: T0 + 90_000 });
  });

  it('answers at once, without Retry-After, for what cannot start: failed, disabled, stopped by the user', () => {
    const failed = verdict(
      input({
        service: svc({
          status: 'failed',
          healthOk: false,
          lastError: 'Python (for Piper) was not found',
        }),
      }),
    );
    expect(failed).toEqual({
      type: 'refuse',
      status: 503,
      code: 'service_unavailable',
      message: 'VibeVoice cannot start: Python (for Piper) was not found',
      retryAfterSeconds: null,
    });
    expect(verdict(input({ service: svc({ enabled: false, status: 'disabled' }) }))).toMatchObject({
      type: 'refuse',
      retryAfterSeconds: null,
    });
    const user = verdict(input({ service: svc({ status: 'stopped', healthOk: false }) }));
    expect(user.type === 'refuse' && user.message).toMatch(/stopped on this server/);
  });

  it('holds through backoff and an unhealthy spell (it restarts by itself)', () => {
    expect(verdict(input({ service: svc({ status: 'backoff', healthOk: false }) })).type).toBe(
      'hold',
    );
    expect(verdict(input({ service: svc({ status: 'unhealthy', healthOk: false }) })).type).toBe(
      'hold',
    );
  });
});

describe('readiness (POST /api/wake?wait=1)', () => {
  it('is stuck, with the reasons, when every service that is not ready failed', () => {
    const r = readiness(
      [
        svc({
          id: 'ollama',
          name: 'Ollama',
          status: 'failed',
          healthOk: false,
          lastError: 'Ollama was not found',
        }),
        svc(),
      ],
      () => false,
      false,
    );
    expect(r).toEqual({
      type: 'stuck',
      problems: [{ id: 'ollama', message: 'Ollama cannot start: Ollama was not found' }],
    });
  });
  it('is pending while one still starts, and ready when all are', () => {
    expect(
      readiness(
        [
          svc({ status: 'failed', healthOk: false }),
          svc({ id: 'piper', status: 'starting', healthOk: false }),
        ],
        () => false,
        false,
      ),
    ).toEqual({ type: 'pending', ids: ['piper'] });
    expect(
      readiness([svc(), svc({ id: 'x', enabled: false, status: 'disabled' })], () => false, false),
    ).toEqual({ type: 'ready' });
  });
});

describe('LAN filter', () => {
  it.each([
    ['127.0.0.1', true],
    ['::1', true],
    ['::ffff:192.168.1.20', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.0.9', true],
    ['169.254.3.4', true],
    ['fe80::1%eth0', true],
    ['fd12:3456::1', true],
    ['fc00::1', true],
    ['8.8.8.8', false],
    ['192.0.2.2', false],
    ['2001:db8::1', false],
    ['::ffff:8.8.8.8', false],
    ['', false],
  ])('%s → %s', (addr, lan) => {
    expect(isLanAddress(addr)).toBe(lan);
  });
  it('lets everyone in with allowFrom any, and nobody without an address', () => {
    expect(allowed('8.8.8.8', 'any')).toBe(true);
    expect(allowed(undefined, 'lan')).toBe(false);
  });
  it('reads a bearer key', () => {
    expect(bearerOf('Bearer abc123')).toBe('abc123');
    expect(bearerOf('bearer  abc ')).toBe('abc');
    expect(bearerOf('Basic abc')).toBeNull();
    expect(bearerOf(undefined)).toBeNull();
  });
});

describe('learned preload', () => {
  it('finds the model in the first bytes of an OpenAI or Ollama body', () => {
    expect(modelInBody('{"model": "qwen2.5:14b-instruct", "messages": [')).toBe(
      'qwen2.5:14b-instruct',
    );
    expect(modelInBody('{"messages":[{"role":"user","content":"hi"}],"model":"llama3.2:1b"}')).toBe(
      'llama3.2:1b',
    );
    expect(modelInBody('{"mod')).toBeNull();
    expect(modelInBody('{"model": "a b"}')).toBeNull();
  });
  it('keeps the most recent first and falls back to the configured list', () => {
    let used = recordUse([], 'qwen2.5:14b-instruct', '2026-01-01T00:00:00Z');
    used = recordUse(used, 'llama3.2:1b', '2026-01-01T00:01:00Z');
    used = recordUse(used, 'qwen2.5:14b-instruct', '2026-01-01T00:02:00Z');
    expect(used.map((m) => [m.name, m.count])).toEqual([
      ['qwen2.5:14b-instruct', 2],
      ['llama3.2:1b', 1],
    ]);
    expect(preloadList(used, 1, ['mistral:7b'])).toEqual(['qwen2.5:14b-instruct']);
    expect(preloadList(used, 2, ['mistral:7b'])).toEqual(['qwen2.5:14b-instruct', 'llama3.2:1b']);
    expect(preloadList([], 1, ['mistral:7b'])).toEqual(['mistral:7b']);
    expect(preloadList(used, 0, ['mistral:7b'])).toEqual(['mistral:7b']);
  });
});

describe('minute counter', () => {
  it('counts the last 60 s and forgets older seconds', () => {
    const c = new MinuteCounter();
    c.add(T0);
    c.add(T0 + 500);
    c.add(T0 + 30_000);
    expect(c.total(T0 + 30_000)).toBe(3);
    expect(c.total(T0 + 60_500)).toBe(1);
    expect(c.total(T0 + 200_000)).toBe(0);
  });
});

describe('placement and placeholders', () => {
  const host = { platform: 'linux' as const, env: { PATH: '/usr/bin' }, home: '/home/u' };
  const probe = { isFile: () => true, isDir: () => true, isExecutable: () => true };
  const base = defaultSettings(
    { platform: 'linux', hostname: 'h' },
    { hostId: '00000000-0000-0000-0000-000000000000', token: 'x'.repeat(32) },
  );

  it('fills {host} and {port} in a user\u2019s args and env', () => {
    expect(fillPlaceholders('--listen={host}:{port}', '127.0.0.1', 40123)).toBe(
      '--listen=127.0.0.1:40123',
    );
    const s = {
      ...base,
      services: {
        piper: {
          command: '/usr/bin/python3',
          args: ['-m', 'piper.http_server', '--host', '{host}', '--port', '{port}'],
          env: { ADDR: '{host}:{port}' },
        },
      },
    };
    const spec = resolveSpec('piper', s, host, { host: '127.0.0.1', port: 40123 });
    expect(spec.port).toBe(11402);
    expect(spec.listenPort).toBe(40123);
    const r = buildLaunch(spec, s.services.piper, host, probe);
    expect(r.ok && r.plan.args).toEqual([
      '-m',
      'piper.http_server',
      '--host',
      '127.0.0.1',
      '--port',
      '40123',
    ]);
    expect(r.ok && r.plan.env.ADDR).toBe('127.0.0.1:40123');
  });

  it('puts a preset on the internal address (Ollama through OLLAMA_HOST)', () => {
    const spec = resolveSpec('ollama', base, host, { host: '127.0.0.1', port: 40999 });
    const r = buildLaunch(spec, {}, host, probe);
    expect(r.ok && r.plan.env.OLLAMA_HOST).toBe('127.0.0.1:40999');
    expect(spec.bindHost).toBe('127.0.0.1');
  });

  it('knows which commands take the address: presets, {port} overrides; not fixed-port overrides', () => {
    expect(takesAddress('piper', base)).toBe(true);
    expect(takesAddress('ollama', { services: { ollama: { args: ['serve'] } } })).toBe(true);
    expect(
      takesAddress('ollama', { services: { ollama: { env: { OLLAMA_HOST: '0.0.0.0:11434' } } } }),
    ).toBe(false);
    expect(takesAddress('piper', { services: { piper: { args: ['--port', '11402'] } } })).toBe(
      false,
    );
    expect(
      takesAddress('mine', {
        services: { mine: { command: 'x', args: ['--port', '{port}'], port: 9000 } },
      }),
    ).toBe(true);
    expect(takesAddress('mine', { services: { mine: { command: 'x', port: 9000 } } })).toBe(false);
  });
});

describe('advertising', () => {
  it('never advertises a port the LAN cannot reach', () => {
    const entry = (id: string, port: number): ServiceEntry => ({
      id,
      name: id,
      enabled: true,
      status: 'running',
      port,
      pid: 1,
      restarts: 0,
      uptimeSeconds: 1,
      health: { ok: true, latencyMs: 1 },
      lastError: null,
    });
    const door = (id: string, port: number, lan: boolean): FrontDoorPort => ({
      id,
      name: id,
      port,
      listening: lan ? 'all' : 'loopback',
      addresses: [],
      behind: 'ours',
      lan,
      upstream: null,
      requestsLastMinute: 0,
      held: 0,
      heldTotal: 0,
      note: null,
    });
    const snap = {
      host: {
        id: 'h',
        name: 'n',
        platform: 'linux',
        role: 'fallback' as const,
        prio: 100,
        serving: true,
      },
      hibernation: { state: 'active' as const, idleSeconds: 0, next: null },
      services: [entry('ollama', 11434), entry('piper', 11402)],
      frontDoor: {
        enabled: true,
        allowFrom: 'lan' as const,
        llmKeyRequired: false,
        ports: [door('ollama', 11434, false), door('piper', 11402, true)],
      },
    };
    const txt = encodeTxt(snap, { services: {}, pairing: { pairId: null } } as never);
    expect(txt.llm).toBeUndefined();
    expect(txt.tts2).toBe('11402');
  });
});

describe('verdict while hibernation stops the service', () => {
  it('holds a request for a service that still answers but is being stopped (draining)', () => {
    const v = verdict(input({ draining: true }));
    expect(v).toMatchObject({ type: 'hold', why: 'VibeVoice is waking up' });
    expect(verdict(input({ draining: false })).type).toBe('forward');
  });
});
