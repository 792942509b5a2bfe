// The front door in a real core with the fake services behind it: wake on use from dormant, the
// hold bounds (503 + Retry-After), a client that leaves the queue, a service that cannot start
// answered at once (and POST /api/wake?wait=1 likewise), the LAN filter and the LLM key, learned
// preload, the gateway on the control port, and the snapshot's frontDoor section.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { lanIPv4 } from '../../main/core/frontdoor/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './hibernation-fakes.js';
import {
  post,
  servicesBehindFrontDoor,
  speechBody,
  startFrontDoorCore,
  type FrontDoorHarness,
} from './frontdoor-fakes.js';

let h: FrontDoorHarness;
const url = (id: 'ollama' | 'vibevoice' | 'piper', p: string) =>
  `http://127.0.0.1:${h.ports[id]}${p}`;
const port = (id: string) => h.core.store.get('frontDoor')!.ports.find((p) => p.id === id)!;
const setFd = (patch: Record<string, unknown>) => {
  const r = h.core.settings.update({ frontDoor: patch });
  if (!r.ok) throw new Error(r.problem.message);
};

beforeAll(async () => {
  h = await startFrontDoorCore({
    services: (ports) => {
      const s = servicesBehindFrontDoor(ports, { vibevoice: { FAKE_LOAD_DELAY_MS: '300' } });
      // Whisper stands for "cannot start": its program is missing.
      return {
        ...s,
        whisper: {
          enabled: true,
          command: '/nonexistent/whisper-server',
          args: ['--host', '{host}', '--port', '{port}'],
          port: ports.piper + 1,
        },
      };
    },
  });
  await until(
    'every service running',
    () => ['ollama', 'vibevoice', 'piper'].every((id) => h.service(id)?.status === 'running'),
    30_000,
  );
  await until('whisper failed', () => h.service('whisper')?.status === 'failed', 10_000);
});

afterAll(async () => {
  await h?.stop();
});

