// The dashboard in Debian's Chromium against real headless cores whose services are the fakes in
// test/fixtures and whose GPU is the fake nvidia-smi: every panel shows live data, the actions
// work, settings errors point at the field, and two cores pair through their dashboards.
// Screenshots (light and dark) land in test-output/screenshots/.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Snapshot } from '../../main/core/contract.js';
import { startHeadless, type Headless } from '../helpers/headless.js';
import { chromiumMissing, launchChromium, screenshotDir } from '../helpers/browser.js';
import { api, startDashboardHost, type DashboardHost } from './dashboard-fixtures.js';
import { formSchema } from '../../main/core/settings/form.js';
import { fieldSchema } from '../../renderer/src/settings-model.js';

const missing = chromiumMissing();
if (missing) console.warn(`SKIPPED dashboard e2e: ${missing}`);

const T = { timeout: 15_000 };

describe.skipIf(!!missing)('dashboard in Chromium', () => {
  let h: DashboardHost;
  let spare: Headless;
  let browser: Browser;
  let page: Page;

  const shot = (name: string, p: Page = page) =>
    p.screenshot({ path: path.join(screenshotDir, `dashboard-${name}.png`), fullPage: true });
  const go = async (hash: string, p: Page = page) => {
    await p.evaluate((x) => (location.hash = x), hash);
    await p.getByTestId('section-title').waitFor();
  };
  const statusOf = (id: string, p: Page = page) =>
    p.getByTestId(`service-${id}`).locator('[data-status]').getAttribute('data-status');
  const snapshot = async (x: Headless = h) =>
    (await (await fetch(`${x.url}api/status`)).json()) as Snapshot;

  // A stand-in for huggingface.co/rhasspy/piper-voices: one voice, its model sent in pieces.
  let voices: http.Server;
  beforeAll(async () => {
    voices = http.createServer((req, res) => {
      const p = new URL(req.url ?? '/', 'http://x').pathname;
      if (p === '/en/en_US/lessac/medium/en_US-lessac-medium.onnx.json')
        return void res.end(JSON.stringify({ audio: { sample_rate: 22050, quality: 'medium' } }));
      if (p !== '/en/en_US/lessac/medium/en_US-lessac-medium.onnx')
        return void res.writeHead(404).end('Entry not found');
      res.writeHead(200, { 'content-length': 2_000_000 });
      let sent = 0;
      const step = () => {
        res.write(Buffer.alloc(100_000, 1));
        sent += 100_000;
        if (sent < 2_000_000) setTimeout(step, 100);
        else res.end();
      };
      step();
    });
    await new Promise<void>((r) => voices.listen(0, '127.0.0.1', r));
    const voicesUrl = `http://127.0.0.1:${(voices.address() as AddressInfo).port}`;
    [h, spare, browser] = await Promise.all([
      startDashboardHost({
        name: 'Studio Test',
        role: 'primary',
        env: { UNAMENTIS_PIPER_VOICES_URL: voicesUrl },
      }),
      startHeadless({
        settings: {
          displayName: 'Spare PC',
          role: 'fallback',
          discovery: { advertise: false, interfaces: [] },
          hibernation: { preventSleep: false },
          models: { preload: [] },
          services: {
            ollama: { enabled: false },
            vibevoice: { enabled: false },
            piper: { enabled: false },
            whisper: { enabled: false },
          },
          pairing: { heartbeatIntervalMs: 200 },
        },
      }),
      launchChromium(),
    ]);
    page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
    await page.goto(`${h.url}#token=${h.token}`);
    await page.getByTestId('host-name').filter({ hasText: 'Studio Test' }).waitFor(T);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([h?.stop(), spare?.stop()]);
    await new Promise<void>((r) => (voices ? voices.close(() => r()) : r()));
  });

  it('connects with the token from the fragment and drops it from the address bar', async () => {
    await expect.poll(() => page.locator('.conn').textContent()).toBe('Connected');
    expect(page.url()).not.toContain(h.token);
    expect(await page.getByTestId('nav-services').getAttribute('aria-current')).toBe('page');
  });

  it('Services: live status, uptime, restarts and health of each fake service', async () => {
    for (const id of ['ollama', 'vibevoice', 'piper'])
      await expect.poll(() => statusOf(id), T).toBe('running');
    expect(await statusOf('whisper')).toBe('disabled');
    const row = page.getByTestId('service-ollama');
    await expect.poll(() => row.textContent()).toMatch(/OK · [\d.]+ ms/);
    expect(await row.textContent()).toContain(`port ${h.ports.ollama}`);
    // The front door's line: public port, who answers behind it, requests in the last minute.
    await expect
      .poll(() => row.getByTestId('frontdoor').textContent(), T)
      .toMatch(
        new RegExp(`^public ${h.ports.ollama} \\(all addresses\\) · behind: ours · \\d+ req/min`),
      );
    // VibeVoice's own args name a fixed port here: the front door says it does not stand in front of it.
    await expect
      .poll(() => page.getByTestId('service-vibevoice').getByTestId('frontdoor').textContent(), T)
      .toBe(`public ${h.ports.vibevoice} (not in front)`);
    expect(await page.getByTestId('service-vibevoice').textContent()).toContain(
      'own command does not take {port}',
    );
    // Uptime ticks between snapshots.
    const up1 = await row.getByTestId('uptime').textContent();
    await expect
      .poll(() => row.getByTestId('uptime').textContent(), { timeout: 5000 })
      .not.toBe(up1);
    await shot('services-light');
  });

  it('Services: stopping and starting a service from the dashboard changes its status', async () => {
    await page.getByRole('button', { name: 'Stop Piper' }).click();
    await expect.poll(() => statusOf('piper'), T).toBe('stopped');
    expect((await snapshot()).services.find((s) => s.id === 'piper')!.status).toBe('stopped');
    expect(await page.getByRole('button', { name: 'Stop Piper', exact: true }).isDisabled()).toBe(
      true,
    );
    await page.getByRole('button', { name: 'Start Piper', exact: true }).click();
    await expect.poll(() => statusOf('piper'), T).toBe('running');
  });

  it('Logs: a service log opens by URL, searches, and follows new lines from the stream', async () => {
    await go('services/ollama/logs');
    const viewer = page.getByTestId('log-viewer');
    await viewer.waitFor();
    await expect.poll(() => viewer.getByTestId('log-line').count(), T).toBeGreaterThan(2);
    expect(await viewer.textContent()).toContain('preloaded mistral:7b');
    // A request straight to the fake prints an access line: it must arrive without a reload.
    await fetch(`http://127.0.0.1:${h.ports.ollama}/api/tags`);
    await expect
      .poll(() => viewer.locator('.log-line', { hasText: '"/api/tags"' }).count(), T)
      .toBeGreaterThan(0);
    await page.getByLabel('Search the log').fill('PRELOAD');
    await expect.poll(() => viewer.getByTestId('log-line').count()).toBeGreaterThan(0);
    const texts = await viewer.getByTestId('log-line').allTextContents();
    expect(texts.every((t) => /preload/i.test(t))).toBe(true);
    expect(await viewer.locator('mark').first().textContent()).toMatch(/preload/i);
    await shot('logs-light');
    await page.getByLabel('Search the log').fill('');
    await viewer.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#services');
  });

  it('GPU: gauge, VRAM by model and by service, the 10-minute chart and the fit advice', async () => {
    await go('gpu');
    const card = page.getByTestId('gpu-card');
    await expect.poll(() => card.textContent(), T).toContain('NVIDIA GeForce RTX 3060');
    await expect
      .poll(() => card.locator('svg').getAttribute('aria-label'))
      .toMatch(/6\.0 GB of 12\.0 GB used \(50 %\)/);
    await expect
      .poll(() => page.getByTestId('bar-models').textContent(), T)
      .toContain('mistral:7b');
    expect(await page.getByTestId('bar-services').textContent()).toContain('Ollama');
    await expect
      .poll(() => page.getByTestId('fit-advice').textContent(), T)
      .toMatch(/Fits.*mistral:7b/);
    // The fake card fills up: the gauge follows, and the chart draws a line through the samples.
    h.setGpuUsed(9800);
    await expect
      .poll(() => card.locator('svg').getAttribute('aria-label'), { timeout: 20_000 })
      .toMatch(/9\.6 GB of 12\.0 GB/);
    await expect
      .poll(() => page.locator('.timechart path.line').getAttribute('d'), T)
      .toMatch(/^M[\d.]+,[\d.]+L/);
    await shot('gpu-light');
  });

  it('Hibernation: hibernate now, the timeline, wake, and keep awake', async () => {
    await go('hibernation');
    await expect.poll(() => page.getByTestId('hib-state').textContent()).toContain('Now Active');
    expect(await page.getByTestId('hib-next').textContent()).toMatch(/Next: Warm in \d+ s/);
    await page.getByLabel('Hibernate now to').selectOption('cool');
    await page.getByRole('button', { name: 'Hibernate now' }).click();
    await expect.poll(() => page.getByTestId('hib-state').textContent(), T).toContain('Now Cool');
    await expect
      .poll(() => page.getByTestId('transitions').textContent(), T)
      .toMatch(/Active → Cool/);
    // Cool stops VibeVoice (CONTRACT §4).
    await expect
      .poll(async () => (await snapshot()).services.find((s) => s.id === 'vibevoice')!.status, T)
      .toBe('stopped');
    await shot('hibernation-light');
    await page.getByRole('button', { name: 'Wake now' }).click();
    await expect.poll(() => page.getByTestId('hib-state').textContent(), T).toContain('Now Active');
    await expect
      .poll(async () => (await snapshot()).services.find((s) => s.id === 'vibevoice')!.status, T)
      .toBe('running');
    await page.getByLabel('Keep awake for').selectOption({ label: '1 hour' });
    await page.getByRole('button', { name: 'Keep awake' }).click();
    await expect
      .poll(() => page.getByTestId('hib-state').textContent(), T)
      .toMatch(/keep awake until \d\d:\d\d/);
    expect((await snapshot()).hibernation.keepAwake?.until).toBeTruthy();
    await page.getByRole('button', { name: 'Stop keeping awake' }).click();
    await expect.poll(async () => (await snapshot()).hibernation.keepAwake ?? null, T).toBeNull();
  });

  it('Models: the fit check as you type, and a pull with a live progress bar', async () => {
    await go('models');
    await expect
      .poll(() => page.getByTestId('installed-models').textContent(), T)
      .toContain('mistral:7b');
    await page.getByLabel('Model name').fill('qwen2.5:32b');
    await expect.poll(() => page.getByTestId('pull-fit').textContent(), T).toMatch(/Too big/);
    await page.getByLabel('Model name').fill('llama3.2:3b');
    await page.getByRole('button', { name: 'Pull', exact: true }).click();
    const progress = page.getByTestId('pull-progress');
    // Mid-download: a determinate bar between 0 and 100.
    await expect
      .poll(async () => Number(await progress.locator('progress').getAttribute('value')), T)
      .toBeGreaterThan(0);
    await shot('models-pulling-light');
    await expect.poll(() => progress.textContent(), T).toContain('success');
    expect(await progress.locator('progress').getAttribute('value')).toBe('100');
    await expect
      .poll(() => page.getByTestId('installed-models').textContent(), T)
      .toContain('llama3.2:3b');
    await expect
      .poll(
        () => page.getByTestId('notice').filter({ hasText: 'llama3.2:3b was downloaded' }).count(),
        T,
      )
      .toBe(1);
  });

  it('Models: Piper voices listed from its voice folder, and a download with a live progress bar', async () => {
    const section = page.getByTestId('piper-voices');
    await expect.poll(() => section.textContent(), T).toContain('piper-voices');
    await page.getByLabel('Download a voice').fill('en_US-lessac-medium');
    await section.getByRole('button', { name: 'Download', exact: true }).click();
    const progress = page.getByTestId('piper-voice-progress');
    await expect
      .poll(async () => Number(await progress.locator('progress').getAttribute('value')), T)
      .toBeGreaterThan(0);
    await shot('piper-voice-downloading-light');
    await expect.poll(() => progress.textContent(), T).toContain('downloaded');
    expect(await progress.locator('progress').getAttribute('value')).toBe('100');
    await expect
      .poll(() => page.getByTestId('piper-voice-list').textContent(), T)
      .toContain('en_US-lessac-medium');
  });

  it('Notices: dismissing one removes it for every view', async () => {
    const notice = page.getByTestId('notice').filter({ hasText: 'llama3.2:3b was downloaded' });
    // Only the newest notice is open; older ones fold under "N more notices" (Notices.tsx).
    const more = page.getByTestId('notices-more');
    if ((await more.count()) > 0 && (await more.getAttribute('open')) === null)
      await more.locator('summary').click();
    await notice.getByRole('button', { name: /^Dismiss/ }).click();
    await expect.poll(() => notice.count(), T).toBe(0);
    expect((await snapshot()).notices.some((n) => n.message.includes('llama3.2:3b'))).toBe(false);
  });

  it('Latency check: LLM first token and TTS first byte against 200 ms, pass or fail', async () => {
    await go('latency');
    await page.getByRole('button', { name: 'Run latency check' }).click();
    const results = page.getByTestId('latency-results');
    await results.waitFor(T);
    for (const id of ['ollama', 'vibevoice', 'piper']) {
      const row = results.getByTestId(`latency-${id}`);
      expect(await row.textContent()).toMatch(/< 200 ms/);
      // The fakes answer in a few ms: a pass, with a measured median.
      expect(await row.locator('.verdict-pass').count()).toBe(1);
      expect(await row.textContent()).toMatch(/[\d.]+ ms/);
    }
    expect(await results.getByTestId('latency-ollama').textContent()).toContain('mistral:7b');
    await shot('latency-light');
  });

  it('Settings: a refused value is shown at its field (the API’s 400), a good one is saved', async () => {
    await go('settings');
    const port = page.getByLabel('Control port');
    await port.waitFor(T);
    await shot('settings-light');
    // Each input's help is the settings definition's description (main/core/settings/schema.ts), word for word.
    const helps = await page.locator('form.settings [data-field]').evaluateAll((els) =>
      els.map((el) => {
        const ids = (el.getAttribute('aria-describedby') ?? '').split(' ');
        const help = ids
          .map((id) => document.getElementById(id))
          .find((n) => n?.classList.contains('help'));
        return [el.getAttribute('data-field')!, help?.textContent ?? null] as const;
      }),
    );
    expect(helps.length).toBeGreaterThan(40);
    for (const [field, help] of helps)
      expect(help, field).toBe(fieldSchema(formSchema(), field.split('.'))!.schema.description);
    await port.fill('70000');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const error = page.getByTestId('settings-error');
    await expect.poll(() => error.textContent(), T).toMatch(/api\.port must be at most 65535/);
    expect(await port.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await port.getAttribute('aria-describedby'))!.split(' ');
    expect(await page.locator(`[id="${describedBy[0]}"]`).textContent()).toBe(
      'Must be at most 65535',
    );
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-field'))).toBe(
      'api.port',
    );
    expect((await api(h, 'GET', '/api/settings')).body).toMatchObject({ api: { port: 11400 } }); // nothing changed
    await shot('settings-error-light');

    // A cross-field rule: cool must come after warm.
    await port.fill('11400');
    await page.getByLabel('Cool after').fill('10');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect
      .poll(() => error.textContent(), T)
      .toMatch(/hibernation\.coolAfterSeconds must be greater than warmAfterSeconds/);
    expect(await page.getByLabel('Cool after').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Cool after').fill('300');

    await page.getByLabel('Name', { exact: true }).fill('Studio Renamed');
    await page.getByLabel('Models to preload').fill('mistral:7b\nllama3.2:1b');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Saved.' }).count(), T)
      .toBe(1);
    await expect.poll(() => page.getByTestId('host-name').textContent(), T).toBe('Studio Renamed');
    expect((await api(h, 'GET', '/api/settings')).body).toMatchObject({
      displayName: 'Studio Renamed',
      models: { preload: ['mistral:7b', 'llama3.2:1b'] },
    });
  });

  it('Pairing: two cores pair through their dashboards with the code, then unpair', async () => {
    const other = await browser.newPage({ viewport: { width: 1200, height: 860 } });
    await other.goto(`${spare.url}#token=${spare.token}`);
    await go('pairing', other);
    await go('pairing');
    await page.getByText('Pair by address', { exact: true }).click();
    await page.getByLabel('Address').fill('127.0.0.1');
    await page.getByLabel('Control port').fill(String(spare.port));
    // (Other hosts on this machine's loopback may be listed too: use the by-address form's button.)
    await page.getByTestId('pair-by-address').getByRole('button', { name: 'Pair…' }).click();
    await page.getByTestId('pairing-outgoing').waitFor(T);
    // The other host shows the code (and only its token-holding dashboard can read it).
    const codeEl = other.getByTestId('pairing-code');
    await codeEl.waitFor(T);
    const code = (await codeEl.textContent())!.replace(/\D/g, '');
    expect(code).toMatch(/^\d{6}$/);
    await shot('pairing-code-light', other);
    // A wrong code first: refused, with the tries left.
    const wrong = code === '000000' ? '111111' : '000000';
    await page.getByLabel(/6-digit code/).fill(wrong);
    await page.getByRole('button', { name: 'Pair', exact: true }).click();
    await expect
      .poll(() => page.getByTestId('pairing-outgoing').textContent(), T)
      .toMatch(/tries|attempt|wrong/i);
    await page.getByLabel(/6-digit code/).fill(code);
    await page.getByRole('button', { name: 'Pair', exact: true }).click();
    await expect
      .poll(() => page.getByTestId('pairing-result').textContent(), T)
      .toBe('Paired with Spare PC.');
    // Both sides list the other, hear its heartbeats, and agree the primary serves.
    await expect.poll(() => page.getByTestId('peers').textContent(), T).toContain('Spare PC');
    await expect
      .poll(() => other.getByTestId('peers').textContent(), T)
      .toContain('Studio Renamed');
    await expect
      .poll(() => page.getByTestId('peers').getByTestId('last-seen').textContent(), T)
      .toMatch(/just now|\d+ s ago/);
    await expect
      .poll(() => page.getByTestId('who-serves').textContent(), T)
      .toBe('This computer (Studio Renamed) serves.');
    await expect
      .poll(() => other.getByTestId('who-serves').textContent(), T)
      .toBe('Studio Renamed serves.');
    await shot('pairing-paired-light');
    await shot('pairing-paired-other-light', other);

    await page.getByRole('button', { name: 'Unpair Spare PC…' }).click();
    await page.getByRole('button', { name: 'Unpair Spare PC', exact: true }).click();
    await expect
      .poll(() => page.getByTestId('pairing-result').textContent(), T)
      .toBe('Unpaired Spare PC.');
    await expect
      .poll(async () => (await snapshot(spare)).peers.filter((p) => p.paired !== false).length, T)
      .toBe(0);
    await other.close();
  });

  it('keyboard: the sections are links; Enter moves there and focus lands on the heading', async () => {
    await go('services');
    await page.getByTestId('nav-gpu').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#gpu');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid')))
      .toBe('section-title');
    expect(await page.getByTestId('nav-gpu').getAttribute('aria-current')).toBe('page');
    // Every button and input has an accessible name.
    for (const hash of ['services', 'hibernation', 'models', 'settings', 'pairing']) {
      await go(hash);
      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll('main button, main input, main select, main textarea')]
          .filter((el) => {
            const e = el as HTMLInputElement;
            const label = e.labels?.length ? e.labels[0]!.textContent : '';
            return !(
              e.getAttribute('aria-label') ||
              label?.trim() ||
              (el.tagName === 'BUTTON' && el.textContent?.trim())
            );
          })
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      expect(unnamed, `unnamed controls in #${hash}`).toEqual([]);
    }
  });

  it('dark mode: every section renders with the dark palette', async () => {
    const dark = await browser.newPage({
      viewport: { width: 1200, height: 860 },
      colorScheme: 'dark',
    });
    await dark.goto(`${h.url}#token=${h.token}`);
    await expect.poll(() => dark.getByTestId('host-name').textContent(), T).toBe('Studio Renamed');
    expect(await dark.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      'rgb(16, 19, 23)',
    );
    for (const hash of ['services', 'gpu', 'hibernation', 'pairing', 'models', 'settings']) {
      await go(hash, dark);
      await dark.waitForTimeout(300);
      await shot(`${hash}-dark`, dark);
    }
    await dark.close();
  });

  it('without a token: a read-only view with the token form, and no actions', async () => {
    const ro = await browser.newPage();
    await ro.goto(h.url);
    await expect.poll(() => ro.getByTestId('host-name').textContent(), T).toBe('Studio Renamed');
    expect(await ro.getByLabel(/access token/).count()).toBe(1);
    await expect.poll(() => statusOf('ollama', ro), T).toBe('running');
    expect(await ro.getByRole('button', { name: 'Stop Ollama' }).isDisabled()).toBe(true);
    await ro.getByLabel(/access token/).fill(h.token);
    await ro.getByRole('button', { name: 'Unlock' }).click();
    await expect
      .poll(() => ro.getByRole('button', { name: 'Stop Ollama' }).isDisabled(), T)
      .toBe(false);
    await ro.close();
  });
});
