// The dashboard in a real browser against a real headless core.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startHeadless, type Headless } from '../helpers/headless.js';
import { chromiumMissing, launchChromium, screenshotDir } from '../helpers/browser.js';

const missing = chromiumMissing();
if (missing) console.warn(`SKIPPED dashboard e2e: ${missing}`);

describe.skipIf(!!missing)('dashboard in Chromium', () => {
  let h: Headless;
  let browser: Browser;
  beforeAll(async () => {
    h = await startHeadless({ settings: { displayName: 'Dashboard Test Host' } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('shows the host name live, and drops the token from the address bar', async () => {
    const page = await browser.newPage();
    await page.goto(`${h.url}#token=${h.token}`);
    await expect.poll(() => page.getByTestId('host-name').textContent(), { timeout: 10_000 }).toBe('Dashboard Test Host');
    await expect.poll(() => page.locator('.conn').textContent()).toBe('Connected');
    expect(page.url()).not.toContain(h.token);
    // A rename arrives over SSE without a reload.
    await fetch(`${h.url}api/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: 'Renamed Live' }),
    });
    await expect.poll(() => page.getByTestId('host-name').textContent(), { timeout: 5_000 }).toBe('Renamed Live');
    await page.screenshot({ path: path.join(screenshotDir, 'dashboard-skeleton.png'), fullPage: true });
    await page.close();
  });

  it('without a token shows a read-only view with the token form', async () => {
    const page = await browser.newPage();
    await page.goto(h.url);
    await expect.poll(() => page.getByTestId('host-name').textContent(), { timeout: 10_000 }).toBe('Renamed Live');
    expect(await page.getByLabel(/access token/).count()).toBe(1);
    await page.close();
  });
});
