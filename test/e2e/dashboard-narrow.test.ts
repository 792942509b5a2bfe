// The dashboard on a phone-sized window (390 px, an iPhone's width) against a headless core whose
// services are missing (the newcomer's first run): the services' errors and buttons are on screen,
// each error shows once on the Services page, install addresses are links, and the notices fold
// so the page's own content starts within the first screen. Screenshots: test-output/screenshots/.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startHeadless, tempDir, type Headless } from '../helpers/headless.js';
import { chromiumMissing, launchChromium, screenshotDir } from '../helpers/browser.js';

const missing = chromiumMissing();
if (missing) console.warn(`SKIPPED narrow dashboard e2e: ${missing}`);

const T = { timeout: 20_000 };
const WIDTH = 390;

describe.skipIf(!!missing)('dashboard at 390 px with missing services', () => {
  let h: Headless;
  let browser: Browser;
  let page: Page;
  let empty: string;

  const go = async (hash: string) => {
    await page.evaluate((x) => (location.hash = x), hash);
    await page.getByTestId('section-title').waitFor();
  };

  beforeAll(async () => {
    empty = tempDir('unamentis-narrow-');
    [h, browser] = await Promise.all([
      startHeadless({
        // No Ollama on this PATH or HOME: the preset's own "Install Ollama (https://…)" message.
        env: { PATH: `${path.dirname(process.execPath)}:/bin`, HOME: empty },
        settings: {
          displayName: 'Phone View',
          discovery: { advertise: false, interfaces: [] },
          hibernation: { preventSleep: false },
          models: { preload: [] },
          services: {
            vibevoice: { command: path.join(empty, 'no-such-python') },
            piper: { command: path.join(empty, 'no-such-python') },
            whisper: { enabled: false },
          },
        },
      }),
      launchChromium(),
    ]);
    page = await browser.newPage({ viewport: { width: WIDTH, height: 844 }, deviceScaleFactor: 1 });
    await page.goto(`${h.url}#token=${h.token}`);
    await page.getByTestId('host-name').filter({ hasText: 'Phone View' }).waitFor(T);
    // With services missing, the first visit opens the setup page; this test is about the others.
    await page.waitForTimeout(500);
    await go('#services');
    for (const id of ['ollama', 'vibevoice', 'piper']) {
      await page.locator(`[data-testid="service-${id}"] [data-status="failed"]`).waitFor(T);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    if (empty) fs.rmSync(empty, { recursive: true, force: true });
  });

  it("Services: every row's last error and buttons are inside the 390 px window", async () => {
    await go('#services');
    await page.screenshot({
      path: path.join(screenshotDir, 'dashboard-narrow-services.png'),
      fullPage: true,
    });
    for (const [id, name] of [
      ['ollama', 'Ollama'],
      ['vibevoice', 'VibeVoice'],
      ['piper', 'Piper'],
    ] as const) {
      const row = page.getByTestId(`service-${id}`);
      for (const el of [
        row.locator('.last-error'),
        row.getByRole('button', { name: `Restart ${name}` }),
        row.getByRole('button', { name: `Show the log of ${name}` }),
      ]) {
        const box = await el.boundingBox();
        expect(box, `${id}`).not.toBeNull();
        expect(box!.x, `${id} left`).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width, `${id} right edge`).toBeLessThanOrEqual(WIDTH);
      }
    }
  });

  it('Services: each error appears once (the row, not again as a notice)', async () => {
    await go('#services');
    const body = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
    for (const id of ['ollama', 'vibevoice', 'piper']) {
      const err = (
        (await page.getByTestId(`service-${id}`).locator('.last-error').innerText()) ?? ''
      )
        .replace(/\s+/g, ' ')
        .trim();
      expect(err.length, id).toBeGreaterThan(10);
      expect(body.split(err).length - 1, `${id}: ${err}`).toBe(1);
    }
  });

  it('install addresses are links', async (ctx) => {
    const cell = page.getByTestId('service-ollama').locator('.last-error');
    const text = await cell.innerText();
    if (!text.includes('https://ollama.com/download')) {
      console.log(
        `skipped: Ollama was found on this machine, so its install hint is not shown (${text})`,
      );
      ctx.skip();
      return;
    }
    const link = cell.getByRole('link', { name: 'https://ollama.com/download' });
    expect(await link.getAttribute('href')).toBe('https://ollama.com/download');
    expect(await link.getAttribute('rel')).toContain('noopener');
  });

  it('other pages: the notices fold, and the page content starts within the first 1,500 px', async () => {
    await go('#gpu');
    expect(await page.getByTestId('notice').count()).toBeGreaterThanOrEqual(1);
    const more = page.getByTestId('notices-more');
    await expect.poll(() => more.locator('summary').innerText()).toMatch(/^\d+ more notices?$/);
    expect(await more.getAttribute('open')).toBeNull();
    const title = await page.getByTestId('section-title').boundingBox();
    expect(title!.y).toBeLessThan(1500);
    await page.screenshot({
      path: path.join(screenshotDir, 'dashboard-narrow-gpu.png'),
      fullPage: true,
    });
    // Unfolded on request, all of them readable.
    await more.locator('summary').click();
    expect(await more.getAttribute('open')).not.toBeNull();
    expect(await page.getByTestId('notice').count()).toBeGreaterThanOrEqual(3);
  });
});
