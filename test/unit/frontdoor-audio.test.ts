// The audio handlers' pure decisions: the app's body, voice choice, upstream error text, paths.
import { describe, expect, it } from 'vitest';
import { AudioError, endToEnd, upstreamMessage } from '../../main/core/frontdoor/audio/http.js';
import {
  parseSpeech,
  parseVoices,
  pickVoice,
  voiceLabel,
  type InstalledVoice,
} from '../../main/core/frontdoor/audio/piper.js';
import { isWavAnswer } from '../../main/core/frontdoor/audio/vibevoice.js';
import { inferencePathOf, whisperPath } from '../../main/core/frontdoor/audio/whisper.js';
import { defaultSettings } from '../../main/core/settings/schema.js';
import { mergeSettings, validateSettings } from '../../main/core/settings/store.js';

const body = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseSpeech', () => {
  it("reads the app's exact body", () => {
    expect(
      parseSpeech(
        body({ model: 'tts-1', input: ' Hello. ', voice: 'nova', response_format: 'wav' }),
      ),
    ).toEqual({ text: 'Hello.', voice: 'nova', lengthScale: null, pcm: false });
  });

  it('turns speed into length_scale, pcm into bare PCM, and a missing format into WAV', () => {
    expect(parseSpeech(body({ input: 'x', speed: 2 })).lengthScale).toBe(0.5);
    expect(parseSpeech(body({ input: 'x', speed: 0.25 })).lengthScale).toBe(4);
    expect(parseSpeech(body({ input: 'x', speed: 1 })).lengthScale).toBeNull();
    expect(parseSpeech(body({ input: 'x', response_format: 'PCM' })).pcm).toBe(true);
    expect(parseSpeech(body({ input: 'x' })).pcm).toBe(false);
    expect(parseSpeech(body({ input: 'x', voice: '  ' })).voice).toBeNull();
  });

  it('refuses, saying what is wrong', () => {
    const bad: [unknown, string, RegExp][] = [
      ['{', 'invalid_request', /JSON object/],
      [[1], 'invalid_request', /JSON object/],
      [{ input: '' }, 'invalid_request', /"input"/],
      [{ text: 'hi' }, 'invalid_request', /"input"/],
      [{ input: 'x', speed: 0.1 }, 'invalid_request', /0.25 to 4.0/],
      [{ input: 'x', speed: 'fast' }, 'invalid_request', /"speed"/],
      [{ input: 'x', response_format: 'mp3' }, 'unsupported_format', /"mp3"/],
    ];
    for (const [b, code, msg] of bad) {
      try {
        parseSpeech(body(b));
        throw new Error(`accepted ${JSON.stringify(b)}`);
      } catch (err) {
        expect(err).toBeInstanceOf(AudioError);
        expect((err as AudioError).status).toBe(400);
        expect((err as AudioError).code).toBe(code);
        expect((err as AudioError).message).toMatch(msg);
      }
    }
  });
});

describe('Piper voices', () => {
  const piperVoices = JSON.stringify({
    'en_US-amy-medium': {
      audio: { sample_rate: 22050, quality: 'medium' },
      language: { code: 'en_US' },
      num_speakers: 1,
    },
    'en_US-lessac-low': {
      audio: { sample_rate: 16000, quality: 'low' },
      language: { code: 'en_US' },
    },
    'en_GB-southern_english_female-low': {
      audio: { sample_rate: 16000 },
      espeak: { voice: 'en-gb' },
    },
    custom: {},
  });
  const installed = parseVoices(piperVoices)!;

  it("reads Piper's dict", () => {
    expect(installed[0]).toEqual({
      id: 'en_US-amy-medium',
      sampleRate: 22050,
      language: 'en_US',
      quality: 'medium',
      numSpeakers: 1,
    });
    expect(installed[2]).toMatchObject({ language: 'en-gb', quality: null });
    expect(installed[3]).toEqual({
      id: 'custom',
      sampleRate: null,
      language: null,
      quality: null,
      numSpeakers: null,
    });
    expect(parseVoices('[]')).toBeNull();
    expect(parseVoices('<html>')).toBeNull();
  });

  it('names voices for people', () => {
    expect(installed.map(voiceLabel)).toEqual([
      'Amy (en_US, medium)',
      'Lessac (en_US, low)',
      'Southern English Female (en_GB, low)',
      'custom',
    ]);
  });

  it('picks a mapped, installed voice of the played rate, else Piper own voice', () => {
    const table = {
      nova: 'en_US-amy-medium',
      alloy: 'en_US-lessac-low',
      echo: 'en_US-ryan-medium',
      onyx: '',
      custom: 'custom',
    };
    const pick = (v: string | null, inst: InstalledVoice[] | null = installed) =>
      pickVoice(v, table, inst, 22050);
    expect(pick('nova')).toBe('en_US-amy-medium');
    expect(pick('Nova')).toBe('en_US-amy-medium');
    expect(pick('en_US-amy-medium')).toBe('en_US-amy-medium');
    expect(pick('custom')).toBe('custom'); // no rate in its config: trusted
    expect(pick('alloy')).toBeNull(); // 16000 Hz
    expect(pick('en_US-lessac-low')).toBeNull();
    expect(pick('echo')).toBeNull(); // not installed
    expect(pick('onyx')).toBeNull(); // mapped to ""
    expect(pick('ballad')).toBeNull();
    expect(pick('../../etc/x')).toBeNull();
    expect(pick(null)).toBeNull();
    expect(pick('nova', null)).toBeNull(); // no list (Piper 1.2, or /voices failed)
  });
});

