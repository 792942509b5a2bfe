// Issue #20, finding 5: a token holder ran any program as the server's user at once, with
// `PUT /api/settings` naming a new service's command, or only `env.NODE_OPTIONS` on a preset.
// Changes of which program runs now need the local user (settings/programs.ts).

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { unconfirmedProgramChanges } from '../../main/core/settings/programs.js';
import { defaultSettings, type HostFacts, type Settings } from '../../main/core/settings/schema.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { tempDir } from '../helpers/headless.js';

const cores: Core[] = [];
afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.stop('quit').catch(() => {})));
});

async function core(): Promise<{
  c: Core;
  put: (body: unknown) => Promise<{
    status: number;
    body: { error?: { code: string; field?: string; message: string } };
  }>;
}> {
  const dataDir = tempDir('unamentis-programs-');
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      services: {
        ollama: { enabled: false },
        vibevoice: { enabled: false },
        piper: { enabled: false },
        whisper: { enabled: false },
      },
      discovery: { advertise: false, interfaces: [] },
    }),
  );
  const c = createCore({
    dataDir,
    port: 0,
    bind: '127.0.0.1',
    logger: nullLogger,
    rendererDir: null,
    supervisor: { autoStart: false },
  });
  cores.push(c);
  await c.start();
  const put = async (body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${c.address()!.port}/api/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${c.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as { error?: { code: string; field?: string; message: string } },
    };
  };
  return { c, put };
}

describe('program changes over the API', () => {
  it('refuses a new service with a command, and env.NODE_OPTIONS on a preset: 403, nothing saved', async () => {
    const { c, put } = await core();
    const svc = await put({
      services: {
        evil: { enabled: true, command: '/bin/sh', args: ['-c', 'touch /tmp/pwned'], port: 9999 },
      },
    });
    expect(svc.status).toBe(403);
    expect(svc.body.error).toMatchObject({ code: 'forbidden', field: 'services.evil.command' });
    expect(svc.body.error!.message).toContain('services.evil.args');
    const env = await put({
      services: { ollama: { env: { NODE_OPTIONS: '--require /tmp/x.js' } } },
    });
    expect(env.status).toBe(403);
    expect(env.body.error!.field).toBe('services.ollama.env.NODE_OPTIONS');
    for (const body of [
      { services: { piper: { env: { LD_PRELOAD: '/tmp/x.so' } } } },
      { services: { vibevoice: { options: { dir: '/tmp/evil' } } } },
      { services: { vibevoice: { options: { script: '/tmp/evil.py' } } } },
      { services: { whisper: { cwd: '/tmp' } } },
      { services: { ollama: { args: ['serve', '--evil'] } } },
    ]) {
      expect((await put(body)).status).toBe(403);
    }
    expect(c.settings.get().services.evil).toBeUndefined();
    expect(c.settings.get().services.ollama?.env).toBeUndefined();
  });

  it('accepts data-only changes, the preset’s own programs, and a path the user picked in the app', async () => {
    const { c, put } = await core();
    expect(
      (
        await put({
          services: {
            ollama: {
              port: 11500,
              env: { CUDA_VISIBLE_DEVICES: '0' },
              options: { keepAlive: '10m' },
            },
          },
        })
      ).status,
    ).toBe(200);
    expect((await put({ services: { ollama: { command: '/usr/local/bin/ollama' } } })).status).toBe(
      200,
    );
    expect((await put({ services: { piper: { command: '/opt/piper/bin/python' } } })).status).toBe(
      403,
    );
    c.settings.confirmProgram('/opt/piper/bin/python');
    expect((await put({ services: { piper: { command: '/opt/piper/bin/python' } } })).status).toBe(
      200,
    );
    expect(c.settings.get().services.piper?.command).toBe('/opt/piper/bin/python');
    // The local side (the app after its dialog, or the file) is not limited.
    expect(
      c.settings.update({ services: { piper: { args: ['-m', 'piper.http_server'] } } }).ok,
    ).toBe(true);
  });
});

describe('unconfirmedProgramChanges', () => {
  const base = (): Settings =>
    defaultSettings({ platform: 'linux' } as HostFacts, {
      hostId: '00000000-0000-0000-0000-000000000000',
      token: 'x'.repeat(32),
    });
  it('unchanged unsafe values stay allowed (a file-configured NODE_OPTIONS does not block other edits)', () => {
    const prev = base();
    prev.services.ollama = {
      env: { NODE_OPTIONS: '--max-old-space-size=4096' },
      command: '/srv/ollama',
    };
    const next = structuredClone(prev);
    next.services.ollama!.port = 11500;
    expect(unconfirmedProgramChanges(prev, next, () => false)).toEqual([]);
    next.services.ollama!.env!.NODE_OPTIONS = '--require x';
    expect(unconfirmedProgramChanges(prev, next, () => false)).toEqual([
      'services.ollama.env.NODE_OPTIONS',
    ]);
  });
});
