// A graceful quit drains (issue 14): a streamed chat answer in flight when the quit begins is
// finished by the services before they stop. A real core with the fake Ollama behind its front door.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  servicesBehindFrontDoor,
  startFrontDoorCore,
  type FrontDoorHarness,
} from './frontdoor-fakes.js';

let h: FrontDoorHarness | null = null;
afterEach(async () => {
  await h?.stop().catch(() => {});
  if (h) fs.rmSync(h.dataDir, { recursive: true, force: true });
  h = null;
});

describe('graceful quit drains requests in flight', () => {
  it('a streamed answer started before the quit ends with [DONE]; the services stop after it', async () => {
    h = await startFrontDoorCore({
      services: (ports) => {
        const s = servicesBehindFrontDoor(ports, {
          ollama: { FAKE_TOKENS: '8', FAKE_TOKEN_DELAY_MS: '250' },
        });
        return { ...s, vibevoice: { enabled: false }, piper: { enabled: false } };
      },
    });
    await expect.poll(() => h!.service('ollama').status, { timeout: 20_000 }).toBe('running');
    const res = await fetch(`http://127.0.0.1:${h.ports.ollama}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'mistral:7b',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
    });
    expect(res.status).toBe(200);
    const reading = res.text();
    await new Promise((r) => setTimeout(r, 300)); // a token or two in
    expect(h.core.frontDoor.inFlight()).toBe(1);
    const t0 = Date.now();
    await h.core.stop('quit');
    const body = await reading;
    expect(body).toContain('data: [DONE]');
    // The quit waited for the answer (8 tokens 250 ms apart), not the drain's 30 s bound.
    expect(Date.now() - t0).toBeGreaterThan(1_000);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});
