// A real core whose services are the fakes in test/fixtures, each behind the front door: their
// own args take `{host}` and `{port}` (the internal address), and `port` is the public port the
// test picked free. Test-only.

import fs from 'node:fs';
import path from 'node:path';
import { createCore, type Core } from '../../main/core/index.js';
import { acceleratedClock, systemClock } from '../../main/core/util/clock.js';
import { createLogger } from '../../main/core/util/logger.js';
import { NullPowerBlocker } from '../../main/core/power/index.js';
import type { ServiceEntry } from '../../main/core/contract.js';
import { tempDir } from '../helpers/headless.js';
import {
  fakeOllama,
  fakePiper,
  fakeVibevoice,
  freePorts,
  type FakePorts,
} from './hibernation-fakes.js';

export function servicesBehindFrontDoor(
  ports: FakePorts,
  env: Partial<Record<keyof FakePorts, Record<string, string>>> = {},
) {
  const node = process.execPath;
  const startTimeoutSeconds = 3600;
  return {
    ollama: {
      command: node,
      args: [fakeOllama, 'serve'],
      port: ports.ollama,
      startTimeoutSeconds,
      env: { ...env.ollama },
    },
    vibevoice: {
      command: node,
      args: [
        fakeVibevoice,
        '--host',
        '{host}',
        '--port',
        '{port}',
        '--device',
        'cpu',
        '--model-path',
        'microsoft/VibeVoice-Realtime-0.5B',
      ],
      port: ports.vibevoice,
      startTimeoutSeconds,
      env: { ...env.vibevoice },
    },
    piper: {
      command: node,
      args: [fakePiper, '-m', 'en_US-amy-medium', '--host', '{host}', '--port', '{port}'],
      port: ports.piper,
      startTimeoutSeconds,
      env: { ...env.piper },
    },
    whisper: { enabled: false },
  };
}

export interface FrontDoorHarness {
  core: Core;
  ports: FakePorts;
  /** The control API's base URL (no trailing slash). */
  base: string;
  dataDir: string;
  logLines: string[];
  service(id: string): ServiceEntry;
  stop(): Promise<void>;
}

export async function startFrontDoorCore(
  opts: {
    settings?: Record<string, unknown>;
    services?: (ports: FakePorts) => Record<string, unknown>;
    ports?: FakePorts;
    clockFactor?: number;
    lanAddresses?: () => string[];
  } = {},
): Promise<FrontDoorHarness> {
  process.env.UNAMENTIS_MDNS_INTERFACES ??= 'lo';
  const ports = opts.ports ?? (await freePorts());
  const dataDir = tempDir('unamentis-frontdoor-');
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      discovery: { advertise: false, interfaces: [] },
      models: { preload: ['mistral:7b'] },
      gpu: { activeIntervalSeconds: 3600, warmIntervalSeconds: 3600, coldIntervalSeconds: 3600 },
      hibernation: {
        enabled: true,
        warmAfterSeconds: 3600,
        coolAfterSeconds: 7200,
        coldAfterSeconds: 10_800,
        dormantAfterSeconds: 14_400,
      },
      ...opts.settings,
      services: (opts.services ?? servicesBehindFrontDoor)(ports),
    }),
  );
  const logLines: string[] = [];
  const core = createCore({
    dataDir,
    port: 0,
    bind: '127.0.0.1',
    clock: opts.clockFactor ? acceleratedClock(opts.clockFactor) : systemClock,
    power: new NullPowerBlocker('test'),
    rendererDir: null,
    logger: createLogger({ sink: (l) => logLines.push(l), level: 'info' }),
    hibernation: { pollMs: { active: 100, warm: 100, cool: 100, cold: 100, dormant: 100 } },
    ...(opts.lanAddresses ? { frontDoor: { lanAddresses: opts.lanAddresses } } : {}),
  });
  const { url } = await core.start();
  return {
    core,
    ports,
    base: url.replace(/\/$/, ''),
    dataDir,
    logLines,
    service: (id) => core.store.get('services').find((s) => s.id === id)!,
    stop: () => core.stop(),
  };
}

/** The app's TTS request body (reference/unamentis-app.md). */
export const speechBody = (input = 'Hello there.') =>
  JSON.stringify({ model: 'tts-1', input, voice: 'nova', response_format: 'wav' });

export function post(url: string, body: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    ...init,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    body,
  });
}
