// The window between the front door's verdict and the connect (issue 13, "a request for a service
// that hibernation stopped or unloaded … is held, not refused"): the store still says the program
// runs and is healthy, but nothing listens on its internal port yet (it was stopped right after the
// door decided to forward, and is being started again). The request must go back to being held and
// be answered once the program listens, through the audio adapters (VibeVoice's and Piper's
// speech) and plain pass-through alike; a program that keeps refusing past the hold limit is a 502.
// The door runs alone here (no supervisor): the test writes the services section itself, which is
// what pins the window open deterministically.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StateStore } from '../../main/core/state/store.js';
import { SettingsStore } from '../../main/core/settings/store.js';
import { CommandBus } from '../../main/core/commands.js';
import { EventHub } from '../../main/core/api/sse.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { systemClock } from '../../main/core/util/clock.js';
import type { CoreContext } from '../../main/core/context.js';
import type { ServiceEntry } from '../../main/core/contract.js';
import { createFrontDoor, type FrontDoor } from '../../main/core/frontdoor/index.js';
import { tempDir } from '../helpers/headless.js';
import {
  fakePiper,
  fakeVibevoice,
  freePort,
  freePorts,
  until,
  type FakePorts,
} from './hibernation-fakes.js';
import { post, speechBody } from './frontdoor-fakes.js';

let ctx: CoreContext;
let fd: FrontDoor;
let ports: FakePorts;
let echoPort: number;
const upgradeEcho = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/upgrade-echo.mjs',
);
const children: ChildProcess[] = [];

const entry = (id: string, name: string, port: number): ServiceEntry => ({
  id,
  name,
  enabled: true,
  status: 'running',
  port,
  pid: 4242,
  restarts: 0,
  uptimeSeconds: 10,
  health: { ok: true, latencyMs: 1 },
  lastError: null,
});

/** The program behind the door, started on its internal port (it opens the port after loading). */
function startProgram(id: 'vibevoice' | 'piper', loadMs: number): ChildProcess {
  const at = fd.placement(id)!;
  const args =
    id === 'vibevoice'
      ? [fakeVibevoice, '--host', at.host, '--port', String(at.port), '--device', 'cpu']
      : [fakePiper, '-m', 'en_US-amy-medium', '--host', at.host, '--port', String(at.port)];
  const child = spawn(process.execPath, args, {
    stdio: 'ignore',
    env: { ...process.env, FAKE_LOAD_DELAY_MS: String(loadMs), FAKE_START_DELAY_MS: '0' },
  });
  children.push(child);
  return child;
}

const stopPrograms = async () => {
  await Promise.all(
    children.splice(0).map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          c.once('exit', () => r());
          c.kill('SIGKILL');
        }),
    ),
  );
};

beforeAll(async () => {
  ports = await freePorts();
  echoPort = await freePort();
  const dataDir = tempDir('unamentis-fd-refused-');
  const node = process.execPath;
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      serveOnLan: false,
      discovery: { advertise: false, interfaces: [] },
      frontDoor: { enabled: true, maxHoldSeconds: 20 },
      services: {
        ollama: { enabled: false },
        whisper: { enabled: false },
        vibevoice: {
          command: node,
          args: [fakeVibevoice, '--host', '{host}', '--port', '{port}'],
          port: ports.vibevoice,
        },
        piper: {
          command: node,
          args: [fakePiper, '--host', '{host}', '--port', '{port}'],
          port: ports.piper,
        },
        // A user's own program that takes WebSocket upgrades (the door's Upgrade path).
        echo: { command: node, args: [upgradeEcho, '{host}', '{port}'], port: echoPort },
      },
    }),
  );
  const { store: settings } = SettingsStore.open({
    dataDir,
    facts: { platform: process.platform, hostname: 'test' },
  });
  const store = new StateStore(
    {
      host: {
        id: 'x',
        name: 'test',
        platform: process.platform,
        role: 'primary',
        prio: 200,
        serving: true,
      },
      hibernation: { state: 'active', idleSeconds: 0, next: null },
      services: [],
      gpu: { sampledAt: null, gpus: [], models: [] },
      peers: [],
    },
    () => Date.now(),
  );
  ctx = {
    store,
    settings,
    commands: new CommandBus(),
    events: new EventHub(),
    logger: nullLogger,
    clock: systemClock,
    dataDir,
    isReady: () => true,
  };
  fd = createFrontDoor(ctx, { hibernation: () => null });
  await fd.start();
  expect(fd.placement('vibevoice')).not.toBeNull();
  expect(fd.placement('piper')).not.toBeNull();
});

