import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../main/core/contract.js';
import {
  buildTrayMenu,
  trayIconState,
  trayTooltip,
  TOOLTIP_MAX,
  type MenuItem,
} from '../../main/core/tray-menu/menu-model.js';

function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    v: 1,
    host: {
      id: 'h',
      name: 'Studio Mac',
      platform: 'darwin',
      role: 'primary',
      prio: 200,
      serving: true,
    },
    hibernation: { state: 'warm', idleSeconds: 42, next: { state: 'cool', inSeconds: 258 } },
    services: [
      {
        id: 'ollama',
        name: 'Ollama',
        enabled: true,
        status: 'running',
        port: 11434,
        pid: 42,
        restarts: 0,
        uptimeSeconds: 10,
        health: { ok: true, latencyMs: 3 },
        lastError: null,
      },
      {
        id: 'piper',
        name: 'Piper',
        enabled: true,
        status: 'stopped',
        port: 11402,
        pid: null,
        restarts: 0,
        uptimeSeconds: 0,
        health: null,
        lastError: null,
      },
    ],
    gpu: {
      sampledAt: null,
      gpus: [
        {
          name: 'RTX 3060',
          vendor: 'NVIDIA',
          vramTotalMB: 12288,
          vramUsedMB: 7900,
          unified: false,
        },
      ],
      models: [{ name: 'mistral:7b', service: 'ollama', vramMB: 5600 }],
    },
    peers: [],
    notices: [],
    ...over,
  };
}

const labels = (items: MenuItem[]): string[] =>
  items.flatMap((i) =>
    i.type === 'separator'
      ? ['---']
      : i.type === 'submenu'
        ? [i.label, ...labels(i.items).map((l) => `  ${l}`)]
        : [i.label],
  );

