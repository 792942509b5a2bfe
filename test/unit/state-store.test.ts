import { describe, expect, it } from 'vitest';
import { StateStore, type Sections } from '../../main/core/state/store.js';

const initial: Sections = {
  host: { id: 'a', name: 'A', platform: 'linux', role: 'fallback', prio: 100, serving: true },
  hibernation: { state: 'active', idleSeconds: 0, next: null },
  services: [],
  gpu: { sampledAt: null, gpus: [], models: [] },
  peers: [],
};

describe('StateStore', () => {
  it('coalesces writes in one tick into one change, and ignores no-op writes', async () => {
    const store = new StateStore(initial);
    const seen: string[] = [];
    store.onChange((s) => seen.push(`${s.host.name}/${s.hibernation.state}`));
    store.update('host', (h) => ({ ...h, name: 'B' }));
    store.update('hibernation', (h) => ({ ...h, state: 'warm' }));
    await Promise.resolve();
    expect(seen).toEqual(['B/warm']);
    store.set('host', store.get('host'));
    await Promise.resolve();
    expect(seen).toHaveLength(1);
  });

  it('returns copies: a caller cannot mutate the state behind its back', () => {
    const store = new StateStore(initial);
    const snap = store.snapshot();
    snap.host.name = 'hacked';
    expect(store.snapshot().host.name).toBe('A');
  });

  it('deduplicates repeated notices and bounds the list', () => {
    const store = new StateStore(initial);
    for (let i = 0; i < 5; i++)
      store.notify({ level: 'error', code: 'crash', message: 'ollama crashed' });
    expect(store.snapshot().notices).toHaveLength(1);
    for (let i = 0; i < 80; i++) store.notify({ level: 'info', code: 'n', message: `n${i}` });
    expect(store.snapshot().notices).toHaveLength(50);
    const last = store.snapshot().notices.at(-1)!;
    expect(store.dismissNotice(last.id)).toBe(true);
    expect(store.snapshot().notices).toHaveLength(49);
  });
});