afterEach(stopPrograms);

afterAll(async () => {
  await fd?.stop();
  await stopPrograms();
});

/** The store says both run and are healthy: the door's verdict is "forward" at once. */
const sayRunning = () =>
  ctx.store.set('services', [
    entry('vibevoice', 'VibeVoice', ports.vibevoice),
    entry('piper', 'Piper', ports.piper),
  ]);

describe('a request whose upstream refuses the connect after the door decided to forward', () => {
  it('VibeVoice speech (audio adapter, streamed body): held again and answered once it listens', async () => {
    sayRunning();
    // Nothing listens yet; the program opens its port 600 ms from now (it is being started again).
    const answer = post(`http://127.0.0.1:${ports.vibevoice}/v1/audio/speech`, speechBody('held'));
    startProgram('vibevoice', 600);
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await res.arrayBuffer());
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.length).toBeGreaterThan(44);
    expect(
      ctx.store.get('frontDoor')!.ports.find((p) => p.id === 'vibevoice')!.heldTotal,
    ).toBeGreaterThan(0);
  });

  it('Piper speech (audio adapter, body read and translated): held again and answered once it listens', async () => {
    sayRunning();
    const answer = post(`http://127.0.0.1:${ports.piper}/v1/audio/speech`, speechBody('held too'));
    startProgram('piper', 600);
    const res = await answer;
    expect(res.status).toBe(200);
    const wav = Buffer.from(await res.arrayBuffer());
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.length).toBeGreaterThan(44);
  });

  it('plain pass-through (VibeVoice voice list): held again and answered once it listens', async () => {
    sayRunning();
    const answer = fetch(`http://127.0.0.1:${ports.vibevoice}/v1/audio/voices`);
    startProgram('vibevoice', 600);
    const res = await answer;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { voices: unknown[] };
    expect(body.voices.length).toBeGreaterThan(0);
  });

  it('a kept-alive connection to a program that dies with the request on it: sent again, answered by the next one', async () => {
    sayRunning();
    const first = startProgram('vibevoice', 0);
    await until('VibeVoice listens', async () => {
      const r = await post(
        `http://127.0.0.1:${ports.vibevoice}/v1/audio/speech`,
        speechBody('warm'),
      );
      await r.arrayBuffer();
      return r.status === 200;
    });
    // The door keeps that connection for the next request. The program freezes (as one being
    // stopped), takes the next request on that connection, and dies without answering it.
    first.kill('SIGSTOP');
    const answer = post(`http://127.0.0.1:${ports.vibevoice}/v1/audio/speech`, speechBody('again'));
    await new Promise((r) => setTimeout(r, 300));
    const gone = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await gone;
    startProgram('vibevoice', 300); // the supervisor's start after the wake
    const res = await answer;
    expect(res.status).toBe(200);
    const wav = Buffer.from(await res.arrayBuffer());
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
  });

  it('the same through plain pass-through (a JSON body on a kept-alive connection)', async () => {
    sayRunning();
    const first = startProgram('vibevoice', 0);
    // VibeVoice answers 404 JSON for a route it does not have: the door passes it through as is.
    const ask = () =>
      post(`http://127.0.0.1:${ports.vibevoice}/v1/unknown`, JSON.stringify({ n: 1 }));
    await until('VibeVoice listens', async () => {
      const r = await ask();
      await r.arrayBuffer();
      return r.status === 404;
    });
    first.kill('SIGSTOP');
    const answer = ask();
    await new Promise((r) => setTimeout(r, 300));
    const gone = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await gone;
    startProgram('vibevoice', 300);
    const res = await answer;
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });

  it('a request held again after a refused connect takes a place in the queue (frontDoor.maxHeldRequests)', async () => {
    const r = ctx.settings.update({ frontDoor: { maxHeldRequests: 2 } });
    if (!r.ok) throw new Error(r.problem.message);
    try {
      sayRunning();
      // Forwarded (the store says running), refused (nothing listens): all three are held again,
      // but only two places exist.
      const answers = [1, 2, 3].map((i) =>
        fetch(`http://127.0.0.1:${ports.vibevoice}/v1/audio/voices?i=${i}`),
      );
      const first = await Promise.race(answers);
      expect(first.status).toBe(503);
      expect(first.headers.get('retry-after')).toBe('5');
      expect(((await first.json()) as { error: { message: string } }).error.message).toMatch(
        /2 requests are already waiting/,
      );
      expect(fd.heldCount('vibevoice')).toBe(2);
      startProgram('vibevoice', 0);
      const all = await Promise.all(answers);
      expect(all.map((a) => a.status).sort()).toEqual([200, 200, 503]);
      await Promise.all(all.map((a) => a.arrayBuffer().catch(() => null)));
    } finally {
      ctx.settings.update({ frontDoor: { maxHeldRequests: 64 } });
    }
  });

  it('a WebSocket upgrade whose connect is refused is held, then joined once the program listens', async () => {
    ctx.store.set('services', [entry('echo', 'echo', echoPort)]);
    const at = fd.placement('echo')!;
    const reply = upgradeExchange(echoPort, 'ping');
    const child = spawn(process.execPath, [upgradeEcho, at.host, String(at.port)], {
      stdio: 'ignore',
      env: { ...process.env, FAKE_LISTEN_DELAY_MS: '600' },
    });
    children.push(child);
    const got = await reply;
    expect(got).toMatch(/^HTTP\/1\.1 101 Switching Protocols/);
    expect(got).toContain('x-seen-path: /stream');
    expect(got.endsWith('\r\n\r\nping')).toBe(true);
  });

  it('a WebSocket upgrade for a service that will not start is answered 503 with the reason', async () => {
    ctx.store.set('services', [
      { ...entry('echo', 'echo', echoPort), status: 'stopped', pid: null, health: null },
    ]);
    const got = await upgradeExchange(echoPort, null);
    expect(got).toMatch(/^HTTP\/1\.1 503 Service Unavailable/);
    const body = JSON.parse(got.slice(got.indexOf('\r\n\r\n') + 4)) as {
      error: { code: string; message: string };
    };
    expect(body.error.code).toBe('service_unavailable');
    expect(body.error.message).toMatch(/echo is stopped on this server/);
  });

  it('a program said to be running that keeps refusing is a 502 once the hold limit is past', async () => {
    const r = ctx.settings.update({ frontDoor: { maxHoldSeconds: 1 } });
    if (!r.ok) throw new Error(r.problem.message);
    try {
      sayRunning();
      const t0 = Date.now();
      const [speech, plain] = await Promise.all([
        post(`http://127.0.0.1:${ports.vibevoice}/v1/audio/speech`, speechBody('nobody')),
        fetch(`http://127.0.0.1:${ports.vibevoice}/v1/audio/voices`),
      ]);
      expect(speech.status).toBe(502);
      expect(plain.status).toBe(502);
      expect(((await plain.json()) as { error: { code: string } }).error.code).toBe('bad_gateway');
      expect(((await speech.json()) as { error: { code: string } }).error.code).toBe('bad_gateway');
      // Held (tried again) until the limit, not refused at the first connect.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      await until('nothing held', () => fd.heldCount() === 0, 5000);
    } finally {
      ctx.settings.update({ frontDoor: { maxHoldSeconds: 20 } });
    }
  });
});

/**
 * Sends an Upgrade request for /stream to the door's `port`; once the 101 comes, sends `echo` and
 * resolves with everything read when it comes back (or, with `echo` null, when the door closes).
 */
function upgradeExchange(port: number, echo: string | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write(
        'GET /stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      );
    });
    let got = '';
    let sent = false;
    sock.on('data', (d: Buffer) => {
      got += d.toString();
      if (echo !== null && !sent && got.includes('\r\n\r\n') && got.startsWith('HTTP/1.1 101')) {
        sent = true;
        sock.write(echo);
      }
      if (echo !== null && sent && got.endsWith(echo)) {
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('close', () => resolve(got));
    sock.on('error', reject);
    setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer: ${got}`));
    }, 10_000);
  });
}
