// The tray menu as data: a pure function of the snapshot (and a few shell facts). The shell turns
// it into an Electron Menu; tests check it without Electron.

import type { Command } from '../commands.js';
import type { HibernationState, ServiceEntry, Snapshot } from '../contract.js';

export type ShellAction =
  | { kind: 'openDashboard'; section?: string }
  | { kind: 'openLog'; service: string }
  | { kind: 'toggleStartAtLogin' }
  | { kind: 'pair' }
  | { kind: 'quit' };

export type MenuAction = { kind: 'command'; command: Command } | ShellAction;

export type MenuItem =
  | { type: 'separator' }
  | { type: 'label'; label: string }
  | { type: 'action'; label: string; action: MenuAction; enabled?: boolean }
  | { type: 'checkbox'; label: string; checked: boolean; action: MenuAction; enabled?: boolean }
  | { type: 'submenu'; label: string; items: MenuItem[] };

export interface ShellFacts {
  startAtLogin: boolean;
  /** The user paused serving (no advertising, services stopped by hand). */
  paused?: boolean;
}

const STATE_LABEL: Record<HibernationState, string> = {
  active: 'Active',
  warm: 'Warm',
  cool: 'Cool (voice unloaded)',
  cold: 'Cold (models unloaded)',
  dormant: 'Dormant (services stopped)',
};

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

export function formatGB(mb: number): string {
  return `${(mb / 1024).toFixed(1)} GB`;
}

export function buildTrayMenu(s: Snapshot, shell: ShellFacts): MenuItem[] {
  const cmd = (command: Command): MenuAction => ({ kind: 'command', command });
  const items: MenuItem[] = [];

  items.push({ type: 'label', label: `${s.host.name} — ${s.host.role === 'primary' ? 'Primary' : 'Fallback'}` });
  items.push({ type: 'label', label: s.host.serving ? 'Serving the iPhone' : 'Standing by (another host serves)' });

  const h = s.hibernation;
  const next = h.next ? ` · ${h.next.state} in ${formatDuration(h.next.inSeconds)}` : '';
  items.push({ type: 'label', label: `State: ${STATE_LABEL[h.state]}${next}` });

  items.push(...vramItems(s));
  items.push({ type: 'separator' });

  for (const svc of s.services) items.push(serviceSubmenu(svc));
  if (s.services.length) {
    items.push({ type: 'action', label: 'Start all', action: cmd({ type: 'services.startAll' }) });
    items.push({ type: 'action', label: 'Stop all', action: cmd({ type: 'services.stopAll' }) });
    items.push({ type: 'separator' });
  }

  items.push({
    type: 'submenu',
    label: 'Hibernate now',
    items: (['warm', 'cool', 'cold', 'dormant'] as const).map((state) => ({
      type: 'action' as const,
      label: STATE_LABEL[state],
      action: cmd({ type: 'hibernate', state }),
      enabled: state !== h.state,
    })),
  });
  items.push({ type: 'action', label: 'Wake', action: cmd({ type: 'wake', source: 'tray' }), enabled: h.state !== 'active' });
  const awake = !!h.keepAwake;
  items.push({
    type: 'checkbox',
    label: awake && h.keepAwake?.until ? `Keep awake (until ${h.keepAwake.until.slice(11, 16)})` : 'Keep awake',
    checked: awake,
    action: cmd({ type: 'keepAwake', on: !awake }),
  });
  items.push({ type: 'separator' });

  items.push({ type: 'action', label: 'Pair with another computer…', action: { kind: 'pair' } });
  items.push({ type: 'action', label: 'Open dashboard', action: { kind: 'openDashboard' } });
  items.push({ type: 'checkbox', label: 'Start at login', checked: shell.startAtLogin, action: { kind: 'toggleStartAtLogin' } });
  items.push({ type: 'separator' });
  items.push({ type: 'action', label: 'Quit UnaMentis Server', action: { kind: 'quit' } });
  return items;
}

function vramItems(s: Snapshot): MenuItem[] {
  if (s.gpu.error) return [{ type: 'label', label: `GPU: ${s.gpu.error}` }];
  const gpu = s.gpu.gpus[0];
  if (!gpu) return [];
  const used = s.gpu.gpus.reduce((a, g) => a + (g.vramUsedMB ?? 0), 0);
  const total = s.gpu.gpus.reduce((a, g) => a + g.vramTotalMB, 0);
  const kind = gpu.unified ? 'Memory (unified)' : 'VRAM';
  const label = `${kind}: ${formatGB(used)} of ${formatGB(total)}`;
  if (!s.gpu.models.length) return [{ type: 'label', label }];
  return [
    {
      type: 'submenu',
      label,
      items: s.gpu.models.map((m) => ({
        type: 'label' as const,
        label: `${m.name}: ${formatGB(m.vramMB)}${m.spilled ? ' (partly on CPU: slow)' : ''}`,
      })),
    },
  ];
}

function serviceSubmenu(svc: ServiceEntry): MenuItem {
  const running = svc.status === 'running' || svc.status === 'starting' || svc.status === 'unhealthy' || svc.status === 'backoff';
  const items: MenuItem[] = [{ type: 'label', label: `Status: ${svc.status}${svc.lastError ? ` — ${svc.lastError}` : ''}` }];
  if (svc.status === 'external') {
    items.push({ type: 'action', label: 'Take over', action: { kind: 'command', command: { type: 'service.takeOver', id: svc.id } } });
  } else {
    items.push({
      type: 'action',
      label: 'Start',
      action: { kind: 'command', command: { type: 'service.start', id: svc.id } },
      enabled: !running && svc.enabled,
    });
    items.push({ type: 'action', label: 'Stop', action: { kind: 'command', command: { type: 'service.stop', id: svc.id } }, enabled: running });
    items.push({
      type: 'action',
      label: 'Restart',
      action: { kind: 'command', command: { type: 'service.restart', id: svc.id } },
      enabled: running || svc.status === 'failed',
    });
  }
  items.push({ type: 'action', label: 'Open log', action: { kind: 'openLog', service: svc.id } });
  return { type: 'submenu', label: `${svc.name}: ${svc.status}`, items };
}

/** The tooltip: one line a user can read at a glance. */
export function trayTooltip(s: Snapshot): string {
  const failed = s.services.filter((x) => x.status === 'failed').length;
  const parts = [`UnaMentis Server — ${s.host.name}`, s.host.serving ? 'serving' : 'standing by', s.hibernation.state];
  if (failed) parts.push(`${failed} service${failed > 1 ? 's' : ''} failed`);
  return parts.join(' · ');
}

export type TrayIconState = 'serving' | 'active' | 'cool' | 'dormant' | 'error' | 'paused';

/** Which icon the tray shows. Errors win; then paused; then serving; then the idle depth. */
export function trayIconState(s: Snapshot, shell: ShellFacts): TrayIconState {
  if (s.services.some((x) => x.enabled && x.status === 'failed')) return 'error';
  if (shell.paused) return 'paused';
  if (s.hibernation.state === 'dormant') return 'dormant';
  if (s.hibernation.state === 'cool' || s.hibernation.state === 'cold') return 'cool';
  if (s.host.serving) return 'serving';
  return 'active';
}
