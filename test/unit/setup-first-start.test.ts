// When the setup view opens by itself: the app's first start (until closed), and a missing
// service; an install that predates setup opens it only for a missing service.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceEntry } from '../../main/core/contract.js';
import { testContext } from '../helpers/core-context.js';
import type { CoreContext } from '../../main/core/context.js';
import { createSetup, serviceMissing } from '../../main/core/setup/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function context(dataDir: string, services: ServiceEntry[] = []): CoreContext {
  return testContext({
    dataDir,
    platform: 'linux',
    hostname: 'box',
    host: { role: 'fallback', prio: 100 },
    services,
  });
}

const supervisor = { get: () => undefined, onLog: () => () => {}, waitReady: async () => true };
const entry = (
  id: string,
  status: ServiceEntry['status'],
  lastError: string | null,
): ServiceEntry => ({
  id,
  name: id,
  enabled: true,
  status,
  port: 1,
  pid: null,
  restarts: 0,
  uptimeSeconds: 0,
  health: null,
  lastError,
});

describe('setup: when it opens', () => {
  it('on the first start, until closed; the close is kept across restarts', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unamentis-setup-first-'));
    dirs.push(dir);
    const ctx = context(dir);
    const a = createSetup(ctx, { supervisor, firstStart: true });
    expect(a.view()).toMatchObject({ needed: true, reason: 'first start', tier: null });
    // The tray app shows no window: a notice (a desktop notification opening #setup) says where to begin.
    a.start();
    expect(ctx.store.snapshot().notices.map((n) => n.code)).toEqual(['setup_needed']);
    // Quit before any click: the next start (settings exist now) still opens it.
    expect(createSetup(context(dir), { supervisor, firstStart: false }).view().needed).toBe(true);
    a.dismiss();
    expect(a.view().needed).toBe(false);
    expect(ctx.store.snapshot().notices).toEqual([]);
    void a.stop();
    const b = createSetup(context(dir), { supervisor, firstStart: false });
    expect(b.view().needed).toBe(false);
  });

  it('an install from before setup (settings existed) opens it only for a missing service', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unamentis-setup-old-'));
    dirs.push(dir);
    expect(createSetup(context(dir), { supervisor, firstStart: false }).view().needed).toBe(false);
    const missing = entry(
      'piper',
      'failed',
      'Piper is not installed for the Python at /usr/bin/python3. Install it with …',
    );
    const v = createSetup(context(dir, [missing]), { supervisor, firstStart: false }).view();
    expect(v).toMatchObject({ needed: true, reason: 'Piper is not installed' });
  });

  it('missing means failed for a missing program, script, module or voice; not a crash or a stop', () => {
    expect(
      serviceMissing(
        entry('ollama', 'failed', 'Ollama was not found (looked on PATH for ollama …)'),
      ),
    ).toBe(true);
    expect(
      serviceMissing(
        entry(
          'vibevoice',
          'failed',
          'VibeVoice cannot start: the Python at /x/python has no module "torch".…',
        ),
      ),
    ).toBe(true);
    expect(
      serviceMissing(
        entry(
          'piper',
          'failed',
          'Piper could not find the voice "en_US-amy-medium". Download it …',
        ),
      ),
    ).toBe(true);
    expect(serviceMissing(entry('ollama', 'failed', 'Ollama crashed 5 times in 60 s'))).toBe(false);
    expect(serviceMissing(entry('ollama', 'stopped', 'Ollama was not found'))).toBe(false);
    expect(
      serviceMissing({ ...entry('ollama', 'failed', 'Ollama was not found'), enabled: false }),
    ).toBe(false);
  });
});
