// Piper as a real install runs it: `python -m piper.http_server` finds its voice only in --data-dir
// or its working folder (fake-piper FAKE_VOICE_FILES), needs Flask (FAKE_NO_FLASK), and 1.2 has no
// /info or /voices. Voices live in the app's data folder; the dashboard lists them and downloads
// new ones with progress, here from a local server laid out like huggingface.co/rhasspy/piper-voices.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { nullLogger } from '../../main/core/util/logger.js';
import {
  FAST,
  fixtures,
  freePort,
  makeHarness,
  tempDir,
  until,
  type Harness,
} from './supervisor-helpers.js';

const MODEL_BYTES = 700_000;
let voiceServer: http.Server;
let voicesUrl = '';
const requested: string[] = [];

/** A stand-in for `python3`: drops `-m piper.http_server` and runs the fake with the rest of the argv. */
function fakePython(dir: string): string {
  const file = path.join(dir, 'python3');
  fs.writeFileSync(
    file,
    `#!/bin/sh\nshift 2\nexec "${process.execPath}" "${path.join(fixtures, 'fake-piper.mjs')}" "$@"\n`,
    { mode: 0o755 },
  );
  return file;
}

function writeVoice(dir: string, id: string, rate = 22050): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${id}.onnx`), Buffer.alloc(1000, 1));
  fs.writeFileSync(
    path.join(dir, `${id}.onnx.json`),
    JSON.stringify({
      audio: { sample_rate: rate, quality: 'medium' },
      language: { code: id.split('-')[0] },
    }),
  );
}

beforeAll(async () => {
  voiceServer = http.createServer((req, res) => {
    requested.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/en/en_US/lessac/medium/en_US-lessac-medium.onnx.json') {
      return void res.end(
        JSON.stringify({
          audio: { sample_rate: 22050, quality: 'medium' },
          language: { code: 'en_US' },
        }),
      );
    }
    if (url.pathname === '/en/en_US/lessac/medium/en_US-lessac-medium.onnx') {
      // In pieces with pauses, as a large download arrives.
      res.writeHead(200, {
        'content-length': MODEL_BYTES,
        'content-type': 'application/octet-stream',
      });
      let sent = 0;
      const step = () => {
        const n = Math.min(100_000, MODEL_BYTES - sent);
        res.write(Buffer.alloc(n, 7));
        sent += n;
        if (sent < MODEL_BYTES) setTimeout(step, 120);
        else res.end();
      };
      return step();
    }
    res.writeHead(404).end('Entry not found');
  });
  await new Promise<void>((r) => voiceServer.listen(0, '127.0.0.1', r));
  voicesUrl = `http://127.0.0.1:${(voiceServer.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => voiceServer.close(() => r())));

