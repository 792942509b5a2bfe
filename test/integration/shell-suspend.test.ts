// What the shell's powerMonitor calls: core.suspend() says goodbye on mDNS and leaves the services
// alone; core.resume() announces again. A real core (mDNS on loopback, no services).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { tempDir } from '../helpers/headless.js';

describe('core suspend / resume', () => {
  let core: Core;
  beforeAll(async () => {
    core = createCore({
      dataDir: tempDir(),
      port: 0,
      bind: '127.0.0.1',
      logger: nullLogger,
      rendererDir: null,
      supervisor: { autoStart: false },
    });
    core.settings.update({
      services: {
        ollama: { enabled: false },
        vibevoice: { enabled: false },
        piper: { enabled: false },
      },
      hibernation: { preventSleep: false },
    });
    await core.start();
  });
  afterAll(async () => {
    await core?.stop('quit');
  });

  it('withdraws the announcement on suspend and brings it back on resume; the API stays up', async () => {
    await expect.poll(() => core.discovery.advertisedName(), { timeout: 10_000 }).not.toBeNull();
    await core.suspend();
    expect(core.discovery.advertisedName()).toBeNull();
    const health = await fetch(`http://127.0.0.1:${core.address()!.port}/health`);
    expect(health.status).toBe(200);
    await core.suspend(); // twice is harmless
    await core.resume();
    await expect.poll(() => core.discovery.advertisedName(), { timeout: 10_000 }).not.toBeNull();
  });
});
