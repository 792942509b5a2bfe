// The app's audio API (main/core/frontdoor/audio) against the fake Piper, VibeVoice and Whisper on
// loopback: each handler behind a tiny node:http server, called with the app's exact requests.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createAudioRoutes,
  inferencePathOf,
  type AudioHandler,
  type Upstream,
} from '../../main/core/frontdoor/audio/index.js';
import { createPiperAdapter } from '../../main/core/frontdoor/audio/piper.js';
import { fixtures } from './supervisor-helpers.js';

const children = new Set<ChildProcess>();
const servers = new Set<http.Server>();

interface Fake {
  child: ChildProcess;
  up: Upstream;
  state(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Starts a fake on a free loopback port; resolves once it listens. */
function startFake(
  script: string,
  args: string[],
  knobs: Record<string, string | number> = {},
  port = 0,
): Promise<Fake> {
  const env = {
    ...process.env,
    ...Object.fromEntries(Object.entries(knobs).map(([k, v]) => [`FAKE_${k}`, String(v)])),
  };
  const child = spawn(
    process.execPath,
    [path.join(fixtures, script), ...args, '--host', '127.0.0.1', '--port', String(port)],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}: ${stderr}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('FAKE ')) return;
      const ev = JSON.parse(line.slice(5)) as { event: string; port: number };
      if (ev.event !== 'listening') return;
      const up = { host: '127.0.0.1', port: ev.port };
      resolve({
        child,
        up,
        state: async () =>
          (await fetch(`http://127.0.0.1:${ev.port}/__fake/state`)).json() as Promise<
            Record<string, unknown>
          >,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGKILL');
          }),
      });
    });
  });
}