describe('the front door with the fakes behind it', () => {
  it('puts each program on an internal loopback port and shows the public one', async () => {
    const o = port('ollama');
    expect(o).toMatchObject({ port: h.ports.ollama, listening: 'all', behind: 'ours', lan: true });
    expect(o.upstream).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(o.upstream).not.toBe(`127.0.0.1:${h.ports.ollama}`);
    const state = (await (await fetch(url('ollama', '/__fake/state'))).json()) as {
      env: { OLLAMA_HOST: string };
    };
    expect(state.env.OLLAMA_HOST).toBe(o.upstream);
    expect(h.service('ollama').port).toBe(h.ports.ollama);
  });

  it('passes the app\u2019s streamed chat through, and counts it', async () => {
    const res = await post(
      url('ollama', '/v1/chat/completions'),
      JSON.stringify({
        model: 'llama3.2:1b',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const content = events
      .slice(0, -1)
      .map(
        (e) =>
          JSON.parse(e.slice('data: '.length)) as { choices: { delta: { content?: string } }[] },
      )
      .map((c) => c.choices[0]!.delta.content ?? '')
      .join('');
    expect(content).toBe('Hello from the fake model.');
    await until('the request counted', () => port('ollama').requestsLastMinute >= 1, 10_000);
  });

  it('learns the model the phone asked for, persists it, and preloads it instead of models.preload', async () => {
    expect(h.core.frontDoor.preloadModels()).toEqual(['llama3.2:1b']);
    await until(
      'persisted',
      () => fs.existsSync(path.join(h.dataDir, 'frontdoor', 'models.json')),
      5000,
    );
    const saved = JSON.parse(
      fs.readFileSync(path.join(h.dataDir, 'frontdoor', 'models.json'), 'utf8'),
    ) as { models: { name: string }[] };
    expect(saved.models[0]!.name).toBe('llama3.2:1b');
  });

  it('answers a service that cannot start at once with 503 and the reason, never held', async () => {
    const res = await post(`http://127.0.0.1:${h.ports.piper + 1}/v1/audio/transcriptions`, '{}');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeNull();
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('service_unavailable');
    expect(body.error.message).toMatch(/^Whisper cannot start: whisper-server was not found/);
    expect(h.core.frontDoor.heldCount()).toBe(0);
  });

  it('POST /api/wake?wait=1 answers 503 with the reason as soon as nothing left can come up (not after 120 s)', async () => {
    const res = await fetch(`${h.base}/api/wake?wait=1`, {
      method: 'POST',
      signal: AbortSignal.timeout(30_000),
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: 'service_unavailable' });
    expect(body.error.message).toMatch(/Whisper cannot start/);
  });

  it('wakes a dormant host on a speech request, holds it, and answers it; dormant kept only the listeners', async () => {
    await h.core.commands.execute({ type: 'hibernate', state: 'dormant' });
    await until(
      'everything stopped',
      () => ['ollama', 'vibevoice', 'piper'].every((id) => h.service(id).status === 'stopped'),
      15_000,
    );
    expect(h.core.store.get('services').every((s) => s.pid === null)).toBe(true);
    await until(
      'the view says nobody is behind',
      () => port('vibevoice').behind === 'nobody',
      5000,
    );
    expect(port('vibevoice').listening).toBe('all');
    const res = await post(url('vibevoice', '/v1/audio/speech'), speechBody());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await res.arrayBuffer());
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(h.core.store.get('hibernation').history!.at(-1)).toMatchObject({
      from: 'dormant',
      to: 'active',
      reason: 'activity (vibevoice request from 127.0.0.1)',
    });
    await until('the hold counted', () => port('vibevoice').heldTotal >= 1, 5000);
  });

  it('a held request past maxHoldSeconds gets 503, Retry-After and what is starting; a full queue is refused at once', async () => {
    // VibeVoice now takes 4 s to load; hold for at most 1 s, one request at a time.
    const before = h.service('vibevoice').pid;
    const r = h.core.settings.update({
      services: { vibevoice: { env: { FAKE_LOAD_DELAY_MS: '4000' } } },
      frontDoor: { maxHoldSeconds: 1, maxHeldRequests: 1 },
    });
    expect(r.ok).toBe(true);
    await until(
      'VibeVoice restarted and running',
      () => h.service('vibevoice').status === 'running' && h.service('vibevoice').pid !== before,
      20_000,
    );
    await h.core.commands.execute({ type: 'hibernate', state: 'dormant' });
    await until('VibeVoice stopped', () => h.service('vibevoice').status === 'stopped', 15_000);
    const first = post(url('vibevoice', '/v1/audio/speech'), speechBody());
    await until('one held', () => h.core.frontDoor.heldCount('vibevoice') === 1, 5000);
    const second = await post(url('vibevoice', '/v1/audio/speech'), speechBody());
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    expect(((await second.json()) as { error: { message: string } }).error.message).toMatch(
      /^VibeVoice is (waking up|starting); 1 requests are already waiting for it/,
    );
    const late = await first;
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('5');
    expect(((await late.json()) as { error: { message: string } }).error.message).toMatch(
      /^VibeVoice is (waking up|starting) and was not ready within 1 s\. Retry in a few seconds\.$/,
    );
    setFd({ maxHoldSeconds: 90, maxHeldRequests: 64 });
  });

  it('drops a client that disconnects while held from the queue', async () => {
    await until(
      'VibeVoice running again',
      () => h.service('vibevoice').status === 'running',
      20_000,
    );
    await h.core.commands.execute({ type: 'hibernate', state: 'dormant' });
    await until('VibeVoice stopped', () => h.service('vibevoice').status === 'stopped', 15_000);
    const ac = new AbortController();
    const gone = post(url('vibevoice', '/v1/audio/speech'), speechBody(), {
      signal: ac.signal,
    }).catch((e: Error) => e);
    await until('held', () => h.core.frontDoor.heldCount('vibevoice') === 1, 5000);
    ac.abort();
    expect(await gone).toBeInstanceOf(Error);
    await until('left the queue', () => h.core.frontDoor.heldCount('vibevoice') === 0, 5000);
    await until(
      'VibeVoice running again',
      () => h.service('vibevoice').status === 'running',
      20_000,
    );
  });

  it('answers only the LAN: a non-private source gets 403 JSON, unless frontDoor.allowFrom is any', async (t) => {
    const own = lanIPv4().find(
      (a) => !/^(10|127)\.|^192\.168\.|^172\.(1[6-9]|2\d|3[01])\.|^169\.254\./.test(a),
    );
    if (!own) return t.skip('this machine has no non-private IPv4 address to connect from');
    const res = await fetch(`http://${own}:${h.ports.ollama}/api/tags`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    setFd({ allowFrom: 'any' });
    expect((await fetch(`http://${own}:${h.ports.ollama}/api/tags`)).status).toBe(200);
    setFd({ allowFrom: 'lan' });
  });

  it('asks for the bearer key on the LLM port when one is set (and only there)', async () => {
    setFd({ llmKey: 'a-long-enough-key' });
    const body = JSON.stringify({
      model: 'llama3.2:1b',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect((await post(url('ollama', '/v1/chat/completions'), body)).status).toBe(401);
    expect(
      (
        await post(url('ollama', '/v1/chat/completions'), body, {
          headers: { authorization: 'Bearer wrong' },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await post(url('ollama', '/v1/chat/completions'), body, {
          headers: { authorization: 'Bearer a-long-enough-key' },
        })
      ).status,
    ).toBe(200);
    expect((await post(`${h.base}/v1/chat/completions`, body)).status).toBe(401);
    expect((await post(url('piper', '/synthesize'), JSON.stringify({ text: 'hi' }))).status).toBe(
      200,
    );
    setFd({ llmKey: '' });
  });

  it('serves the gateway on the control port: chat, speech, models', async () => {
    const chat = await post(
      `${h.base}/v1/chat/completions`,
      JSON.stringify({
        model: 'mistral:7b',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      }),
    );
    expect(chat.status).toBe(200);
    expect((await chat.text()).trim().endsWith('data: [DONE]')).toBe(true);
    const speech = await post(`${h.base}/v1/audio/speech`, speechBody());
    expect(speech.status).toBe(200);
    expect(speech.headers.get('content-type')).toBe('audio/wav');
    await speech.arrayBuffer();
    const models = (await (await fetch(`${h.base}/v1/models`)).json()) as {
      object: string;
      data: { id: string }[];
    };
    expect(models.object).toBe('list');
    expect(models.data.map((m) => m.id)).toContain('mistral:7b');
  });

  it('joins a WebSocket upgrade to the program behind the port (a user-added service with {port})', async () => {
    // A tiny program that accepts any upgrade and echoes what it gets, on the address it is given.
    const script = [
      "const http = require('node:http');",
      'const [host, port] = process.argv.slice(1);',
      "const s = http.createServer((q, r) => r.end('ok'));",
      "s.on('upgrade', (req, sock) => { sock.write('HTTP/1.1 101 Switching Protocols\\r\\nupgrade: websocket\\r\\nconnection: upgrade\\r\\nx-seen-path: ' + req.url + '\\r\\n\\r\\n'); sock.pipe(sock); });",
      's.listen(Number(port), host);',
    ].join('\n');
    const echoPort = h.ports.piper + 2;
    const r = h.core.settings.update({
      services: {
        echo: {
          command: process.execPath,
          args: ['-e', script, '{host}', '{port}'],
          port: echoPort,
          healthPath: '/',
        },
      },
    });
    expect(r.ok).toBe(true);
    await until('echo running', () => h.service('echo')?.status === 'running', 20_000);
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(echoPort, '127.0.0.1', () => {
        sock.write(
          `GET /stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
        );
      });
      let got = '';
      sock.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.includes('\r\n\r\n') && !got.includes('ping')) sock.write('ping');
        if (got.endsWith('ping')) {
          sock.destroy();
          resolve(got);
        }
      });
      sock.on('error', reject);
      setTimeout(() => reject(new Error(`no echo: ${got}`)), 10_000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 101 Switching Protocols/);
    expect(reply).toContain('x-seen-path: /stream');
    expect(reply.endsWith('\r\n\r\nping')).toBe(true);
  });

  it('frontDoor.enabled off puts a running program back on its public port, and on again behind the door', async () => {
    const fakeHost = async () =>
      (
        (await (await fetch(url('ollama', '/__fake/state'))).json()) as {
          env: { OLLAMA_HOST: string };
        }
      ).env.OLLAMA_HOST;
    setFd({ enabled: false });
    await until(
      'Ollama on its public port',
      async () => (await fakeHost().catch(() => '')) === `0.0.0.0:${h.ports.ollama}`,
      20_000,
    );
    expect(h.core.store.get('frontDoor')!.ports).toEqual([]);
    setFd({ enabled: true });
    await until(
      'Ollama behind the door again',
      async () => {
        const door = h.core.store.get('frontDoor')!.ports.find((p) => p.id === 'ollama');
        return !!door?.upstream && (await fakeHost().catch(() => '')) === door.upstream;
      },
      20_000,
    );
    await until('running', () => h.service('ollama').status === 'running', 20_000);
  });
});
