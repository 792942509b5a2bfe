import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SettingsStore, validateSettings, mergeSettings } from '../../main/core/settings/index.js';
import { defaultSettings } from '../../main/core/settings/schema.js';

const facts = { platform: 'linux' as const, hostname: 'box.lan' };
const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));

describe('settings', () => {
  it('creates defaults with a host id and token, kept across restarts, file mode 0600', () => {
    const d = dir();
    const a = SettingsStore.open({ dataDir: d, facts });
    expect(a.problems).toEqual([]);
    const first = a.store.get();
    expect(first.hostId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.role).toBe('fallback');
    const b = SettingsStore.open({ dataDir: d, facts }).store.get();
    expect(b.hostId).toBe(first.hostId);
    expect(b.api.token).toBe(first.api.token);
    if (process.platform !== 'win32')
      expect(fs.statSync(path.join(d, 'settings.json')).mode & 0o777).toBe(0o600);
  });

  it('defaults a Mac to primary', () => {
    const s = defaultSettings({ platform: 'darwin', hostname: 'mac' }, { hostId: 'x', token: 'y' });
    expect(s.role).toBe('primary');
  });

  it('moves a corrupt file aside, uses defaults, keeps the host id, and reports it', () => {
    const d = dir();
    const id = SettingsStore.open({ dataDir: d, facts }).store.get().hostId;
    const file = path.join(d, 'settings.json');
    const bad = fs.readFileSync(file, 'utf8').replace('"api"', '"api" "oops"');
    fs.writeFileSync(file, bad);
    const { store, problems } = SettingsStore.open({ dataDir: d, facts });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/not valid JSON/);
    const backups = fs.readdirSync(d).filter((f) => f.startsWith('settings.json.corrupt-'));
    expect(backups).toHaveLength(1);
    expect(fs.readFileSync(path.join(d, backups[0]!), 'utf8')).toBe(bad);
    expect(problems[0]).toContain(backups[0]);
    expect(store.get().api.port).toBe(11400);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).api.port).toBe(11400);
    // Identity survives: the iPhone and the paired host know this host by its id.
    expect(store.get().hostId).toBe(id);
  });

  it('treats a schema violation as corrupt and names the field', () => {
    const d = dir();
    fs.writeFileSync(path.join(d, 'settings.json'), JSON.stringify({ api: { port: 'eleven' } }));
    const { problems } = SettingsStore.open({ dataDir: d, facts });
    expect(problems[0]).toMatch(/api\.port must be a whole number/);
  });

  it('completes a partial file with defaults', () => {
    const d = dir();
    fs.writeFileSync(
      path.join(d, 'settings.json'),
      JSON.stringify({ displayName: 'Studio PC', api: { port: 12000 } }),
    );
    const { store, problems } = SettingsStore.open({ dataDir: d, facts });
    expect(problems).toEqual([]);
    expect(store.get().displayName).toBe('Studio PC');
    expect(store.get().api.port).toBe(12000);
    expect(store.get().api.bind).toBe('0.0.0.0');
    expect(store.get().hibernation.coolAfterSeconds).toBe(300);
  });

  it('refuses a bad update, names the field, and changes nothing on disk', () => {
    const d = dir();
    const { store } = SettingsStore.open({ dataDir: d, facts });
    const before = fs.readFileSync(store.file, 'utf8');
    const r = store.update({ hibernation: { coolAfterSeconds: 10 } });
    expect(r).toMatchObject({ ok: false, problem: { field: 'hibernation.coolAfterSeconds' } });
    expect(fs.readFileSync(store.file, 'utf8')).toBe(before);
    expect(store.update({ nope: 1 })).toMatchObject({
      ok: false,
      problem: { field: 'nope', message: 'is not a known setting' },
    });
    expect(store.update({ hostId: '00000000-0000-0000-0000-000000000000' })).toMatchObject({
      ok: false,
      problem: { field: 'hostId', message: 'is read-only' },
    });
    expect(store.update({ api: { token: 'x'.repeat(20) } })).toMatchObject({
      ok: false,
      problem: { field: 'api.token' },
    });
  });

  it('applies a good update, emits change once, and keeps the previous file as .bak', () => {
    const d = dir();
    const { store } = SettingsStore.open({ dataDir: d, facts });
    const changes: string[] = [];
    store.onChange(({ next, prev }) => changes.push(`${prev.displayName}->${next.displayName}`));
    expect(store.update({ displayName: 'Gaming PC' }).ok).toBe(true);
    expect(store.update({ displayName: 'Gaming PC' }).ok).toBe(true);
    expect(changes).toEqual(['->Gaming PC']);
    expect(JSON.parse(fs.readFileSync(path.join(d, 'settings.json.bak'), 'utf8')).displayName).toBe(
      '',
    );
  });

  it('never exposes secrets in redacted()', () => {
    const { store } = SettingsStore.open({ dataDir: dir(), facts });
    const json = JSON.stringify(store.redacted());
    expect(json).not.toContain(store.get().api.token);
    expect(json).not.toContain('"token"');
  });

  it('validates threshold order and merges without prototype pollution', () => {
    const s = defaultSettings(facts, {
      hostId: '11111111-1111-1111-1111-111111111111',
      token: 't'.repeat(20),
    });
    expect(validateSettings(s)).toBeNull();
    const merged = mergeSettings(s, JSON.parse('{"__proto__": {"polluted": true}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(validateSettings(merged)).toBeNull();
  });
});