/** A loopback server that calls `handler` for every request (404 when it declines the route). */
function front(handler: AudioHandler, up: () => Upstream): Promise<string> {
  const server = http.createServer((req, res) => {
    void handler(req, res, up()).then((handled) => {
      if (!handled) {
        res.writeHead(404, { 'x-passed-through': '1' });
        res.end();
      }
    });
  });
  servers.add(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`),
    ),
  );
}

const APP_BODY = {
  model: 'tts-1',
  input: 'Hello from the UnaMentis tutor.',
  voice: 'nova',
  response_format: 'wav',
};

async function speak(
  base: string,
  body: unknown = APP_BODY,
): Promise<{ status: number; type: string | null; body: Buffer }> {
  const r = await fetch(`${base}/v1/audio/speech`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return {
    status: r.status,
    type: r.headers.get('content-type'),
    body: Buffer.from(await r.arrayBuffer()),
  };
}

/** What the app needs: a 44-byte canonical PCM16 mono header, then exactly the data it declares. */
function expectAppWav(wav: Buffer, rate: number): void {
  expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
  expect(wav.toString('latin1', 8, 16)).toBe('WAVEfmt ');
  expect(wav.readUInt32LE(16)).toBe(16);
  expect(wav.readUInt16LE(20)).toBe(1); // PCM
  expect(wav.readUInt16LE(22)).toBe(1); // mono
  expect(wav.readUInt32LE(24)).toBe(rate);
  expect(wav.readUInt16LE(34)).toBe(16);
  expect(wav.toString('latin1', 36, 40)).toBe('data');
  expect(wav.readUInt32LE(40)).toBe(wav.length - 44);
  expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
  expect(wav.length).toBeGreaterThan(44 + 1000);
}

afterEach(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all([...servers].map((s) => new Promise((r) => s.close(r))));
  servers.clear();
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          c.once('exit', () => r());
          c.kill('SIGKILL');
        }),
    ),
  );
  children.clear();
});
afterAll(() => expect(children.size).toBe(0));

const table = {
  nova: 'en_US-ryan-medium',
  alloy: 'en_US-lessac-low',
  echo: 'en_US-missing-medium',
  shimmer: '',
};

describe('Piper on 11402', () => {
  it('answers the app exact request with a 44-byte-header WAV at 22050 Hz, from upstream /synthesize', async () => {
    const piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium']);
    // The fake speaks the upstream API only.
    expect(
      (
        await fetch(`http://127.0.0.1:${piper.up.port}/v1/audio/speech`, {
          method: 'POST',
          body: '{}',
        })
      ).status,
    ).toBe(404);
    expect((await fetch(`http://127.0.0.1:${piper.up.port}/health`)).status).toBe(404);
    const adapter = createPiperAdapter({ voiceTable: () => ({}) });
    const base = await front(
      (q, s, u) => adapter.handle(q, s, u),
      () => piper.up,
    );
    const r = await speak(base);
    expect(r.status).toBe(200);
    expect(r.type).toBe('audio/wav');
    expectAppWav(r.body, 22050);
    expect(adapter.api(piper.up)).toBe('synthesize');
    expect(await piper.state()).toMatchObject({
      last: { path: '/synthesize', text: APP_BODY.input, voice: null, length_scale: null },
    });
  });

  it('maps the app voice names through the settings table to installed voices, else Piper own voice', async () => {
    const piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium'], {
      PIPER_VOICES: 'en_US-ryan-medium,en_US-lessac-low,en_US-joe-medium',
    });
    const voices = { ...table };
    const adapter = createPiperAdapter({ voiceTable: () => voices });
    const base = await front(
      (q, s, u) => adapter.handle(q, s, u),
      () => piper.up,
    );
    const sent = async (voice: string | undefined) => {
      const r = await speak(base, { ...APP_BODY, voice });
      expect(r.status).toBe(200);
      expectAppWav(r.body, 22050);
      return ((await piper.state()).last as { voice: string | null }).voice;
    };
    expect(await sent('nova')).toBe('en_US-ryan-medium');
    expect(await sent('NOVA')).toBe('en_US-ryan-medium');
    expect(await sent('en_US-joe-medium')).toBe('en_US-joe-medium'); // an installed voice by its own id
    expect(await sent('alloy')).toBeNull(); // installed, but 16000 Hz: the app would play it too fast
    expect(await sent('echo')).toBeNull(); // mapped to a voice that is not installed
    expect(await sent('shimmer')).toBeNull(); // mapped to "": Piper's own voice
    expect(await sent('ballad')).toBeNull(); // not in the table, not a voice
    expect(await sent(undefined)).toBeNull();
    voices.nova = 'en_US-joe-medium'; // a settings change applies at the next request
    expect(await sent('nova')).toBe('en_US-joe-medium');
  });

  it('turns speed into length_scale and refuses what Piper cannot make', async () => {
    const piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium']);
    const adapter = createPiperAdapter({ voiceTable: () => ({}) });
    const base = await front(
      (q, s, u) => adapter.handle(q, s, u),
      () => piper.up,
    );
    const slow = await speak(base, { ...APP_BODY, speed: 0.5 });
    expect(((await piper.state()).last as { length_scale: number }).length_scale).toBe(2);
    const fast = await speak(base, { ...APP_BODY, speed: 2 });
    expect(((await piper.state()).last as { length_scale: number }).length_scale).toBe(0.5);
    expect(slow.body.length).toBeGreaterThan(fast.body.length * 3);
    const pcm = await speak(base, { ...APP_BODY, response_format: 'pcm' });
    expect(pcm.type).toBe('audio/pcm');
    expect(pcm.body.length).toBe((await speak(base)).body.length - 44);
    for (const [body, status, code] of [
      [{ ...APP_BODY, input: '  ' }, 400, 'invalid_request'],
      [{ ...APP_BODY, speed: 9 }, 400, 'invalid_request'],
      [{ ...APP_BODY, response_format: 'mp3' }, 400, 'unsupported_format'],
      ['not json', 400, 'invalid_request'],
    ] as const) {
      const r = await fetch(`${base}/v1/audio/speech`, {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      expect(r.status).toBe(status);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    expect((await piper.state()).synthesized).toBe(4); // the refused ones never reached Piper
  });

  it('speaks 1.3–1.4 (POST / with JSON) and 1.2 (POST / with text), found once and remembered', async () => {
    for (const [version, api, path] of [
      ['1.4.2', 'root-json', '/'],
      ['1.2.0', 'root-text', '/'],
    ] as const) {
      const piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium'], {
        PIPER_VERSION: version,
        PIPER_VOICES: 'en_US-ryan-medium',
      });
      const adapter = createPiperAdapter({ voiceTable: () => table });
      const base = await front(
        (q, s, u) => adapter.handle(q, s, u),
        () => piper.up,
      );
      for (let i = 0; i < 2; i++) {
        const r = await speak(base);
        expect(r.status, version).toBe(200);
        expectAppWav(r.body, 22050);
      }
      expect(adapter.api(piper.up)).toBe(api);
      const st = (await piper.state()) as {
        last: { path: string; text: string; voice: string | null };
        synthesized: number;
      };
      expect(st.last).toMatchObject({
        path,
        text: APP_BODY.input,
        voice: api === 'root-json' ? 'en_US-ryan-medium' : null,
      });
      expect(st.synthesized).toBe(2);
      await piper.stop();
    }
  });

  it('finds the API again when Piper is replaced by another version on the same port', async () => {
    let piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium']);
    const port = piper.up.port;
    const adapter = createPiperAdapter({ voiceTable: () => ({}) });
    const base = await front(
      (q, s, u) => adapter.handle(q, s, u),
      () => ({ host: '127.0.0.1', port }),
    );
    expect((await speak(base)).status).toBe(200);
    expect(adapter.api(piper.up)).toBe('synthesize');
    await piper.stop();
    piper = await startFake(
      'fake-piper.mjs',
      ['-m', 'en_US-amy-medium'],
      { PIPER_VERSION: '1.4.0' },
      port,
    );
    expect((await speak(base)).status).toBe(200);
    expect(adapter.api(piper.up)).toBe('root-json');
    await piper.stop();
    piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium'], {}, port);
    expect((await speak(base)).status).toBe(200); // POST / is 405 on 1.5: back to /synthesize
    expect(adapter.api(piper.up)).toBe('synthesize');
  });

  it('answers GET /voices as {"voices":[{"id","name"}]} from upstream /voices', async () => {
    const piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium'], {
      PIPER_VOICES: 'en_US-ryan-medium',
    });
    expect(
      Object.keys(
        (await (await fetch(`http://127.0.0.1:${piper.up.port}/voices`)).json()) as object,
      ),
    ).toEqual(['en_US-amy-medium', 'en_US-ryan-medium']);
    const adapter = createPiperAdapter({ voiceTable: () => table });
    const base = await front(
      (q, s, u) => adapter.handle(q, s, u),
      () => piper.up,
    );
    const r = await fetch(`${base}/voices`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as {
      voices: { id: string; name: string; aliases: string[]; sample_rate: number }[];
    };
    expect(body.voices.map((v) => [v.id, v.name])).toEqual([
      ['en_US-amy-medium', 'Amy (en_US, medium)'],
      ['en_US-ryan-medium', 'Ryan (en_US, medium)'],
    ]);
    expect(body.voices[1]).toMatchObject({ aliases: ['nova'], sample_rate: 22050 });
  });

  it('answers GET /health 200 while Piper answers, 503 with a JSON reason when it does not', async () => {
    const piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium']);
    const adapter = createPiperAdapter({ voiceTable: () => ({}) });
    const base = await front(
      (q, s, u) => adapter.handle(q, s, u),
      () => piper.up,
    );
    const ok = await fetch(`${base}/health`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'ok', service: 'piper' });
    await piper.stop();
    const down = await fetch(`${base}/health`);
    expect(down.status).toBe(503);
    expect(
      ((await down.json()) as { error: { code: string; message: string } }).error,
    ).toMatchObject({ code: 'not_ready', message: expect.stringContaining('ECONNREFUSED') });
    expect((await fetch(`${base}/info`)).headers.get('x-passed-through')).toBe('1');
  });

  it('answers GET /health 503 soon when Piper holds the connection without answering', async () => {
    const piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium'], {
      HANG_AFTER_MS: 0,
    });
    const adapter = createPiperAdapter({ voiceTable: () => ({}) });
    const base = await front(
      (q, s, u) => adapter.handle(q, s, u),
      () => piper.up,
    );
    const r = await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) });
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'not_ready',
      message: expect.stringContaining('did not answer GET /voices within 2.5 s'),
    });
  });

  it("turns Piper's HTML 500 into a JSON error with its message", async () => {
    const piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium'], {
      SYNTH_ERROR: 'CUDA failure 2: out of memory',
    });
    const adapter = createPiperAdapter({ voiceTable: () => ({}) });
    const base = await front(
      (q, s, u) => adapter.handle(q, s, u),
      () => piper.up,
    );
    const r = await fetch(`${base}/v1/audio/speech`, {
      method: 'POST',
      body: JSON.stringify(APP_BODY),
    });
    expect(r.status).toBe(502);
    expect(r.headers.get('content-type')).toContain('application/json');
    const err = ((await r.json()) as { error: { code: string; message: string } }).error;
    expect(err.code).toBe('upstream_error');
    expect(err.message).toMatch(
      /^Piper answered 500: 500 Internal Server Error: The server encountered an internal error/,
    );
    expect(adapter.api(piper.up)).toBe('synthesize'); // a failed synthesis still found the route
  });

  it('answers 504 when Piper takes longer than the timeout, and stops it', async () => {
    const piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium'], {
      SYNTH_DELAY_MS: 5000,
    });
    const adapter = createPiperAdapter({ voiceTable: () => ({}), timeoutMs: 400 });
    const base = await front(
      (q, s, u) => adapter.handle(q, s, u),
      () => piper.up,
    );
    const r = await fetch(`${base}/v1/audio/speech`, {
      method: 'POST',
      body: JSON.stringify(APP_BODY),
    });
    expect(r.status).toBe(504);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout');
    const until = Date.now() + 3000;
    while ((await piper.state()).aborted !== 1 && Date.now() < until)
      await new Promise((t) => setTimeout(t, 50));
    expect(await piper.state()).toMatchObject({ aborted: 1, synthesized: 0 });
  });

  it('stops the synthesis when the app goes away', async () => {
    const piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium'], {
      SYNTH_DELAY_MS: 3000,
    });
    const adapter = createPiperAdapter({ voiceTable: () => ({}) });
    const base = await front(
      (q, s, u) => adapter.handle(q, s, u),
      () => piper.up,
    );
    const ac = new AbortController();
    const call = fetch(`${base}/v1/audio/speech`, {
      method: 'POST',
      body: JSON.stringify(APP_BODY),
      signal: ac.signal,
    }).catch((e: Error) => e);
    while (!(await piper.state()).last) await new Promise((t) => setTimeout(t, 50));
    ac.abort();
    expect(await call).toBeInstanceOf(Error);
    const until = Date.now() + 2500; // well before the synthesis would have finished
    while ((await piper.state()).aborted !== 1 && Date.now() < until)
      await new Promise((t) => setTimeout(t, 50));
    expect(await piper.state()).toMatchObject({ aborted: 1, synthesized: 0 });
  });
});