describe('upstream error text', () => {
  it("reads Flask's HTML page, FastAPI's detail, JSON errors and plain text", () => {
    const flask =
      '<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request.</p>\n';
    expect(upstreamMessage(500, flask)).toBe(
      '500 Internal Server Error: The server encountered an internal error and was unable to complete your request.',
    );
    expect(upstreamMessage(503, '{"detail":"Model not loaded"}')).toBe('Model not loaded');
    expect(
      upstreamMessage(422, '{"detail":[{"loc":["body","input"],"msg":"Field required"}]}'),
    ).toBe('Field required');
    expect(upstreamMessage(400, '{"error":"no file"}')).toBe('no file');
    expect(upstreamMessage(400, '{"error":{"message":"bad","code":"x"}}')).toBe('bad');
    expect(upstreamMessage(500, '  boom \n trace ')).toBe('boom trace');
    expect(upstreamMessage(502, '')).toBe('HTTP 502');
  });

  it('drops hop-by-hop headers and those Connection names', () => {
    expect(
      endToEnd({
        'content-type': 'a',
        connection: 'keep-alive, x-hop',
        'keep-alive': 'timeout=5',
        'x-hop': '1',
        'transfer-encoding': 'chunked',
        'x-keep': '2',
      }),
    ).toEqual({ 'content-type': 'a', 'x-keep': '2' });
    expect(endToEnd({ 'content-length': '3', 'content-type': 'a' }, ['content-length'])).toEqual({
      'content-type': 'a',
    });
  });

  it('knows a WAV answer by its type', () => {
    expect(
      ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/wav; charset=binary'].every(isWavAnswer),
    ).toBe(true);
    expect(['audio/mpeg', 'audio/pcm', 'application/json', undefined].some(isWavAnswer)).toBe(
      false,
    );
  });
});

describe('whisper-server paths', () => {
  it('finds the inference path in its argv', () => {
    expect(inferencePathOf(['--host', '127.0.0.1', '-m', 'x.bin'])).toBe('/inference');
    expect(inferencePathOf(['--inference-path', '/v1/audio/transcriptions'])).toBe(
      '/v1/audio/transcriptions',
    );
    expect(inferencePathOf(['--inference-path=asr', '--request-path', '/api'])).toBe('/api/asr');
  });

  it('rewrites the path and keeps the query', () => {
    expect(whisperPath('/v1/audio/transcriptions', '/inference')).toBe('/inference');
    expect(whisperPath('/v1/audio/transcriptions?a=1&b=2', '/api/asr')).toBe('/api/asr?a=1&b=2');
  });
});

describe('settings: audio.piperVoices', () => {
  const base = defaultSettings(
    { platform: 'linux', hostname: 'h' },
    { hostId: '11111111-1111-1111-1111-111111111111', token: 't'.repeat(20) },
  );

  it('defaults map the OpenAI voices to 22050 Hz Piper voices and validate', () => {
    expect(validateSettings(base)).toBeNull();
    expect(base.audio.piperVoices.nova).toBe('en_US-amy-medium');
    expect(Object.values(base.audio.piperVoices).every((v) => /-(medium|high)$/.test(v))).toBe(
      true,
    );
  });

  it('takes a user table merged over the defaults, and refuses a path for a voice', () => {
    const s = mergeSettings(base, {
      audio: { piperVoices: { nova: 'en_US-ryan-medium', tutor: '' } },
    });
    expect(validateSettings(s)).toBeNull();
    expect(s.audio.piperVoices).toMatchObject({
      nova: 'en_US-ryan-medium',
      tutor: '',
      onyx: 'en_US-joe-medium',
    });
    const bad = validateSettings(
      mergeSettings(base, { audio: { piperVoices: { nova: '../voices/x' } } }),
    );
    expect(bad?.field).toContain('audio.piperVoices');
  });
});
