// iPhone setup in the dashboard (Chromium): a host alone whose only service cannot start (its program
// is missing) keeps the shared name, says plainly in the header that it cannot serve and why, and
// announces serving=0; the iPhone setup section shows the name, the QR code in the app's format and
// what to do when .local names do not work. Screenshots land in test-output/screenshots/.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Snapshot } from '../../main/core/contract.js';
import { startHeadless, type Headless } from '../helpers/headless.js';
import { chromiumMissing, launchChromium, screenshotDir } from '../helpers/browser.js';

const missing = chromiumMissing();
if (missing) console.warn(`SKIPPED setup dashboard e2e: ${missing}`);

describe.skipIf(!!missing)('iPhone setup and "cannot serve" in the dashboard', () => {
  let h: Headless;
  let browser: Browser;
  let page: Page;
  const snapshot = async () => (await (await fetch(`${h.url}api/status`)).json()) as Snapshot;

  beforeAll(async () => {
    [h, browser] = await Promise.all([
      startHeadless({
        settings: {
          displayName: 'Lonely Mac',
          hibernation: { preventSleep: false },
          models: { preload: [] },
          services: {
            ollama: { enabled: true, command: '/nonexistent/ollama' },
            vibevoice: { enabled: false },
            piper: { enabled: false },
            whisper: { enabled: false },
          },
        },
      }),
      launchChromium(),
    ]);
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${h.url}#token=${h.token}`);
    await page
      .getByTestId('host-name')
      .filter({ hasText: 'Lonely Mac' })
      .waitFor({ timeout: 15_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('the header says it cannot serve and why; alone, it still serves and holds the shared name', async () => {
    await expect
      .poll(async () => (await snapshot()).host.cannotServe ?? null, { timeout: 15_000 })
      .toMatch(/Ollama/);
    const s = await snapshot();
    expect(s.host.serving).toBe(true); // alone: it keeps serving (the phone reaches its clear errors)
    await expect
      .poll(async () => (await snapshot()).host.sharedName?.held, { timeout: 10_000 })
      .toBe(true);
    await expect
      .poll(() => page.getByTestId('serving').textContent(), { timeout: 10_000 })
      .toMatch(/^Cannot serve the iPhone: Ollama/);
    expect(await page.getByTestId('serving').getAttribute('class')).toBe('bad-text');
    await page.screenshot({ path: path.join(screenshotDir, 'dashboard-cannot-serve.png') });
  });

  it('iPhone setup: the shared name, the QR code in the app format, and the .local caveat', async () => {
    await page.getByTestId('setup-link').click();
    await page.getByTestId('section-title').filter({ hasText: 'iPhone setup' }).waitFor();
    expect(await page.getByTestId('setup-name').textContent()).toBe('unamentis.local');
    const qr = page.getByTestId('setup-qr');
    await qr.waitFor({ timeout: 10_000 });
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    expect(await qr.getAttribute('alt')).toContain(
      JSON.stringify({ host: 'unamentis.local', port: h.port, name: 'Lonely Mac' }),
    );
    // The image really rendered (CSP allows data: images): it has a natural size.
    expect(await qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    expect(await page.locator('main').textContent()).toMatch(/guest Wi-Fi/);
    await page.screenshot({
      path: path.join(screenshotDir, 'dashboard-iphone-setup.png'),
      fullPage: true,
    });
  });
});
