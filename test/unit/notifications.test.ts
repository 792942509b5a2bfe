import { describe, expect, it } from 'vitest';
import type { Notice } from '../../main/core/contract.js';
import {
  fromNotice,
  fromPairingRequest,
  watchNotifications,
  type DesktopNotification,
  type PairingRequest,
} from '../../main/core/notifications/index.js';
import { StateStore } from '../../main/core/state/store.js';
import { Emitter } from '../../main/core/util/emitter.js';

const ALL = { serviceFailed: true, failover: true, pairing: true, modelTooBig: true };
const notice = (code: string, message: string): Notice => ({
  id: 'n',
  level: 'error',
  code,
  message,
  at: '2026-01-01T00:00:00Z',
});

describe('which events notify', () => {
  it('maps notices by code, honouring each toggle', () => {
    expect(
      fromNotice(notice('service_failed', 'Ollama: port 11434 is held by nginx'), ALL),
    ).toMatchObject({ kind: 'serviceFailed', title: 'Ollama failed', section: 'services' });
    expect(fromNotice(notice('model_too_big', 'qwen2.5:32b is too big'), ALL)).toMatchObject({
      kind: 'modelTooBig',
      section: 'gpu',
    });
    expect(
      fromNotice(
        notice('pairing_serving', 'Gaming PC now serves the iPhone (Studio Mac went quiet).'),
        ALL,
      ),
    ).toMatchObject({
      kind: 'failover',
      body: 'Gaming PC now serves the iPhone (Studio Mac went quiet).',
    });
    expect(
      fromNotice(notice('pairing_not_serving', 'Gaming PC no longer serves'), {
        ...ALL,
        failover: false,
      }),
    ).toBeNull();
    expect(
      fromNotice(notice('service_failed', 'x: y'), { ...ALL, serviceFailed: false }),
    ).toBeNull();
    // Not installed: the click opens the setup view, which installs it (issue 18).
    expect(
      fromNotice(
        notice('service_failed', 'Ollama: Ollama was not found (looked on PATH for ollama …)'),
        ALL,
      ),
    ).toMatchObject({ title: 'Ollama is not installed', section: 'setup' });
    expect(
      fromNotice(
        notice(
          'service_failed',
          'Piper: Piper is not installed for the Python at /usr/bin/python3 …',
        ),
        ALL,
      ),
    ).toMatchObject({ section: 'setup' });
    expect(fromNotice(notice('setup_needed', 'Set up this computer …'), ALL)).toMatchObject({
      title: 'Finish setting up UnaMentis Server',
      section: 'setup',
    });
    expect(
      fromNotice(notice('setup_needed', 'Set up this computer …'), {
        ...ALL,
        serviceFailed: false,
      }),
    ).toBeNull();
    expect(fromNotice(notice('model_too_big', 'x'), { ...ALL, modelTooBig: false })).toBeNull();
    // The request notice has no code; the request itself brings it.
    expect(fromNotice(notice('pairing_request', 'Studio Mac asks to pair'), ALL)).toBeNull();
    expect(fromNotice(notice('settings_reset', 'whatever'), ALL)).toBeNull();
  });

  it('a pairing request notifies with its code, unless turned off', () => {
    const r: PairingRequest = {
      code: '482913',
      fromId: 'mac',
      fromName: 'Studio Mac',
      address: '192.168.1.20',
    };
    const n = fromPairingRequest(r, ALL)!;
    expect(n.title).toBe('Pairing code 482 913');
    expect(n.body).toContain('Studio Mac (192.168.1.20)');
    expect(n.section).toBe('pairing');
    expect(fromPairingRequest(r, { ...ALL, pairing: false })).toBeNull();
  });

  it('watches the store and pairing: one notification per event, repeats suppressed, settings read live', () => {
    const store = new StateStore({
      host: { id: 'me', name: 'PC', platform: 'linux', role: 'fallback', prio: 100, serving: true },
      hibernation: { state: 'active', idleSeconds: 0, next: null },
      services: [],
      gpu: { sampledAt: null, gpus: [], models: [] },
      peers: [],
    });
    const requests = new Emitter<{ r: PairingRequest }>();
    let prefs = { ...ALL };
    let t = 0;
    const got: DesktopNotification[] = [];
    const stop = watchNotifications({
      store,
      pairingRequests: (l) => requests.on('r', l),
      settings: { get: () => ({ notifications: prefs }) as never },
      sink: (n) => got.push(n),
      now: () => t,
    });
    store.notify({
      level: 'error',
      code: 'service_failed',
      message: 'Piper: crashed 5 times in 60 s',
    });
    store.notify({
      level: 'error',
      code: 'service_failed',
      message: 'Piper: crashed 5 times in 60 s',
    });
    t = 61_000;
    store.notify({
      level: 'error',
      code: 'service_failed',
      message: 'Piper: crashed 5 times in 60 s',
    });
    requests.emit('r', { code: '123456', fromId: 'mac', fromName: 'Mac', address: '10.0.0.2' });
    prefs = { ...ALL, modelTooBig: false };
    store.notify({ level: 'warning', code: 'model_too_big', message: 'too big' });
    stop();
    store.notify({ level: 'error', code: 'service_failed', message: 'Ollama: gone' });
    requests.emit('r', { code: '654321', fromId: 'mac', fromName: 'Mac', address: '10.0.0.2' });
    expect(got.map((n) => n.title)).toEqual([
      'Piper failed',
      'Piper failed',
      'Pairing code 123 456',
    ]);
  });
});
