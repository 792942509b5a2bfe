// Owns the dashboard BrowserWindow: one at a time, shown on demand, loaded from the core's own
// origin (the same page a browser gets from a headless server).

import { BrowserWindow, shell } from 'electron';
import { dashboardWindowOptions, isDashboardUrl } from './window-options.js';

export class DashboardWindow {
  #win: BrowserWindow | null = null;

  constructor(
    private readonly preloadPath: string,
    private readonly origin: () => string,
  ) {}

  show(section?: string): void {
    if (this.#win && !this.#win.isDestroyed()) {
      if (section)
        void this.#win.webContents.executeJavaScript(`location.hash = ${JSON.stringify(section)}`);
      if (this.#win.isMinimized()) this.#win.restore();
      this.#win.show();
      this.#win.focus();
      return;
    }
    const win = new BrowserWindow(dashboardWindowOptions(this.preloadPath));
    this.#win = win;
    const origin = this.origin();
    win.webContents.setWindowOpenHandler(({ url }) => {
      if (/^https?:/.test(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
    win.webContents.on('will-navigate', (event, url) => {
      if (!isDashboardUrl(url, origin)) event.preventDefault();
    });
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => {
      this.#win = null;
    });
    void win.loadURL(`${origin}/${section ? `#${section}` : ''}`);
  }

  close(): void {
    if (this.#win && !this.#win.isDestroyed()) this.#win.destroy();
    this.#win = null;
  }
}
