// Owns the Tray: renders the pure menu model (main/core/tray-menu) into an Electron Menu on every
// snapshot change (and every 15 s, so countdowns stay true), and swaps the icon by state.
// Nothing is rebuilt when nothing changed.

import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import path from 'node:path';
import type { Snapshot } from '../core/contract.js';
import {
  buildTrayMenu,
  trayIconState,
  trayTooltip,
  type MenuAction,
  type MenuItem,
  type ShellFacts,
  type TrayIconState,
} from '../core/tray-menu/menu-model.js';

const REFRESH_MS = 15_000;

export class TrayService {
  #tray: Tray | null = null;
  #icon: TrayIconState | null = null;
  #lastKey = '';
  #snapshot: Snapshot | null = null;
  /** When the hibernation figures last changed: a snapshot also comes when anything else changes. */
  #hibernationAt = 0;
  #hibernationKey = '';
  #facts: Omit<ShellFacts, 'elapsedSeconds' | 'now' | 'formatTime'> = { startAtLogin: false };
  #timer: NodeJS.Timeout | null = null;
  /** Destroyed for good (quit): a late snapshot must not build a new Tray. */
  #destroyed = false;

  constructor(
    private readonly resourcesDir: string,
    private readonly onAction: (action: MenuAction) => void,
    private readonly onOpen: () => void,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  /** A new snapshot (or new shell facts): re-render. */
  update(
    s: Snapshot | null,
    facts?: Omit<ShellFacts, 'elapsedSeconds' | 'now' | 'formatTime'>,
  ): void {
    if (this.#destroyed) return;
    if (s) {
      this.#snapshot = s;
      const key = JSON.stringify(s.hibernation);
      if (key !== this.#hibernationKey) {
        this.#hibernationKey = key;
        this.#hibernationAt = Date.now();
      }
    }
    if (facts) this.#facts = facts;
    this.#render();
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#render(), REFRESH_MS);
      this.#timer.unref();
    }
  }

  destroy(): void {
    this.#destroyed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#tray?.destroy();
    this.#tray = null;
  }

  #render(): void {
    const s = this.#snapshot;
    if (!s || this.#destroyed) return;
    if (!this.#tray) {
      this.#tray = new Tray(this.#image('active'));
      // macOS opens the menu on click by itself; elsewhere a click opens it too, a double-click the dashboard.
      if (this.platform !== 'darwin') this.#tray.on('click', () => this.#tray?.popUpContextMenu());
      this.#tray.on('double-click', () => this.onOpen());
    }
    const facts: ShellFacts = {
      ...this.#facts,
      elapsedSeconds: (Date.now() - this.#hibernationAt) / 1000,
      now: Date.now(),
      formatTime: (ms) =>
        new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
    };
    const icon = trayIconState(s, facts);
    if (icon !== this.#icon) {
      this.#tray.setImage(this.#image(icon));
      this.#icon = icon;
    }
    const model = buildTrayMenu(s, facts);
    const tooltip = trayTooltip(s, facts);
    const key = JSON.stringify(model) + tooltip;
    if (key === this.#lastKey) return;
    this.#lastKey = key;
    this.#tray.setToolTip(tooltip);
    this.#tray.setContextMenu(Menu.buildFromTemplate(model.map((i) => this.#toElectron(i))));
  }

  #image(state: TrayIconState) {
    const dir = path.join(this.resourcesDir, 'tray');
    if (this.platform === 'darwin') {
      // nativeImage picks up `@2x` beside it for Retina menu bars.
      const img = nativeImage.createFromPath(path.join(dir, `${state}Template.png`));
      img.setTemplateImage(true);
      return img;
    }
    const file = this.platform === 'win32' ? `${state}.ico` : `${state}.png`;
    return nativeImage.createFromPath(path.join(dir, file));
  }

  #toElectron(item: MenuItem): MenuItemConstructorOptions {
    switch (item.type) {
      case 'separator':
        return { type: 'separator' };
      case 'label':
        return { label: item.label, enabled: false };
      case 'action':
        return {
          label: item.label,
          enabled: item.enabled ?? true,
          click: () => this.onAction(item.action),
        };
      case 'checkbox':
        return {
          label: item.label,
          type: 'checkbox',
          checked: item.checked,
          enabled: item.enabled ?? true,
          click: () => this.onAction(item.action),
        };
      case 'submenu':
        return { label: item.label, submenu: item.items.map((i) => this.#toElectron(i)) };
    }
  }
}