describe('Piper voices in the app data folder, through the API', () => {
  let core: Core;
  let base = '';
  let piperPort = 0;
  let dataDir = '';
  beforeAll(async () => {
    dataDir = tempDir('piper-voices-');
    piperPort = await freePort();
    // The voice is only in the app's voice folder: Piper finds it through --data-dir and its cwd.
    writeVoice(path.join(dataDir, 'piper-voices'), 'en_US-amy-medium');
    fs.writeFileSync(
      path.join(dataDir, 'settings.json'),
      JSON.stringify({
        serveOnLan: false,
        discovery: { advertise: false, interfaces: [] },
        models: { preload: [] },
        services: {
          ollama: { enabled: false },
          vibevoice: { enabled: false },
          whisper: { enabled: false },
          piper: { command: fakePython(dataDir), port: piperPort, env: { FAKE_VOICE_FILES: '1' } },
        },
      }),
    );
    core = createCore({
      dataDir,
      port: 0,
      bind: '127.0.0.1',
      logger: nullLogger,
      rendererDir: null,
      supervisor: { timings: FAST },
      piperVoicesUrl: voicesUrl,
    });
    base = (await core.start()).url.replace(/\/$/, '');
  });
  afterAll(async () => {
    await core?.stop('quit');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('Piper starts with its voice from the app data folder (--data-dir, --download-dir, working folder)', async () => {
    expect(await core.supervisor.waitReady('piper', 10_000)).toBe(true);
    // The front door owns the public port; Piper itself listens on the internal one it was given.
    const internal = core.supervisor.baseUrl('piper')!;
    expect(internal).not.toBe(`http://127.0.0.1:${piperPort}`);
    const argv = (
      (await (await fetch(`${internal}/__fake/state`)).json()) as {
        argv: string[];
      }
    ).argv;
    const dir = path.join(dataDir, 'piper-voices');
    expect(argv).toEqual([
      '-m',
      'en_US-amy-medium',
      '--host',
      '127.0.0.1',
      '--port',
      new URL(internal).port,
      '--data-dir',
      dir,
      '--download-dir',
      dir,
    ]);
  });

  it('lists the installed voices, downloads one with progress, and Piper sees it', async () => {
    const list = async () =>
      (
        (await (await fetch(`${base}/api/piper/voices`)).json()) as {
          voices: { id: string; sampleRate: number }[];
        }
      ).voices;
    expect((await list()).map((v) => v.id)).toEqual(['en_US-amy-medium']);
    const res = await fetch(`${base}/api/piper/voices/download`, {
      method: 'POST',
      headers: { authorization: `Bearer ${core.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ voice: 'en_US-lessac-medium' }),
    });
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; total?: number; completed?: number });
    const progress = lines.filter((l) => l.status === 'downloading');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.every((p) => p.total === MODEL_BYTES)).toBe(true);
    expect(progress.map((p) => p.completed)).toEqual(
      [...progress.map((p) => p.completed!)].sort((a, b) => a - b),
    );
    expect(progress.at(-1)!.completed).toBe(MODEL_BYTES);
    expect(lines.at(-1)).toEqual({ status: 'success' });
    expect(requested).toContain('/en/en_US/lessac/medium/en_US-lessac-medium.onnx?download=true');
    expect((await list()).map((v) => [v.id, v.sampleRate])).toEqual([
      ['en_US-amy-medium', 22050],
      ['en_US-lessac-medium', 22050],
    ]);
    expect(
      fs.readdirSync(path.join(dataDir, 'piper-voices')).filter((f) => f.endsWith('.part')),
    ).toEqual([]);
    // Piper's own list (a dict keyed by voice), asked behind the front door...
    const piperVoices = (await (
      await fetch(`${core.supervisor.baseUrl('piper')}/voices`)
    ).json()) as Record<string, unknown>;
    expect(Object.keys(piperVoices)).toContain('en_US-lessac-medium');
    // ...and the app's view of it on the public port.
    const appVoices = (await (await fetch(`http://127.0.0.1:${piperPort}/voices`)).json()) as {
      voices: { id: string }[];
    };
    expect(appVoices.voices.map((v) => v.id)).toContain('en_US-lessac-medium');
  });

  it('refuses a name that is not a voice, and says when the repository has no such voice', async () => {
    const post = (voice: string) =>
      fetch(`${base}/api/piper/voices/download`, {
        method: 'POST',
        headers: { authorization: `Bearer ${core.token()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ voice }),
      });
    expect((await post('../../etc/passwd')).status).toBe(400);
    expect(
      (
        await fetch(`${base}/api/piper/voices/download`, {
          method: 'POST',
          body: '{"voice":"en_US-x-low"}',
        })
      ).status,
    ).toBe(401);
    const r = await post('en_GB-nobody-low');
    const last = JSON.parse((await r.text()).trim().split('\n').at(-1)!) as {
      status: string;
      error: string;
    };
    expect(last).toEqual({
      status: 'error',
      error: 'there is no voice en_GB-nobody-low in rhasspy/piper-voices',
    });
  });
});

describe('Piper installs that fail', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });
  const piper = async (env: Record<string, string>, dir = tempDir('piper-py-')) => {
    h = makeHarness({
      services: { piper: { enabled: true, command: fakePython(dir), port: await freePort(), env } },
    });
    await h.sup.start();
    return h;
  };

  it('piper-tts without [http] (no Flask): one clear message with the exact command, no crash loop', async () => {
    const hh = await piper({ FAKE_NO_FLASK: '1' });
    await until(() => hh.sup.get('piper')!.status === 'failed', 10_000);
    const e = hh.sup.get('piper')!;
    expect(e.restarts).toBe(0);
    expect(e.lastError).toMatch(
      /^Piper's web server needs Flask, which the Python at .*python3 does not have\. Install it with: ".*python3" -m pip install "piper-tts\[http\]"$/,
    );
  });

  it('1.2–1.4 without Flask (ModuleNotFoundError) reads the same', async () => {
    const hh = await piper({ FAKE_NO_FLASK: '1', FAKE_PIPER_VERSION: '1.4.2' });
    await until(() => hh.sup.get('piper')!.status === 'failed', 10_000);
    expect(hh.sup.get('piper')!.lastError).toContain('-m pip install "piper-tts[http]"');
  });

  it('a voice that is not downloaded: the message names the folder and how to get it', async () => {
    const hh = await piper({ FAKE_VOICE_FILES: '1' });
    await until(() => hh.sup.get('piper')!.status === 'failed', 10_000);
    expect(hh.sup.get('piper')!.lastError).toMatch(
      /^Piper could not find the voice "en_US-amy-medium" in .*piper-voices\. Download it in the dashboard/,
    );
  });

  it('legacy piper-tts 1.2 (only GET/POST /) passes the health check', async () => {
    const hh = await piper({ FAKE_PIPER_VERSION: '1.2.0' });
    expect(await hh.sup.waitReady('piper', 10_000)).toBe(true);
    expect(hh.sup.get('piper')!.status).toBe('running');
  });
});
