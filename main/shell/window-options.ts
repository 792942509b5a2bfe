// The dashboard window's options, as data (no Electron import) so a plain-Node test can check the
// security settings: isolated, sandboxed, no Node in the page.

export function dashboardWindowOptions(preloadPath: string) {
  return {
    width: 1100,
    height: 780,
    minWidth: 720,
    minHeight: 520,
    show: false,
    title: 'UnaMentis Server',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  } as const;
}

/** Only the core's own origin may be shown in the window; anything else opens in the browser. */
export function isDashboardUrl(url: string, dashboardOrigin: string): boolean {
  try {
    return new URL(url).origin === dashboardOrigin;
  } catch {
    return false;
  }
}
