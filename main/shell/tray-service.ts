// Owns the Tray: renders the pure menu model (main/core/tray-menu) into an Electron Menu on every
// snapshot change, and swaps the icon by state. Setters return early when nothing changed.

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

export class TrayService {
  #tray: Tray | null = null;
  #icon: TrayIconState | null = null;
  #lastKey = '';

  constructor(
    private readonly resourcesDir: string,
    private readonly onAction: (action: MenuAction) => void,
  ) {}

  render(s: Snapshot, facts: ShellFacts): void {
    if (!this.#tray) {
      this.#tray = new Tray(this.#image('active'));
      this.#tray.on('click', () => this.#tray?.popUpContextMenu());
    }
    const icon = trayIconState(s, facts);
    if (icon !== this.#icon) {
      this.#tray.setImage(this.#image(icon));
      this.#icon = icon;
    }
    const model = buildTrayMenu(s, facts);
    const key = JSON.stringify(model) + trayTooltip(s);
    if (key === this.#lastKey) return;
    this.#lastKey = key;
    this.#tray.setToolTip(trayTooltip(s));
    this.#tray.setContextMenu(Menu.buildFromTemplate(model.map((i) => this.#toElectron(i))));
  }

  destroy(): void {
    this.#tray?.destroy();
    this.#tray = null;
  }

  #image(state: TrayIconState) {
    const dir = path.join(this.resourcesDir, 'tray');
    if (process.platform === 'darwin') {
      const img = nativeImage.createFromPath(path.join(dir, `${state}Template.png`));
      img.setTemplateImage(true);
      return img;
    }
    const file = process.platform === 'win32' ? `${state}.ico` : `${state}.png`;
    return nativeImage.createFromPath(path.join(dir, file));
  }

  #toElectron(item: MenuItem): MenuItemConstructorOptions {
    switch (item.type) {
      case 'separator':
        return { type: 'separator' };
      case 'label':
        return { label: item.label, enabled: false };
      case 'action':
        return { label: item.label, enabled: item.enabled ?? true, click: () => this.onAction(item.action) };
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