describe('tray menu model', () => {
  it('shows host, role, serving, state with time to next, VRAM with models, services, and the fixed actions', () => {
    const l = labels(buildTrayMenu(snapshot(), { startAtLogin: true }));
    expect(l[0]).toBe('Studio Mac — Primary');
    expect(l).toContain('Serving the iPhone');
    expect(l).toContain('State: Warm · cool in 4 min');
    expect(l).toContain('VRAM: 7.7 GB of 12.0 GB');
    expect(l).toContain('  mistral:7b: 5.5 GB');
    expect(l).toContain('Ollama: running');
    expect(l).toContain('Start all');
    expect(l).toContain('Pair with another computer…');
    expect(l.at(-1)).toBe('Quit UnaMentis Server');
  });

  it('enables per-service actions by status and maps them to core commands', () => {
    const menu = buildTrayMenu(snapshot(), { startAtLogin: false });
    const piper = menu.find((i) => i.type === 'submenu' && i.label.startsWith('Piper')) as Extract<
      MenuItem,
      { type: 'submenu' }
    >;
    const start = piper.items.find((i) => i.type === 'action' && i.label === 'Start') as Extract<
      MenuItem,
      { type: 'action' }
    >;
    const stop = piper.items.find((i) => i.type === 'action' && i.label === 'Stop') as Extract<
      MenuItem,
      { type: 'action' }
    >;
    expect(start.enabled).toBe(true);
    expect(stop.enabled).toBe(false);
    expect(start.action).toEqual({
      kind: 'command',
      command: { type: 'service.start', id: 'piper' },
    });
    const login = menu.find((i) => i.type === 'checkbox' && i.label === 'Start at login');
    expect(login).toMatchObject({ checked: false, action: { kind: 'toggleStartAtLogin' } });
  });

  it('offers take-over for an external service and shows a GPU error instead of VRAM', () => {
    const s = snapshot({
      gpu: { sampledAt: null, gpus: [], models: [], error: 'unavailable: nvidia-smi timed out' },
    });
    s.services[0]!.status = 'external';
    const l = labels(buildTrayMenu(s, { startAtLogin: false }));
    expect(l).toContain('  Take over');
    expect(l).toContain('GPU: unavailable: nvidia-smi timed out');
  });

  it('picks the icon: error beats paused beats depth beats serving', () => {
    const s = snapshot();
    expect(trayIconState(s, { startAtLogin: false })).toBe('serving');
    expect(
      trayIconState({ ...s, host: { ...s.host, serving: false } }, { startAtLogin: false }),
    ).toBe('active');
    expect(
      trayIconState(
        { ...s, hibernation: { ...s.hibernation, state: 'cold' } },
        { startAtLogin: false },
      ),
    ).toBe('cool');
    expect(
      trayIconState(
        { ...s, hibernation: { ...s.hibernation, state: 'dormant' } },
        { startAtLogin: false },
      ),
    ).toBe('dormant');
    expect(trayIconState(s, { startAtLogin: false, paused: true })).toBe('paused');
    s.services[1]!.status = 'failed';
    expect(trayIconState(s, { startAtLogin: false, paused: true })).toBe('error');
    expect(trayTooltip(s)).toContain('1 service failed');
  });

  const find = (items: MenuItem[], label: string | RegExp): MenuItem | undefined =>
    items.find(
      (i) =>
        i.type !== 'separator' &&
        (typeof label === 'string' ? i.label === label : label.test(i.label)),
    );

  it('counts the next step down between snapshots, and not while kept awake', () => {
    const l = labels(buildTrayMenu(snapshot(), { startAtLogin: false, elapsedSeconds: 200 }));
    expect(l).toContain('State: Warm · cool in 58 s');
    const kept = snapshot({
      hibernation: { state: 'active', idleSeconds: 0, next: null, keepAwake: { until: null } },
    });
    expect(labels(buildTrayMenu(kept, { startAtLogin: false }))).toContain(
      'State: Active · kept awake',
    );
  });

  it('offers keep-awake lengths, and when on, the end time, the time left and a way to stop', () => {
    const off = find(buildTrayMenu(snapshot(), { startAtLogin: false }), 'Keep awake') as Extract<
      MenuItem,
      { type: 'submenu' }
    >;
    expect(off.items.map((i) => (i.type === 'action' ? [i.label, i.action] : null))).toEqual([
      ['For 1 hour', { kind: 'command', command: { type: 'keepAwake', on: true, minutes: 60 } }],
      ['For 2 hours', { kind: 'command', command: { type: 'keepAwake', on: true, minutes: 120 } }],
      ['For 4 hours', { kind: 'command', command: { type: 'keepAwake', on: true, minutes: 240 } }],
      [
        'Until I turn it off',
        { kind: 'command', command: { type: 'keepAwake', on: true, minutes: null } },
      ],
    ]);
    const until = Date.parse('2026-01-01T15:30:00Z');
    const s = snapshot({
      hibernation: {
        state: 'active',
        idleSeconds: 0,
        next: null,
        keepAwake: { until: new Date(until).toISOString() },
      },
    });
    const menu = buildTrayMenu(s, {
      startAtLogin: false,
      now: until - 80 * 60_000,
      formatTime: () => '16:30',
    });
    const on = find(menu, /^Kept awake/) as Extract<MenuItem, { type: 'submenu' }>;
    expect(on.label).toBe('Kept awake until 16:30 (1 h 20 min left)');
    expect(on.items[0]).toEqual({
      type: 'action',
      label: 'Stop keeping awake',
      action: { kind: 'command', command: { type: 'keepAwake', on: false, minutes: null } },
    });
  });

  it('shows per-model VRAM with CPU spill, other programs and a too-big warning in the VRAM submenu', () => {
    const s = snapshot();
    s.gpu.models = [
      { name: 'mistral:7b', service: 'ollama', vramMB: 5600 },
      { name: 'qwen2.5:32b', service: 'ollama', vramMB: 9000, cpuMB: 11264, spilled: true },
    ];
    s.gpu.otherMB = 1024;
    s.gpu.advice = {
      fits: false,
      level: 'too-big',
      message: 'qwen2.5:32b + VibeVoice: 23.7 of 12 GB — too big',
    };
    const l = labels(buildTrayMenu(s, { startAtLogin: false }));
    expect(l).toContain('  qwen2.5:32b: 8.8 GB (+11.0 GB on CPU: slow)');
    expect(l).toContain('  Other programs: 1.0 GB');
    expect(l).toContain('  qwen2.5:32b + VibeVoice: 23.7 of 12 GB — too big');
    s.gpu.gpus[0]!.unified = true;
    expect(labels(buildTrayMenu(s, { startAtLogin: false }))).toContain(
      'Memory (unified): 7.7 GB of 12.0 GB',
    );
  });

  it('surfaces problems, names the serving peer, maps pause to serving.stop/resume and pair to the dashboard', () => {
    const s = snapshot({
      notices: [
        {
          id: '1',
          level: 'error',
          code: 'service_failed',
          message: 'Piper: voice file missing',
          at: '',
        },
      ],
    });
    s.host.serving = false;
    s.peers = [
      {
        id: 'mac',
        name: 'Studio Mac',
        role: 'primary',
        prio: 200,
        serving: true,
        state: 'active',
        lastSeenSeconds: 1,
      },
    ];
    const menu = buildTrayMenu(s, { startAtLogin: false, paused: false });
    expect(find(menu, /^⚠ Piper: voice file missing/)).toMatchObject({
      action: { kind: 'openDashboard' },
    });
    expect(labels(menu)).toContain('Standing by (Studio Mac serves)');
    expect(find(menu, 'Pair with another computer…')).toMatchObject({ action: { kind: 'pair' } });
    expect(find(menu, 'Pause serving here')).toMatchObject({
      checked: false,
      action: { kind: 'command', command: { type: 'serving.stop' } },
    });
    expect(labels(buildTrayMenu(s, { startAtLogin: false, paused: true }))).toContain(
      'Paused: hidden from the iPhone',
    );
    const standby = { ...s, pairing: { standby: true } as Snapshot['pairing'] };
    expect(
      find(buildTrayMenu(standby, { startAtLogin: false }), 'Pause serving here'),
    ).toMatchObject({
      checked: true,
      action: { kind: 'command', command: { type: 'serving.resume' } },
    });
    expect(trayIconState(standby, { startAtLogin: false })).toBe('paused');
    expect(labels(buildTrayMenu(standby, { startAtLogin: false }))).toContain(
      'Paused: not serving (handed over)',
    );
  });

  it('enables Start all only when something is down and Stop all only when something is up', () => {
    const s = snapshot();
    const menu = buildTrayMenu(s, { startAtLogin: false });
    expect(find(menu, 'Start all')).toMatchObject({ enabled: true });
    expect(find(menu, 'Stop all')).toMatchObject({ enabled: true });
    s.services.forEach((x) => (x.status = 'stopped'));
    expect(find(buildTrayMenu(s, { startAtLogin: false }), 'Stop all')).toMatchObject({
      enabled: false,
    });
  });

  it('keeps the tooltip within what Windows shows, dropping detail rather than the state', () => {
    const s = snapshot();
    expect(trayTooltip(s)).toBe(
      'UnaMentis Server — Studio Mac · serving · warm (cool in 4 min) · VRAM 7.7/12.0 GB',
    );
    s.host.name = 'A very long host name that somebody typed into the settings page of the app';
    const t = trayTooltip(s, { elapsedSeconds: 10 });
    expect(t.length).toBeLessThanOrEqual(TOOLTIP_MAX);
    expect(t).toContain('warm');
    expect(trayTooltip(s, { paused: true })).toContain('paused');
  });
});

describe('tray menu: the front door', () => {
  it('shows per service the public port, who answers behind it, requests in the last minute and held requests', () => {
    const door = {
      name: 'x',
      addresses: ['0.0.0.0'],
      lan: true,
      upstream: '127.0.0.1:40000',
      heldTotal: 3,
      note: null,
    };
    const l = labels(
      buildTrayMenu(
        snapshot({
          frontDoor: {
            enabled: true,
            allowFrom: 'lan',
            llmKeyRequired: false,
            ports: [
              {
                ...door,
                id: 'ollama',
                port: 11434,
                listening: 'lan',
                behind: 'external',
                requestsLastMinute: 12,
                held: 0,
              },
              {
                ...door,
                id: 'piper',
                port: 11402,
                listening: 'all',
                behind: 'nobody',
                requestsLastMinute: 1,
                held: 2,
              },
            ],
          },
        }),
        { startAtLogin: false },
      ),
    );
    expect(l).toContain('  Port 11434 (LAN addresses only) → another program');
    expect(l).toContain('  12 requests in the last minute');
    expect(l).toContain('  Port 11402 → nobody');
    expect(l).toContain('  2 waiting for it to wake');
  });
});
