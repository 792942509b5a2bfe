// Activity seen without a proxy (Ollama's /api/ps, TTS access-log lines) and the policy that turns
// settings and the service list into the machine's config.

import { describe, expect, it } from 'vitest';
import { ollamaUse, requestInLog } from '../../main/core/hibernation/signals.js';
import { idleConfig, planFor } from '../../main/core/hibernation/policy.js';
import { defaultSettings } from '../../main/core/settings/schema.js';
import { validateSettings } from '../../main/core/settings/store.js';
import type { ServiceEntry, ServiceStatus } from '../../main/core/contract.js';

describe('ollamaUse (/api/ps readings)', () => {
  const m = (name: string, expiresAt: string | null) => ({ name, expiresAt });
  it('a newly loaded model is use', () => {
    expect(ollamaUse([], [m('mistral:7b', '2026-01-01T00:05:00Z')])).toBe('mistral:7b was loaded');
  });
  it('expires_at moved forward (a request reset the keep-alive) is use', () => {
    expect(ollamaUse([m('a', '2026-01-01T00:05:00Z')], [m('a', '2026-01-01T00:06:00Z')])).toBe(
      'a was used (expires_at moved)',
    );
  });
  it('expires_at moved back from "forever" (a request with a finite keep_alive) is use', () => {
    expect(ollamaUse([m('a', '2318-01-01T00:00:00Z')], [m('a', '2026-01-01T00:10:00Z')])).toMatch(
      /was used/,
    );
  });
  it('no change, jitter within a second, a model leaving, or unknown times are not use', () => {
    expect(
      ollamaUse([m('a', '2026-01-01T00:05:00Z')], [m('a', '2026-01-01T00:05:00Z')]),
    ).toBeNull();
    expect(
      ollamaUse([m('a', '2026-01-01T00:05:00.000Z')], [m('a', '2026-01-01T00:05:00.900Z')]),
    ).toBeNull();
    expect(ollamaUse([m('a', '2026-01-01T00:05:00Z'), m('b', null)], [m('b', null)])).toBeNull();
    expect(ollamaUse([m('a', null)], [m('a', '2026-01-01T00:05:00Z')])).toBeNull();
    expect(ollamaUse([m('a', 'garbage')], [m('a', 'also garbage')])).toBeNull();
  });
});

describe('requestInLog (TTS/STT access lines)', () => {
  it.each([
    ['INFO:     127.0.0.1:51234 - "POST /v1/audio/speech HTTP/1.1" 200 OK', true],
    ['127.0.0.1 - - [10/Jan/2026 12:00:00] "POST /synthesize HTTP/1.1" 200 -', true],
    ['192.168.1.20 - - [10/Jan/2026 12:00:00] "POST / HTTP/1.1" 200 -', true],
    ['127.0.0.1 - - [10/Jan/2026 12:00:00] "GET /?text=Hello%20there HTTP/1.1" 200 -', true],
    ['INFO:     (\'127.0.0.1\', 51234) - "WebSocket /stream" [accepted]', true],
    // whisper-server logs no requests, only this line per transcription.
    ['Received request: speech.wav', true],
    ['INFO:     127.0.0.1:51234 - "POST /inference HTTP/1.1" 200 OK', true],
    ['INFO:     127.0.0.1:51234 - "GET /health HTTP/1.1" 200 OK', false],
    ['127.0.0.1 - - [10/Jan/2026 12:00:00] "GET /voices HTTP/1.1" 200 -', false],
    ['127.0.0.1 - - [10/Jan/2026 12:00:00] "GET /info HTTP/1.1" 200 -', false],
    ['INFO: Model loaded', false],
    ['INFO:     Uvicorn running on http://127.0.0.1:8880 (Press CTRL+C to quit)', false],
    ['the user said "POST it" loudly', false],
  ])('%s → %s', (line, expected) => {
    expect(requestInLog(line)).toBe(expected);
  });
});

describe('policy', () => {
  const entry = (id: string, status: ServiceStatus, enabled = true): ServiceEntry => ({
    id,
    name: id,
    enabled,
    status,
    port: 1,
    pid: null,
    restarts: 0,
    uptimeSeconds: 0,
    health: null,
    lastError: null,
  });
  const settings = defaultSettings(
    { platform: 'linux', hostname: 'x' },
    { hostId: '00000000-0000-0000-0000-000000000000', token: 'x'.repeat(32) },
  );

  it('defaults follow CONTRACT §4: cool stops VibeVoice, cold unloads Ollama and stops the TTS, dormant stops the rest', () => {
    const cfg = idleConfig(
      settings,
      [
        entry('ollama', 'running'),
        entry('vibevoice', 'running'),
        entry('piper', 'starting'),
        entry('mine', 'backoff'),
        entry('off', 'stopped', false),
      ],
      (id) => id === 'ollama',
    );
    expect(cfg.after).toEqual({ warm: 30_000, cool: 300_000, cold: 1_800_000, dormant: 7_200_000 });
    expect(cfg.services).toEqual([
      {
        id: 'ollama',
        stopAt: 'dormant',
        unloadAt: 'cold',
        models: true,
        canStop: true,
        reachable: true,
      },
      {
        id: 'vibevoice',
        stopAt: 'cool',
        unloadAt: null,
        models: false,
        canStop: true,
        reachable: true,
      },
      {
        id: 'piper',
        stopAt: 'cold',
        unloadAt: null,
        models: false,
        canStop: true,
        reachable: false,
      },
      {
        id: 'mine',
        stopAt: 'dormant',
        unloadAt: null,
        models: false,
        canStop: true,
        reachable: false,
      },
    ]);
  });

  it('"never" keeps a service; unloadAt means nothing without a model API; external is reachable but not ours to stop', () => {
    expect(
      planFor(entry('piper', 'running'), { stopAt: 'never', unloadAt: 'cool' }, false),
    ).toMatchObject({ stopAt: null, unloadAt: null });
    expect(planFor(entry('ollama', 'external'), undefined, true)).toMatchObject({
      stopAt: 'dormant',
      unloadAt: null,
      canStop: false,
      reachable: true,
    });
    for (const s of ['stopped', 'failed', 'disabled'] as const)
      expect(planFor(entry('x', s), undefined, false)).toMatchObject({
        canStop: false,
        reachable: false,
      });
  });

  it('the settings schema accepts the policy and names a bad value', () => {
    expect(
      validateSettings({
        ...settings,
        hibernation: { ...settings.hibernation, policy: { piper: { stopAt: 'never' } } },
      }),
    ).toBeNull();
    expect(
      validateSettings({
        ...settings,
        hibernation: { ...settings.hibernation, policy: { piper: { stopAt: 'sometimes' } } },
      }),
    ).toMatchObject({
      field: 'hibernation.policy.piper.stopAt',
    });
    expect(
      validateSettings({
        ...settings,
        hibernation: { ...settings.hibernation, preventSleep: 'yes' },
      }),
    ).toMatchObject({ field: 'hibernation.preventSleep' });
  });
});
