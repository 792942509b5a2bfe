// The tray menu as data: a pure function of the snapshot (and a few shell facts). The shell turns
// it into an Electron Menu; tests check it without Electron.

import { OURS_UP_STATUSES } from '../contract.js';
import type { Command } from '../commands.js';
import type { FrontDoorPort, HibernationState, ServiceEntry, Snapshot } from '../contract.js';

type ShellAction =
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
  /** Not advertised to the iPhone (discovery.advertise off in settings). */
  paused?: boolean;
  /** Seconds since the snapshot was taken: countdowns in the menu stay true between changes. */
  elapsedSeconds?: number;
  /** Now (ms), for "keep awake" end times. Default: the keep-awake end is shown as is. */
  now?: number;
  /** Formats a wall-clock time for labels ("14:30"); injected so tests do not depend on the time zone. */
  formatTime?: (ms: number) => string;
}

const STATE_LABEL: Record<HibernationState, string> = {
  active: 'Active',
  warm: 'Warm',
  cool: 'Cool (voice unloaded)',
  cold: 'Cold (models unloaded)',
  dormant: 'Dormant (services stopped)',
};

/** Keep-awake lengths the tray offers (minutes; null = until turned off). */
const KEEP_AWAKE_CHOICES: { label: string; minutes: number | null }[] = [
  { label: 'For 1 hour', minutes: 60 },
  { label: 'For 2 hours', minutes: 120 },
  { label: 'For 4 hours', minutes: 240 },
  { label: 'Until I turn it off', minutes: null },
];

/** Our process up or coming back: Stop has something to stop. */
const UP = OURS_UP_STATUSES;

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

function formatGB(mb: number): string {
  return `${(mb / 1024).toFixed(1)} GB`;
}

/** Seconds to the next hibernation step, counted down from the snapshot's figure (null = none). */
function nextInSeconds(s: Snapshot, elapsedSeconds = 0): number | null {
  const n = s.hibernation.next;
  if (!n) return null;
  return Math.max(0, n.inSeconds - (s.hibernation.keepAwake ? 0 : elapsedSeconds));
}

export function buildTrayMenu(s: Snapshot, shell: ShellFacts): MenuItem[] {
  const cmd = (command: Command): MenuAction => ({ kind: 'command', command });
  const items: MenuItem[] = [];

  items.push({
    type: 'label',
    label: `${s.host.name} — ${s.host.role === 'primary' ? 'Primary' : 'Fallback'}`,
  });
  items.push({ type: 'label', label: servingLine(s, shell) });
  // What to type in the app; the QR code and the IP are one click away (dashboard #iphone).
  if (s.host.sharedName) {
    const ip = (s.host.addresses ?? []).find((a) => !a.startsWith('127.'));
    items.push({
      type: 'action',
      label: `In the app: ${s.host.sharedName.name}${ip ? ` (or ${ip})` : ''} — QR code…`,
      action: { kind: 'openDashboard', section: 'iphone' },
    });
  }

  const h = s.hibernation;
  const inSec = nextInSeconds(s, shell.elapsedSeconds);
  const next = h.next && inSec !== null ? ` · ${h.next.state} in ${formatDuration(inSec)}` : '';
  items.push({
    type: 'label',
    label: `State: ${STATE_LABEL[h.state]}${h.keepAwake ? ' · kept awake' : next}`,
  });

  items.push(...vramItems(s));

  const problems = s.notices.filter((n) => n.level === 'error' || n.level === 'warning');
  if (problems.length) {
    items.push({
      type: 'action',
      label: `⚠ ${problems.length === 1 ? truncate(problems[0]!.message, 60) : `${problems.length} problems`} — details…`,
      action: { kind: 'openDashboard' },
    });
  }
  items.push({ type: 'separator' });

  for (const svc of s.services)
    items.push(
      serviceSubmenu(
        svc,
        s.frontDoor?.ports.find((p) => p.id === svc.id),
      ),
    );
  if (s.services.length) {
    const anyDown = s.services.some(
      (x) => x.enabled && !UP.has(x.status) && x.status !== 'external',
    );
    const anyUp = s.services.some((x) => UP.has(x.status));
    items.push({
      type: 'action',
      label: 'Start all',
      action: cmd({ type: 'services.startAll' }),
      enabled: anyDown,
    });
    items.push({
      type: 'action',
      label: 'Stop all',
      action: cmd({ type: 'services.stopAll' }),
      enabled: anyUp,
    });
  }
  items.push({ type: 'separator' });

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
  items.push({
    type: 'action',
    label: 'Wake',
    action: cmd({ type: 'wake', source: 'tray' }),
    enabled: h.state !== 'active' || h.busy === true,
  });
  items.push(keepAwakeItem(s, shell));
  items.push({ type: 'separator' });

  items.push({ type: 'action', label: 'Pair with another computer…', action: { kind: 'pair' } });
  const standby = s.pairing?.standby === true;
  items.push({
    type: 'checkbox',
    label: 'Pause serving here',
    checked: standby,
    action: cmd({ type: standby ? 'serving.resume' : 'serving.stop' }),
  });
  items.push({ type: 'action', label: 'Open dashboard', action: { kind: 'openDashboard' } });
  items.push({
    type: 'checkbox',
    label: 'Start at login',
    checked: shell.startAtLogin,
    action: { kind: 'toggleStartAtLogin' },
  });
  items.push({ type: 'separator' });
  items.push({ type: 'action', label: 'Quit UnaMentis Server', action: { kind: 'quit' } });
  return items;
}