describe("the front door's adapter shape", () => {
  it('serves the app through routes.adapters with the door agent, and passes the rest', async () => {
    const piper = await startFake('fake-piper.mjs', ['-m', 'en_US-amy-medium']);
    const routes = createAudioRoutes({
      piperVoices: () => ({}),
      whisperInferencePath: () => '/inference',
    });
    const agent = new http.Agent({ keepAlive: true });
    let created = 0;
    const createConnection = agent.createConnection.bind(agent);
    agent.createConnection = ((...a: Parameters<typeof createConnection>) => {
      created++;
      return createConnection(...a);
    }) as typeof agent.createConnection;
    const server = http.createServer((req, res) => {
      void routes.adapters.piper(req, res, {
        upstream: piper.up,
        agent,
        pass: () => {
          res.writeHead(404, { 'x-passed-through': '1' });
          res.end();
        },
      });
    });
    servers.add(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    for (let i = 0; i < 3; i++) expectAppWav((await speak(base)).body, 22050);
    expect(created).toBe(1); // one kept connection to Piper for every request
    expect((await fetch(`${base}/info`)).headers.get('x-passed-through')).toBe('1');
    agent.destroy();
  });
});

describe('VibeVoice on 8880', () => {
  it('rewrites a WAV with a LIST chunk to a 44-byte header at 24000 Hz', async () => {
    const vv = await startFake('fake-vibevoice.mjs', ['--device', 'cpu'], {
      LOAD_DELAY_MS: 0,
      WAV_STYLE: 'list',
    });
    const direct = await speak(`http://127.0.0.1:${vv.up.port}`);
    expect(direct.body.indexOf('data')).toBeGreaterThan(44); // what the app would have played as noise
    const routes = createAudioRoutes({
      piperVoices: () => ({}),
      whisperInferencePath: () => '/inference',
    });
    const base = await front(routes.vibevoice, () => vv.up);
    const r = await speak(base);
    expect(r.status).toBe(200);
    expect(r.type).toBe('audio/wav');
    expectAppWav(r.body, 24000);
    expect(r.body.subarray(44).equals(direct.body.subarray(direct.body.indexOf('data') + 8))).toBe(
      true,
    );
  });

  it('fixes the sizes of a streamed WAV and refuses float audio with a JSON 502', async () => {
    const stream = await startFake('fake-vibevoice.mjs', [], {
      LOAD_DELAY_MS: 0,
      WAV_STYLE: 'stream',
    });
    const routes = createAudioRoutes({
      piperVoices: () => ({}),
      whisperInferencePath: () => '/inference',
    });
    const r = await speak(await front(routes.vibevoice, () => stream.up));
    expect(r.status).toBe(200);
    expectAppWav(r.body, 24000);
    const float = await startFake('fake-vibevoice.mjs', [], {
      LOAD_DELAY_MS: 0,
      WAV_STYLE: 'float',
    });
    const f = await fetch(`${await front(routes.vibevoice, () => float.up)}/v1/audio/speech`, {
      method: 'POST',
      body: JSON.stringify(APP_BODY),
    });
    expect(f.status).toBe(502);
    expect(((await f.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'upstream_unsupported_format',
      message: expect.stringContaining('IEEE float'),
    });
  });

  it("passes VibeVoice's own errors and other routes through", async () => {
    const vv = await startFake('fake-vibevoice.mjs', [], {
      LOAD_DELAY_MS: 0,
      LOAD_ERROR: 'CUDA out of memory',
    });
    const routes = createAudioRoutes({
      piperVoices: () => ({}),
      whisperInferencePath: () => '/inference',
    });
    const base = await front(routes.vibevoice, () => vv.up);
    const r = await fetch(`${base}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(APP_BODY),
    });
    // The script's create_speech: generate_speech raises "Model not loaded", answered as a 500.
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({ detail: 'Model not loaded' });
    expect((await fetch(`${base}/v1/audio/voices`)).headers.get('x-passed-through')).toBe('1');
  });
});

describe('Whisper on 11401', () => {
  it('serves POST /v1/audio/transcriptions at whisper-server inference path, the multipart body untouched', async () => {
    const args = ['-m', 'x.bin', '--request-path', '/stt', '--inference-path', '/transcribe'];
    const w = await startFake('fake-whisper.mjs', args, { LOAD_DELAY_MS: 0 });
    const inference = inferencePathOf(args);
    expect(inference).toBe('/stt/transcribe');
    const routes = createAudioRoutes({
      piperVoices: () => ({}),
      whisperInferencePath: () => inference,
    });
    const base = await front(routes.whisper, () => w.up);
    const form = new FormData();
    const audio = Buffer.alloc(300_000, 7);
    form.set('file', new Blob([audio], { type: 'audio/wav' }), 'recording.wav');
    form.set('model', 'whisper-1');
    form.set('language', 'en');
    form.set('response_format', 'json');
    const encoded = new Response(form);
    const type = encoded.headers.get('content-type')!;
    const sent = Buffer.from(await encoded.arrayBuffer());
    const r = await fetch(`${base}/v1/audio/transcriptions?x=1`, {
      method: 'POST',
      headers: { 'content-type': type },
      body: sent,
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ text: ' Hello from the fake whisper.' });
    const last = (await w.state()).last as {
      bytes: number;
      sha256: string;
      contentType: string;
      query: string;
    };
    expect(last.bytes).toBe(sent.length);
    expect(last.sha256).toBe(createHash('sha256').update(sent).digest('hex'));
    expect(last.query).toBe('?x=1');
    expect(last.contentType).toBe(type);
    expect((await fetch(`${base}/health`)).headers.get('x-passed-through')).toBe('1');
  });
  it('takes a body sent after 100 Continue, as curl sends a large form', async () => {
    const w = await startFake('fake-whisper.mjs', ['-m', 'x.bin'], { LOAD_DELAY_MS: 0 });
    const routes = createAudioRoutes({
      piperVoices: () => ({}),
      whisperInferencePath: () => '/inference',
    });
    const base = new URL(await front(routes.whisper, () => w.up));
    const body = Buffer.from(
      '--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF\r\n--b--\r\n',
    );
    const answer = await new Promise<{ status: number; text: string; continued: boolean }>(
      (resolve, reject) => {
        let continued = false;
        const req = http.request(
          {
            host: base.hostname,
            port: base.port,
            method: 'POST',
            path: '/v1/audio/transcriptions',
            headers: {
              'content-type': 'multipart/form-data; boundary=b',
              'content-length': body.length,
              expect: '100-continue',
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text, continued }));
          },
        );
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('error', reject);
      },
    );
    expect(answer).toMatchObject({ status: 200, continued: true });
    expect(JSON.parse(answer.text)).toEqual({ text: ' Hello from the fake whisper.' });
    expect(((await w.state()).last as { bytes: number }).bytes).toBe(body.length);
  });
});
