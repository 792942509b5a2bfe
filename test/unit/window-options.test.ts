import { describe, expect, it } from 'vitest';
import { dashboardWindowOptions, isDashboardUrl } from '../../main/shell/window-options.js';
import { DASHBOARD_CSP } from '../../main/core/api/static.js';

describe('dashboard window security', () => {
  it('is isolated and sandboxed, without Node in the page', () => {
    const w = dashboardWindowOptions('/x/preload.cjs').webPreferences;
    expect(w).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    });
  });

  it('serves a CSP that allows only its own origin', () => {
    expect(DASHBOARD_CSP).toMatch(/default-src 'self'/);
    expect(DASHBOARD_CSP).toMatch(/script-src 'self';/);
    expect(DASHBOARD_CSP).not.toMatch(/unsafe-eval/);
    expect(DASHBOARD_CSP).toMatch(/frame-ancestors 'none'/);
  });

  it('keeps navigation on the dashboard origin', () => {
    expect(isDashboardUrl('http://127.0.0.1:11400/#x', 'http://127.0.0.1:11400')).toBe(true);
    expect(isDashboardUrl('https://evil.example/', 'http://127.0.0.1:11400')).toBe(false);
    expect(isDashboardUrl('not a url', 'http://127.0.0.1:11400')).toBe(false);
  });
});