/** Paused: the user told this host to stop serving (pairing standby), or not to advertise. */
function isPaused(s: Snapshot, shell: Pick<ShellFacts, 'paused'>): boolean {
  return shell.paused === true || s.pairing?.standby === true;
}

function servingLine(s: Snapshot, shell: ShellFacts): string {
  if (shell.paused) return 'Paused: hidden from the iPhone';
  if (s.pairing?.standby) return 'Paused: not serving (handed over)';
  if (s.host.serving && s.host.cannotServe)
    return truncate(`Cannot serve the iPhone: ${s.host.cannotServe}`, 80);
  if (s.host.serving) return 'Serving the iPhone';
  const other = s.peers.find((p) => p.serving);
  return other ? `Standing by (${other.name} serves)` : 'Standing by';
}

function keepAwakeItem(s: Snapshot, shell: ShellFacts): MenuItem {
  const ka = s.hibernation.keepAwake;
  const cmd = (on: boolean, minutes: number | null): MenuAction => ({
    kind: 'command',
    command: { type: 'keepAwake', on, minutes },
  });
  if (!ka) {
    return {
      type: 'submenu',
      label: 'Keep awake',
      items: KEEP_AWAKE_CHOICES.map((c) => ({
        type: 'action' as const,
        label: c.label,
        action: cmd(true, c.minutes),
      })),
    };
  }
  let label = 'Keep awake ✓';
  const until = ka.until ? Date.parse(ka.until) : NaN;
  if (Number.isFinite(until)) {
    if (shell.formatTime) label = `Kept awake until ${shell.formatTime(until)}`;
    if (shell.now !== undefined) label += ` (${formatDuration((until - shell.now) / 1000)} left)`;
  } else if (!ka.until) label = 'Kept awake until turned off';
  return {
    type: 'submenu',
    label,
    items: [
      { type: 'action', label: 'Stop keeping awake', action: cmd(false, null) },
      { type: 'separator' },
      ...KEEP_AWAKE_CHOICES.map((c) => ({
        type: 'action' as const,
        label: c.label.replace(/^For/, 'Instead, for').replace(/^Until/, 'Instead, until'),
        action: cmd(true, c.minutes),
      })),
    ],
  };
}

function vramItems(s: Snapshot): MenuItem[] {
  if (s.gpu.error) return [{ type: 'label', label: `GPU: ${s.gpu.error}` }];
  const gpu = s.gpu.gpus[0];
  if (!gpu) return [];
  const used = s.gpu.gpus.reduce((a, g) => a + (g.vramUsedMB ?? 0), 0);
  const total = s.gpu.gpus.reduce((a, g) => a + g.vramTotalMB, 0);
  const kind = gpu.unified ? 'Memory (unified)' : 'VRAM';
  const label = `${kind}: ${formatGB(used)} of ${formatGB(total)}`;
  const models: MenuItem[] = s.gpu.models.map((m) => ({
    type: 'label' as const,
    label: `${m.name}: ${formatGB(m.vramMB)}${m.spilled || (m.cpuMB ?? 0) > 0 ? ` (+${formatGB(m.cpuMB ?? 0)} on CPU: slow)` : ''}`,
  }));
  const other = s.gpu.otherMB ?? 0;
  if (other > 0) models.push({ type: 'label', label: `Other programs: ${formatGB(other)}` });
  const advice = s.gpu.advice;
  if (advice && (advice.level === 'too-big' || advice.level === 'tight')) {
    models.push({ type: 'separator' }, { type: 'label', label: truncate(advice.message, 80) });
  }
  if (!models.length) return [{ type: 'label', label }];
  return [{ type: 'submenu', label, items: models }];
}

