// Plays the real UnaMentis app (../shared/reference/unamentis-app.md) against a real core with the
// fakes behind the front door, in every hibernation state: the user typed the server's address;
// each turn is GET /health on the control port, a streamed POST /v1/chat/completions on the LLM
// port, POST /v1/audio/speech to the VibeVoice port and then to the Piper port (the app falls back
// between them), and GET /voices on the Piper port. Short thresholds walk the host down on its own;
// each turn starts the moment a state is entered. Every request must be answered, and each WAV
// must have the exact 44-byte header the app skips before playing PCM16 mono.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HibernationState } from '../../main/core/contract.js';
import { until } from '../integration/hibernation-fakes.js';
import {
  post,
  servicesBehindFrontDoor,
  speechBody,
  startFrontDoorCore,
  type FrontDoorHarness,
} from '../integration/frontdoor-fakes.js';

// Real seconds, wide enough that a turn started on entry runs in that state on a loaded machine.
const THRESHOLDS = {
  warmAfterSeconds: 2,
  coolAfterSeconds: 4,
  coldAfterSeconds: 6,
  dormantAfterSeconds: 8,
};

let h: FrontDoorHarness;
/** What the user typed into Settings → Self-Hosted Server. */
const typed = '127.0.0.1';

beforeAll(async () => {
  h = await startFrontDoorCore({
    // The app's default model is installed on this "server".
    services: (ports) =>
      servicesBehindFrontDoor(ports, {
        ollama: { FAKE_MODELS: 'qwen2.5:14b-instruct,mistral:7b' },
      }),
    settings: {
      models: { preload: ['mistral:7b'] },
      hibernation: { enabled: false, ...THRESHOLDS },
    },
  });
  await until(
    'every service running',
    () => ['ollama', 'vibevoice', 'piper'].every((id) => h.service(id)?.status === 'running'),
    30_000,
  );
});

afterAll(async () => {
  await h?.stop();
});

interface Turn {
  state: HibernationState;
  statuses: number[];
  reply: string;
  rates: number[];
  voices: { id: string; name: string }[];
}

/** The 44-byte canonical header the app drops: RIFF/WAVE, fmt of 16 bytes, PCM, mono, then data. */
function wavHeader(buf: Buffer): { rate: number; dataBytes: number } {
  expect(buf.length).toBeGreaterThanOrEqual(44);
  expect(buf.toString('ascii', 0, 4)).toBe('RIFF');
  expect(buf.toString('ascii', 8, 12)).toBe('WAVE');
  expect(buf.toString('ascii', 12, 16)).toBe('fmt ');
  expect(buf.readUInt32LE(16)).toBe(16);
  expect(buf.readUInt16LE(20)).toBe(1); // PCM
  expect(buf.readUInt16LE(22)).toBe(1); // mono
  expect(buf.readUInt16LE(34)).toBe(16); // bits
  expect(buf.toString('ascii', 36, 40)).toBe('data');
  expect(buf.readUInt32LE(40)).toBe(buf.length - 44);
  return { rate: buf.readUInt32LE(24), dataBytes: buf.length - 44 };
}

async function appTurn(state: HibernationState): Promise<Turn> {
  const statuses: number[] = [];
  const health = await fetch(`http://${typed}:${h.core.address()!.port}/health`, {
    signal: AbortSignal.timeout(3000),
  });
  statuses.push(health.status);
  const chat = await post(
    `http://${typed}:${h.ports.ollama}/v1/chat/completions`,
    JSON.stringify({
      model: 'qwen2.5:14b-instruct',
      messages: [{ role: 'user', content: 'Explain photosynthesis.' }],
      max_tokens: 1024,
      temperature: 0.7,
      stream: true,
    }),
  );
  statuses.push(chat.status);
  let reply = '';
  if (chat.status === 200) {
    for (const event of (await chat.text()).split('\n\n')) {
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      reply +=
        (JSON.parse(event.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]!
          .delta.content ?? '';
    }
  } else reply = await chat.text();
  const rates: number[] = [];
  for (const port of [h.ports.vibevoice, h.ports.piper]) {
    const res = await post(
      `http://${typed}:${port}/v1/audio/speech`,
      speechBody('Plants turn light into sugar.'),
      { signal: AbortSignal.timeout(60_000) },
    );
    statuses.push(res.status);
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status === 200) rates.push(wavHeader(body).rate);
  }
  const voices = await fetch(`http://${typed}:${h.ports.piper}/voices`);
  statuses.push(voices.status);
  const list =
    voices.status === 200
      ? ((await voices.json()) as { voices: { id: string; name: string }[] }).voices
      : [];
  return { state, statuses, reply, rates, voices: list };
}

describe('the UnaMentis app against the front door, in every hibernation state', () => {
  it('answers every request of a turn started in active, warm, cool, cold and dormant', async () => {
    const turns: Turn[] = [];
    const wanted: HibernationState[] = ['warm', 'cool', 'cold', 'dormant'];
    turns.push(await appTurn('active'));
    const pending: Promise<Turn>[] = [];
    const seen = new Set<HibernationState>();
    const off = h.core.hibernation.onTransition((t) => {
      // One turn per state, the moment the host walks into it (the turn itself wakes it to active).
      if (t.to !== wanted[seen.size]) return;
      seen.add(t.to);
      pending.push(appTurn(t.to));
    });
    const r = h.core.settings.update({ hibernation: { enabled: true } });
    expect(r.ok).toBe(true);
    for (const state of wanted) {
      await until(`a turn in ${state}`, () => seen.has(state), 60_000, 50);
      turns.push(await pending[pending.length - 1]!);
      if (state !== 'dormant') {
        // Let the idle clock run from this turn: the host walks down again from active.
        await until(
          'active again',
          () => h.core.store.get('hibernation').state === 'active',
          10_000,
        );
      }
    }
    off();
    h.core.settings.update({ hibernation: { enabled: false } });

    for (const t of turns) {
      expect({ state: t.state, statuses: t.statuses }).toEqual({
        state: t.state,
        statuses: [200, 200, 200, 200, 200],
      });
      expect(t.reply).toBe('Hello from the fake model.');
      // 8880: VibeVoice's 24000 Hz; 11402: a Piper *-medium voice's 22050 Hz (what the app plays).
      expect(t.rates).toEqual([24000, 22050]);
      expect(t.voices.length).toBeGreaterThan(0);
      expect(t.voices[0]).toMatchObject({ id: expect.any(String), name: expect.any(String) });
    }
    expect(turns.map((t) => t.state)).toEqual(['active', 'warm', 'cool', 'cold', 'dormant']);
    const held = h.core.store
      .get('frontDoor')!
      .ports.filter((p) => ['vibevoice', 'piper', 'ollama'].includes(p.id))
      .reduce((n, p) => n + p.heldTotal, 0);
    // From cool VibeVoice was stopped, from cold Piper, from dormant Ollama: their requests waited.
    expect(held).toBeGreaterThanOrEqual(4);
  });
});