describe('settings on a folder that cannot be written', () => {
  it('keeps running in memory, says so, and refuses to claim a save', () => {
    const d = dir();
    fs.mkdirSync(path.join(d, 'settings.json')); // a directory where the file should be: every write fails
    const { store, problems } = SettingsStore.open({ dataDir: d, facts });
    expect(problems.join('\n')).toMatch(/cannot be saved|could not/i);
    expect(store.persistent).toBe(false);
    expect(store.get().api.port).toBe(11400);
    expect(store.update({ displayName: 'x' })).toMatchObject({
      ok: false,
      problem: { field: '(file)' },
    });
    expect(store.get().displayName).toBe('');
  });
});

describe('data folder lock', () => {
  it('refuses a second server on the same folder and takes over a stale lock', async () => {
    const { lockDataDir, DataDirLockedError } = await import('../../main/core/util/dir-lock.js');
    const d = dir();
    const release = lockDataDir(d, process.pid);
    expect(() => lockDataDir(d, process.pid + 1)).toThrow(DataDirLockedError);
    release();
    // A lock left by a dead process (pid far beyond pid_max) is stale.
    fs.writeFileSync(path.join(d, 'server.lock'), '99999999');
    const again = lockDataDir(d, process.pid);
    again();
    expect(fs.existsSync(path.join(d, 'server.lock'))).toBe(false);
  });
});

describe('validation messages say what is expected in words', () => {
  const facts = { platform: 'linux' as const, hostname: 'box' };
  const withPatch = (patch: unknown) =>
    validateSettings(
      mergeSettings(
        defaultSettings(facts, {
          hostId: '11111111-1111-1111-1111-111111111111',
          token: 't'.repeat(20),
        }),
        patch,
      ),
    );
  it('names the expected kind of value and the limits, not Ajv\'s "must be number" or "<="', () => {
    expect(withPatch({ api: { port: 'eleven' } })).toEqual({
      field: 'api.port',
      message: 'must be a whole number',
    });
    expect(withPatch({ api: { port: 70000 } })).toEqual({
      field: 'api.port',
      message: 'must be at most 65535',
    });
    expect(withPatch({ serveOnLan: 'yes' })).toEqual({
      field: 'serveOnLan',
      message: 'must be true or false',
    });
    expect(withPatch({ models: { preload: 'mistral' } })?.message).toBe('must be a list');
    for (const p of [
      { api: { port: 'x' } },
      { api: { port: -1 } },
      { hibernation: { warmAfterSeconds: 'soon' } },
    ]) {
      expect(withPatch(p)?.message).not.toMatch(
        /must be (number|integer|string|boolean|array)$|[<>]=/,
      );
    }
  });
  // The definition (schema.ts) writes enums, nullable values and keyed maps the way these messages need.
  it('an enum, a nullable number and a map key are named as clearly as the hand-written schema named them', () => {
    expect(withPatch({ role: 'boss' })).toEqual({
      field: 'role',
      message: 'must be one of primary, fallback',
    });
    expect(withPatch({ frontDoor: { allowFrom: 'all' } })).toEqual({
      field: 'frontDoor.allowFrom',
      message: 'must be one of lan, any',
    });
    expect(withPatch({ prio: 'high' })).toEqual({
      field: 'prio',
      message: 'must be a whole number or empty',
    });
    expect(withPatch({ prio: 300 })).toEqual({ field: 'prio', message: 'must be at most 255' });
    expect(withPatch({ services: { 'bad id': { enabled: true } } })).toMatchObject({
      field: 'services',
      message: expect.stringMatching(/^is not in the expected form/),
    });
    expect(withPatch({ services: { ollama: { colour: 'red' } } })).toEqual({
      field: 'services.ollama.colour',
      message: 'is not a known setting',
    });
    expect(withPatch({ hibernation: { policy: { ollama: { stopAt: 'later' } } } })).toEqual({
      field: 'hibernation.policy.ollama.stopAt',
      message: 'must be one of warm, cool, cold, dormant, never',
    });
  });
});