/** The public port line: where the phone connects, who answers behind it, what the front door sees. */
function frontDoorLabels(door: FrontDoorPort): string[] {
  const behind = { ours: 'ours', external: 'another program', nobody: 'nobody' }[door.behind];
  if (door.listening === 'none') return [`Port ${door.port}: not behind the front door`];
  const where =
    door.listening === 'lan'
      ? ' (LAN addresses only)'
      : door.listening === 'loopback'
        ? ' (this computer only)'
        : '';
  const labels = [
    `Port ${door.port}${where} → ${behind}`,
    `${door.requestsLastMinute} requests in the last minute`,
  ];
  if (door.held > 0) labels.push(`${door.held} waiting for it to wake`);
  return labels;
}

function serviceSubmenu(svc: ServiceEntry, door?: FrontDoorPort): MenuItem {
  const running = UP.has(svc.status);
  const items: MenuItem[] = [{ type: 'label', label: `Status: ${svc.status}` }];
  if (door) for (const label of frontDoorLabels(door)) items.push({ type: 'label', label });
  if (svc.lastError) items.push({ type: 'label', label: truncate(svc.lastError, 80) });
  if (svc.status === 'external') {
    items.push({
      type: 'action',
      label: 'Take over',
      action: { kind: 'command', command: { type: 'service.takeOver', id: svc.id } },
    });
  } else {
    items.push({
      type: 'action',
      label: 'Start',
      action: { kind: 'command', command: { type: 'service.start', id: svc.id } },
      enabled: !running && svc.enabled,
    });
    items.push({
      type: 'action',
      label: 'Stop',
      action: { kind: 'command', command: { type: 'service.stop', id: svc.id } },
      enabled: running,
    });
    items.push({
      type: 'action',
      label: 'Restart',
      action: { kind: 'command', command: { type: 'service.restart', id: svc.id } },
      enabled: running || svc.status === 'failed',
    });
  }
  items.push({ type: 'action', label: 'Open log', action: { kind: 'openLog', service: svc.id } });
  const mark = svc.status === 'failed' ? '⚠ ' : '';
  return { type: 'submenu', label: `${mark}${svc.name}: ${svc.status}`, items };
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Windows truncates notification-area tooltips at 127 characters. */
export const TOOLTIP_MAX = 127;

/** The tooltip: one line a user can read at a glance. */
export function trayTooltip(
  s: Snapshot,
  shell: Pick<ShellFacts, 'paused' | 'elapsedSeconds'> = {},
): string {
  const failed = s.services.filter((x) => x.enabled && x.status === 'failed').length;
  const parts = [`UnaMentis Server — ${s.host.name}`];
  parts.push(isPaused(s, shell) ? 'paused' : s.host.serving ? 'serving' : 'standing by');
  const inSec = nextInSeconds(s, shell.elapsedSeconds);
  parts.push(
    s.hibernation.next && inSec !== null && !s.hibernation.keepAwake
      ? `${s.hibernation.state} (${s.hibernation.next.state} in ${formatDuration(inSec)})`
      : s.hibernation.state,
  );
  if (failed) parts.push(`${failed} service${failed > 1 ? 's' : ''} failed`);
  const gpu = s.gpu.gpus[0];
  if (gpu && !s.gpu.error) {
    const used = s.gpu.gpus.reduce((a, g) => a + (g.vramUsedMB ?? 0), 0);
    const total = s.gpu.gpus.reduce((a, g) => a + g.vramTotalMB, 0);
    parts.push(
      `${gpu.unified ? 'memory' : 'VRAM'} ${(used / 1024).toFixed(1)}/${(total / 1024).toFixed(1)} GB`,
    );
  }
  // Drop the least important parts (VRAM, then the countdown) rather than cut a word in half.
  let text = parts.join(' · ');
  while (text.length > TOOLTIP_MAX && parts.length > 3) {
    parts.pop();
    text = parts.join(' · ');
  }
  return truncate(text, TOOLTIP_MAX);
}

export type TrayIconState = 'serving' | 'active' | 'cool' | 'dormant' | 'error' | 'paused';

/** Which icon the tray shows. Errors win; then paused; then the idle depth; then serving vs active/warm. */
export function trayIconState(s: Snapshot, shell: ShellFacts): TrayIconState {
  if (s.services.some((x) => x.enabled && x.status === 'failed')) return 'error';
  if (isPaused(s, shell)) return 'paused';
  if (s.hibernation.state === 'dormant') return 'dormant';
  if (s.hibernation.state === 'cool' || s.hibernation.state === 'cold') return 'cool';
  if (s.host.serving) return 'serving';
  return 'active';
}
