// The latency check's IO against small in-process servers that answer like Ollama (a streamed
// generate), VibeVoice and an old Piper (POST / only), with a chosen delay before the first byte.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLatencyCheck } from '../../main/core/latency/measure.js';

let server: http.Server;
let base = '';
const FIRST_TOKEN_MS = 260;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    req.resume();
    req.on('end', () => {
      if (req.method === 'GET' && url === '/api/ps')
        return void res.end(JSON.stringify({ models: [] }));
      if (req.method === 'GET' && url === '/api/tags')
        return void res.end(
          JSON.stringify({ models: [{ name: 'llama3.2:1b' }, { name: 'mistral:7b' }] }),
        );
      if (req.method === 'POST' && url === '/api/generate') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write(JSON.stringify({ response: '', done: false }) + '\n'); // an empty chunk is not a token
        setTimeout(
          () =>
            res.end(
              JSON.stringify({ response: 'Four.', done: false }) +
                '\n' +
                JSON.stringify({ done: true }) +
                '\n',
            ),
          FIRST_TOKEN_MS,
        );
        return;
      }
      if (req.method === 'POST' && url === '/v1/audio/speech')
        return void res.end(Buffer.alloc(64, 1));
      if (req.method === 'POST' && url === '/') return void res.end(Buffer.alloc(64, 2)); // Piper before 1.5
      res.writeHead(404).end('not found');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('latency check against live endpoints', () => {
  it('times the first real token (a slow model fails), the first audio byte (passes), and falls back to old Piper', async () => {
    const results = await runLatencyCheck(
      {
        llm: { id: 'ollama', baseUrl: base },
        tts: [
          { id: 'vibevoice', baseUrl: base },
          { id: 'piper', baseUrl: base },
        ],
        preload: ['mistral:7b'],
      },
      { samples: 2 },
    );
    const [llm, vv, piper] = results;
    expect(llm).toMatchObject({
      service: 'ollama',
      metric: 'ttft',
      detail: 'mistral:7b',
      pass: false,
      error: null,
    });
    expect(llm!.samplesMs).toHaveLength(2);
    expect(llm!.medianMs!).toBeGreaterThanOrEqual(FIRST_TOKEN_MS - 10);
    expect(vv).toMatchObject({ service: 'vibevoice', metric: 'ttfb', pass: true, error: null });
    expect(vv!.medianMs!).toBeLessThan(200);
    expect(piper).toMatchObject({ service: 'piper', pass: true });
  });

  it('says why when nothing can be measured, and never calls that a pass', async () => {
    const results = await runLatencyCheck({
      llm: null,
      tts: [],
      preload: [],
      missing: { llm: 'Ollama is stopped', tts: 'no TTS service is running' },
    });
    expect(results.map((r) => [r.metric, r.pass, r.error])).toEqual([
      ['ttft', null, 'Ollama is stopped'],
      ['ttfb', null, 'no TTS service is running'],
    ]);
    const closed = await new Promise<number>((r) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => r(port));
      });
    });
    const refused = await runLatencyCheck(
      { llm: { id: 'ollama', baseUrl: `http://127.0.0.1:${closed}` }, tts: [], preload: [] },
      { timeoutMs: 2000 },
    );
    expect(refused[0]).toMatchObject({ pass: null });
    expect(refused[0]!.error).toBe('connection refused (is the service running?)');
  });
});

describe('latency check against fake-vibevoice (a real process)', () => {
  // The script generates the whole clip before answering and never streams wav: a wav request's
  // "first byte" is the end of the clip. A streaming build streams pcm with stream: true.
  const SYNTH_MS = 900;
  const children: import('node:child_process').ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });
  async function start(knobs: Record<string, string>): Promise<string> {
    const { spawn } = await import('node:child_process');
    const path = await import('node:path');
    const port = await new Promise<number>((r) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const fixture = path.resolve(import.meta.dirname, '../fixtures/fake-vibevoice.mjs');
    const child = spawn(
      process.execPath,
      [
        fixture,
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--device',
        'cpu',
        '--model-path',
        'x',
      ],
      {
        env: {
          ...process.env,
          FAKE_LOAD_DELAY_MS: '50',
          FAKE_SYNTH_MS: String(SYNTH_MS),
          ...knobs,
        },
        stdio: 'ignore',
      },
    );
    children.push(child);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300; i++) {
      if (
        await fetch(`${url}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return url;
      await new Promise((r) => setTimeout(r, 30));
    }
    throw new Error('fake-vibevoice did not start');
  }

  it('a streaming VibeVoice: first bytes arrive before the clip is done (pcm, stream: true)', async () => {
    const url = await start({ FAKE_STREAMS: '1' });
    const [, vv] = await runLatencyCheck(
      { llm: null, tts: [{ id: 'vibevoice', baseUrl: url }], preload: [] },
      { samples: 1 },
    );
    expect(vv).toMatchObject({ service: 'vibevoice', error: null, detail: 'pcm, streamed' });
    expect(vv!.medianMs!).toBeLessThan(SYNTH_MS);
  });

  it('a VibeVoice that does not stream: the result says the time is the whole clip', async () => {
    const url = await start({});
    const [, vv] = await runLatencyCheck(
      { llm: null, tts: [{ id: 'vibevoice', baseUrl: url }], preload: [] },
      { samples: 1 },
    );
    expect(vv).toMatchObject({
      service: 'vibevoice',
      error: null,
      pass: false,
      detail: 'pcm; this VibeVoice does not stream, so the time is the whole clip',
    });
    expect(vv!.medianMs!).toBeGreaterThanOrEqual(SYNTH_MS - 50);
  });
});
