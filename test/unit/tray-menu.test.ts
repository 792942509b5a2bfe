import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../main/core/contract.js';
import { buildTrayMenu, trayIconState, trayTooltip, type MenuItem } from '../../main/core/tray-menu/menu-model.js';

function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    v: 1,
    host: { id: 'h', name: 'Studio Mac', platform: 'darwin', role: 'primary', prio: 200, serving: true },
    hibernation: { state: 'warm', idleSeconds: 42, next: { state: 'cool', inSeconds: 258 } },
    services: [
      { id: 'ollama', name: 'Ollama', enabled: true, status: 'running', port: 11434, pid: 42, restarts: 0, uptimeSeconds: 10, health: { ok: true, latencyMs: 3 }, lastError: null },
      { id: 'piper', name: 'Piper', enabled: true, status: 'stopped', port: 11402, pid: null, restarts: 0, uptimeSeconds: 0, health: null, lastError: null },
    ],
    gpu: {
      sampledAt: null,
      gpus: [{ name: 'RTX 3060', vendor: 'NVIDIA', vramTotalMB: 12288, vramUsedMB: 7900, unified: false }],
      models: [{ name: 'mistral:7b', service: 'ollama', vramMB: 5600 }],
    },
    peers: [],
    notices: [],
    ...over,
  };
}

const labels = (items: MenuItem[]): string[] =>
  items.flatMap((i) => (i.type === 'separator' ? ['---'] : i.type === 'submenu' ? [i.label, ...labels(i.items).map((l) => `  ${l}`)] : [i.label]));

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
    const piper = menu.find((i) => i.type === 'submenu' && i.label.startsWith('Piper')) as Extract<MenuItem, { type: 'submenu' }>;
    const start = piper.items.find((i) => i.type === 'action' && i.label === 'Start') as Extract<MenuItem, { type: 'action' }>;
    const stop = piper.items.find((i) => i.type === 'action' && i.label === 'Stop') as Extract<MenuItem, { type: 'action' }>;
    expect(start.enabled).toBe(true);
    expect(stop.enabled).toBe(false);
    expect(start.action).toEqual({ kind: 'command', command: { type: 'service.start', id: 'piper' } });
    const login = menu.find((i) => i.type === 'checkbox' && i.label === 'Start at login');
    expect(login).toMatchObject({ checked: false, action: { kind: 'toggleStartAtLogin' } });
  });

  it('offers take-over for an external service and shows a GPU error instead of VRAM', () => {
    const s = snapshot({ gpu: { sampledAt: null, gpus: [], models: [], error: 'unavailable: nvidia-smi timed out' } });
    s.services[0]!.status = 'external';
    const l = labels(buildTrayMenu(s, { startAtLogin: false }));
    expect(l).toContain('  Take over');
    expect(l).toContain('GPU: unavailable: nvidia-smi timed out');
  });

  it('picks the icon: error beats paused beats depth beats serving', () => {
    const s = snapshot();
    expect(trayIconState(s, { startAtLogin: false })).toBe('serving');
    expect(trayIconState({ ...s, host: { ...s.host, serving: false } }, { startAtLogin: false })).toBe('active');
    expect(trayIconState({ ...s, hibernation: { ...s.hibernation, state: 'cold' } }, { startAtLogin: false })).toBe('cool');
    expect(trayIconState({ ...s, hibernation: { ...s.hibernation, state: 'dormant' } }, { startAtLogin: false })).toBe('dormant');
    expect(trayIconState(s, { startAtLogin: false, paused: true })).toBe('paused');
    s.services[1]!.status = 'failed';
    expect(trayIconState(s, { startAtLogin: false, paused: true })).toBe('error');
    expect(trayTooltip(s)).toContain('1 service failed');
  });
});
