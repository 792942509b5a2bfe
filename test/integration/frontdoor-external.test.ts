// Item 6 of issue 13: an Ollama that another program runs on 127.0.0.1:PORT (the Ollama desktop
// app binds loopback unless "Expose Ollama to the network" is on: reference/unamentis-app.md) is
// reachable from the LAN through the front door, which binds the LAN addresses only and says so.
// The external program here is plain fake-ollama bound to 127.0.0.1 (the desktop-app fake with its
// 1 s respawn belongs to issue 15).

import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanIPv4 } from '../../main/core/frontdoor/index.js';
import { fakeOllama, freePorts, until } from './hibernation-fakes.js';
import {
  post,
  servicesBehindFrontDoor,
  startFrontDoorCore,
  type FrontDoorHarness,
} from './frontdoor-fakes.js';

const lan = lanIPv4()[0];
let h: FrontDoorHarness | undefined;
let external: ChildProcess | undefined;

beforeAll(async () => {
  if (!lan) return;
  const ports = await freePorts();
  external = spawn(process.execPath, [fakeOllama, 'serve'], {
    env: { ...process.env, OLLAMA_HOST: `127.0.0.1:${ports.ollama}` },
    stdio: 'ignore',
  });
  await until(
    'the external Ollama answers',
    async () => (await fetch(`http://127.0.0.1:${ports.ollama}/api/version`)).ok,
    10_000,
  );
  h = await startFrontDoorCore({
    ports,
    // The LAN address of this machine is not a private one in every test environment: let it in.
    settings: { frontDoor: { allowFrom: 'any' } },
    services: (p) => ({
      ...servicesBehindFrontDoor(p),
      vibevoice: { enabled: false },
      piper: { enabled: false },
    }),
  });
  await until(
    'Ollama adopted as external',
    () => h!.service('ollama')?.status === 'external',
    20_000,
  );
});

afterAll(async () => {
  await h?.stop();
  external?.kill('SIGTERM');
});

describe('an external Ollama on loopback', () => {
  it('is reachable from the LAN address through the front door, which says what it did', async (t) => {
    if (!lan || !h) return t.skip('this machine has no non-loopback IPv4 address');
    const door = h.core.store.get('frontDoor')!.ports.find((p) => p.id === 'ollama')!;
    expect(door).toMatchObject({
      listening: 'lan',
      addresses: [lan],
      lan: true,
      upstream: `127.0.0.1:${h.ports.ollama}`,
    });
    expect(door.note).toMatch(
      new RegExp(
        `Port ${h.ports.ollama} is taken on 127\\.0\\.0\\.1 by another program \\(probably the Ollama desktop app\\): the front door listens on the LAN address ${lan.replace(/\./g, '\\.')} only`,
      ),
    );
    await until(
      'behind is external',
      () =>
        h!.core.store.get('frontDoor')!.ports.find((p) => p.id === 'ollama')!.behind === 'external',
      5000,
    );
    const res = await post(
      `http://${lan}:${h.ports.ollama}/v1/chat/completions`,
      JSON.stringify({
        model: 'mistral:7b',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      }),
    );
    expect(res.status).toBe(200);
    expect((await res.text()).trim().endsWith('data: [DONE]')).toBe(true);
    await until(
      'the request counted',
      () =>
        h!.core.store.get('frontDoor')!.ports.find((p) => p.id === 'ollama')!.requestsLastMinute >=
        1,
      5000,
    );
  });

  it('keeps reading /api/ps for it: the desktop app\u2019s local users do not pass the front door', (t) => {
    if (!lan || !h) return t.skip('this machine has no non-loopback IPv4 address');
    expect(h.core.frontDoor.seesAll('ollama')).toBe(false);
    expect(h.core.frontDoor.placement('ollama')).toEqual({
      host: '127.0.0.1',
      port: h.ports.ollama,
    });
  });
});
