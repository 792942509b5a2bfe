import { describe, expect, it } from 'vitest';
import type { Notice, Peer, Snapshot } from '../../main/core/contract.js';
import { fromNotice, fromSnapshots, watchNotifications, type DesktopNotification } from '../../main/core/notifications/index.js';
import { StateStore } from '../../main/core/state/store.js';

const ALL = { serviceFailed: true, failover: true, pairing: true, modelTooBig: true };
const notice = (code: string, message: string): Notice => ({ id: 'n', level: 'error', code, message, at: '2026-01-01T00:00:00Z' });

function snap(serving: boolean, peers: Partial<Peer>[] = []): Snapshot {
  return {
    v: 1,
    host: { id: 'me', name: 'Gaming PC', platform: 'win32', role: 'fallback', prio: 100, serving },
    hibernation: { state: 'active', idleSeconds: 0, next: null },
    services: [],
    gpu: { sampledAt: null, gpus: [], models: [] },
    peers: peers.map((p) => ({ id: 'mac', name: 'Studio Mac', role: 'primary', prio: 200, serving: false, state: 'active', lastSeenSeconds: 1, paired: true, ...p })),
    notices: [],
  };
}

describe('which events notify', () => {
  it('maps notices by code, honouring each toggle', () => {
    expect(fromNotice(notice('service_failed', 'Ollama: port 11434 is held by nginx'), ALL)).toMatchObject({ kind: 'serviceFailed', title: 'Ollama failed', section: 'services' });
    expect(fromNotice(notice('model_too_big', 'qwen2.5:32b is too big'), ALL)).toMatchObject({ kind: 'modelTooBig', section: 'gpu' });
    expect(fromNotice(notice('pairing_request', 'Studio Mac wants to pair. Code 482 913'), ALL)).toMatchObject({ kind: 'pairing', title: 'Pairing code 482 913' });
    expect(fromNotice(notice('service_failed', 'x: y'), { ...ALL, serviceFailed: false })).toBeNull();
    expect(fromNotice(notice('settings_reset', 'whatever'), ALL)).toBeNull();
  });

  it('reports a failover when this host starts serving because the primary vanished', () => {
    const before = snap(false, [{ serving: true }]);
    const after = snap(true, []);
    const [n] = fromSnapshots(before, after, ALL);
    expect(n).toMatchObject({ kind: 'failover', title: 'This computer now serves the iPhone' });
    expect(n!.body).toBe('Studio Mac stopped answering; Gaming PC took over.');
  });

  it('reports a failback and a graceful handoff, but nothing unpaired, unchanged or turned off', () => {
    const fb = fromSnapshots(snap(true, [{ serving: false }]), snap(false, [{ serving: true }]), ALL);
    expect(fb[0]).toMatchObject({ title: 'Studio Mac now serves the iPhone' });
    const handoff = fromSnapshots(snap(false, [{ serving: true }]), snap(true, [{ serving: false, lastSeenSeconds: 0 }]), ALL);
    expect(handoff[0]!.body).toBe('Studio Mac handed over to Gaming PC.');
    expect(fromSnapshots(snap(false), snap(true), ALL)).toEqual([]);
    expect(fromSnapshots(null, snap(true, [{}]), ALL)).toEqual([]);
    expect(fromSnapshots(snap(true, [{}]), snap(true, [{}]), ALL)).toEqual([]);
    expect(fromSnapshots(snap(false, [{ serving: true }]), snap(true, []), { ...ALL, failover: false })).toEqual([]);
  });

  it('watches a store: one notification per event, repeats suppressed, settings read live', async () => {
    const base = snap(false, [{ serving: true }]);
    const { notices: _n, v: _v, ...sections } = base;
    const store = new StateStore(sections);
    let prefs = { ...ALL };
    let t = 0;
    const got: DesktopNotification[] = [];
    const stop = watchNotifications({ store, settings: { get: () => ({ notifications: prefs }) as never }, sink: (n) => got.push(n), now: () => t });
    store.notify({ level: 'error', code: 'service_failed', message: 'Piper: crashed 5 times in 60 s' });
    store.notify({ level: 'error', code: 'service_failed', message: 'Piper: crashed 5 times in 60 s' });
    t = 61_000;
    store.notify({ level: 'error', code: 'service_failed', message: 'Piper: crashed 5 times in 60 s' });
    prefs = { ...ALL, modelTooBig: false };
    store.notify({ level: 'warning', code: 'model_too_big', message: 'too big' });
    store.update('host', (h) => ({ ...h, serving: true }));
    store.update('peers', () => []);
    await new Promise((r) => setTimeout(r, 0));
    stop();
    store.notify({ level: 'error', code: 'service_failed', message: 'Ollama: gone' });
    expect(got.map((n) => n.title)).toEqual(['Piper failed', 'Piper failed', 'This computer now serves the iPhone']);
  });
});
