// SettingsStore.view(): the no-copy read path for hot code. It must be the current settings, shared
// between calls until a change, and impossible to mutate (so one reader cannot corrupt the others).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SettingsStore } from '../../main/core/settings/index.js';

const facts = { platform: 'linux' as const, hostname: 'box.lan' };
const open = () =>
  SettingsStore.open({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'settings-view-')), facts })
    .store;

describe('settings view', () => {
  it('is the same object until a change, and equals get()', () => {
    const s = open();
    const a = s.view();
    expect(s.view()).toBe(a);
    expect(a).toEqual(s.get());
  });

  it('is deep-frozen: writes throw and nothing changes', () => {
    const s = open();
    const v = s.view() as unknown as {
      gpu: { activeIntervalSeconds: number };
      pairing: { peers: unknown[] };
    };
    expect(() => {
      v.gpu.activeIntervalSeconds = 99;
    }).toThrow(TypeError);
    expect(() => v.pairing.peers.push({})).toThrow(TypeError);
    expect(s.get().gpu.activeIntervalSeconds).toBe(2);
    expect(s.get().pairing.peers).toEqual([]);
  });

  it('follows changes; an older view keeps what it was', () => {
    const s = open();
    const before = s.view();
    expect(s.update({ gpu: { activeIntervalSeconds: 5 } }).ok).toBe(true);
    const after = s.view();
    expect(after).not.toBe(before);
    expect(after.gpu.activeIntervalSeconds).toBe(5);
    expect(before.gpu.activeIntervalSeconds).toBe(2);
    // A no-op update keeps the same view.
    expect(s.update({ gpu: { activeIntervalSeconds: 5 } }).ok).toBe(true);
    expect(s.view()).toBe(after);
  });

  it('leaves get() a private, mutable copy', () => {
    const s = open();
    const copy = s.get();
    copy.gpu.activeIntervalSeconds = 42;
    expect(s.view().gpu.activeIntervalSeconds).toBe(2);
    expect(Object.isFrozen(s.get())).toBe(false);
  });
});
