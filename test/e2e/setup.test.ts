// The setup view in Chromium, from an empty machine to three green cards and a connected phone:
// a real headless core whose download hosts are a loopback server (test/fixtures/setup-host.ts)
// serving fake installers that put the fake services in place, and whose GPU is the fake
// nvidia-smi (an RTX 3060 12 GB: mistral:7b with VibeVoice). Screenshots: test-output/screenshots/setup-*.png.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startHeadless, tempDir, type Headless } from '../helpers/headless.js';
import { chromiumMissing, launchChromium, screenshotDir } from '../helpers/browser.js';
import { gpuEnv, gpuOut, lspciOut, siOut, writeGpuScenario } from '../fixtures/bin/scenario.js';
import { sha256 } from '../fixtures/download-server.js';
import { startSetupHost, type SetupHost } from '../fixtures/setup-host.js';
import { freePort, GPU } from './dashboard-fixtures.js';

const missing = chromiumMissing();
if (missing) console.warn(`SKIPPED setup e2e: ${missing}`);

const T = { timeout: 60_000 };
const VOICE = '/voices/en/en_US/amy/medium/en_US-amy-medium.onnx';

describe.skipIf(!!missing)('setup view in Chromium', () => {
  let work: string;
  let host: SetupHost;
  let h: Headless;
  let browser: Browser;
  let page: Page;
  let piperPort: number;

  const shot = (name: string) =>
    page.screenshot({ path: path.join(screenshotDir, `setup-${name}.png`), fullPage: true });
  const card = (id: string) => page.getByTestId(`setup-${id}`);

  beforeAll(async () => {
    work = tempDir('unamentis-setup-e2e-');
    host = await startSetupHost(work);
    const gpuDir = path.join(work, 'gpu');
    fs.mkdirSync(gpuDir);
    const g = { ...GPU, usedMB: 400 };
    writeGpuScenario(gpuDir, {
      gpu: { out: gpuOut([g]) },
      si: { out: siOut([g]) },
      apps: { out: '' },
      lspci: lspciOut([g]),
    });
    const home = path.join(work, 'home');
    fs.mkdirSync(home);
    piperPort = await freePort();
    [h, browser] = await Promise.all([
      startHeadless({
        // An empty machine: no ollama or uv on PATH, no VibeVoice checkout, a python3 without Piper.
        env: {
          ...gpuEnv(gpuDir, { PATH: '/usr/bin:/bin' }),
          HOME: home,
          UNAMENTIS_SETUP_SOURCES: host.sourcesFile,
        },
        settings: {
          displayName: 'New Gaming PC',
          discovery: { advertise: false, interfaces: [] },
          hibernation: { preventSleep: false },
          models: { preload: [] },
          services: {
            // The services inherit only an allow-list of the server's environment (issue #20):
            // the fake's knobs go in the service's own env.
            ollama: {
              port: await freePort(),
              env: { FAKE_PULL_STEP_MS: '300', FAKE_MODEL_LOAD_MS: '20' },
            },
            vibevoice: { port: await freePort(), env: { FAKE_LOAD_DELAY_MS: '50' } },
            piper: { port: piperPort },
            whisper: { enabled: false },
          },
        },
      }),
      launchChromium(),
    ]);
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.stop(20_000);
    // tsx's parent may exit before the core (its child) has stopped the services: wait for the core's lock to go.
    const end = Date.now() + 20_000;
    while (h && fs.existsSync(path.join(h.dataDir, 'server.lock')) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    await host?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('opens by itself when services are missing, with the tier and why', async () => {
    await page.goto(`${h.url}#token=${h.token}`);
    await expect.poll(() => page.evaluate(() => location.hash), T).toBe('#setup');
    await expect
      .poll(() => page.getByTestId('setup-tier').textContent(), T)
      .toContain('NVIDIA GeForce RTX 3060, 12 GB: mistral:7b with VibeVoice');
    await expect
      .poll(() => card('ollama').getByTestId('setup-badge').textContent(), T)
      .toBe('Not installed');
    for (const id of ['piper', 'vibevoice'])
      expect(await card(id).getByTestId('setup-badge').textContent()).toBe('Not installed');
    expect(await page.getByTestId('setup-tier').textContent()).toMatch(
      /next larger model does not: qwen2\.5:14b-instruct/,
    );
    expect(await page.getByTestId('nav-setup').textContent()).toContain('to do');
    expect(host.server.requests).toEqual([]);
    await shot('empty');
  });

  it('a failed step says why and gives the manual command; the next click succeeds', async () => {
    const good = host.files['/ollama/sha256sum.txt']!.body;
    host.server.set('/ollama/sha256sum.txt', {
      body: String(good).replace(/^[0-9a-f]{64}(?=\s+\.\/ollama-linux)/m, sha256('tampered')),
    });
    await page.getByRole('button', { name: 'Set up Ollama' }).click();
    await expect
      .poll(() => card('ollama').getByTestId('setup-badge').textContent(), T)
      .toBe('Failed');
    expect(await card('ollama').getByRole('alert').textContent()).toMatch(
      /Installing Ollama failed: .*wrong sha256 checksum/,
    );
    expect(await card('ollama').getByTestId('setup-manual').textContent()).toBe(
      'curl -fsSL https://ollama.com/install.sh | sh',
    );
    await shot('failed');
    host.server.set('/ollama/sha256sum.txt', { body: good });
    await page.getByRole('button', { name: 'Try again: set up Ollama' }).click();
    // The model pull shows Ollama's own progress.
    await expect
      .poll(() => card('ollama').getByTestId('setup-progress').textContent(), T)
      .toContain('mistral:7b: pulling');
    await shot('ollama-pulling');
    await expect.poll(() => card('ollama').getAttribute('data-ready'), T).toBe('true');
  });

  it('Piper and VibeVoice at once, with progress bars, to three green cards', async () => {
    host.server.set(VOICE, { ...host.files[VOICE]!, bytesPerSecond: 120_000 });
    await page.getByRole('button', { name: 'Set up Piper' }).click();
    await page.getByRole('button', { name: 'Set up VibeVoice' }).click();
    await expect
      .poll(() => card('piper').getByTestId('setup-progress').textContent(), T)
      .toMatch(/en_US-amy-medium\.onnx.*kB of/);
    await shot('installing');
    for (const id of ['ollama', 'piper', 'vibevoice'])
      await expect
        .poll(() => card(id).getAttribute('data-ready'), { timeout: 90_000 })
        .toBe('true');
    for (const id of ['ollama', 'piper', 'vibevoice'])
      expect(await card(id).getByTestId('setup-badge').textContent()).toBe('Ready');
    // Each phase shows as done, the ones that run every time included.
    for (const id of ['ollama', 'piper', 'vibevoice']) {
      expect(await card(id).locator('.setup-phases li:not(.done)').count()).toBe(0);
    }
    // The old "not found" notices and the failed try are answered: they are gone.
    await expect
      .poll(() => page.getByTestId('notice').allTextContents(), T)
      .not.toEqual(
        expect.arrayContaining([
          expect.stringMatching(/was not found|is not installed|wrong sha256/),
        ]),
      );
    // The services run from what setup installed, as the Services view shows.
    const status = (await (await fetch(`${h.url}api/status`)).json()) as {
      services: { id: string; status: string }[];
    };
    expect(status.services.filter((s) => s.id !== 'whisper').map((s) => s.status)).toEqual([
      'running',
      'running',
      'running',
    ]);
  });

  it('the phone card turns green at the first request from another address', async () => {
    const phone = page.getByTestId('setup-phone');
    expect(await phone.getByTestId('phone-status').textContent()).toBe('Waiting for the phone…');
    expect(await phone.textContent()).toContain('Settings → Self-Hosted Server');
    expect(await phone.textContent()).toMatch(
      /Model: mistral:7b: in the model list, press Refresh/,
    );
    expect(await phone.getByTestId('phone-name').textContent()).toBe('unamentis.local');
    await phone.getByTestId('phone-qr').waitFor(T);
    await shot('waiting-for-phone');
    // The phone: the app's speech request (reference/unamentis-app.md) from 127.0.0.2, an address
    // that is not this host's own, to Piper's public port (the front door's).
    await new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({
        model: 'tts-1',
        input: 'Hello',
        voice: 'nova',
        response_format: 'wav',
      });
      const req = http.request(
        {
          host: '127.0.0.1',
          port: piperPort,
          localAddress: '127.0.0.2',
          method: 'POST',
          path: '/v1/audio/speech',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    await expect
      .poll(() => phone.getByTestId('phone-status').textContent(), T)
      .toBe('Phone connected');
    expect(await phone.getByTestId('phone-seen').textContent()).toMatch(
      /reached Piper from 127\.0\.0\.2/,
    );
    await expect
      .poll(() => page.getByTestId('nav-setup').textContent(), { timeout: 20_000 })
      .not.toContain('to do');
    await shot('done');
    // A phone-sized window (390 px): the cards stack, nothing overflows sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    await shot('done-390');
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#services');
  });
});
