import { describe, expect, it } from 'vitest';
import {
  WavFormatError,
  WavNormalizer,
  canonicalHeader,
  downmix,
  formatOf,
  type WavFormat,
  type WavNormalizerOptions,
} from '../../main/core/frontdoor/audio/wav.js';

// ---- crafted WAVs ---------------------------------------------------------------------------------

function chunk(id: string, body: Buffer, opts: { size?: number; pad?: boolean } = {}): Buffer {
  const h = Buffer.alloc(8);
  h.write(id, 0, 'latin1');
  h.writeUInt32LE(opts.size ?? body.length, 4);
  const pad = body.length % 2 === 1 && opts.pad !== false ? Buffer.alloc(1) : Buffer.alloc(0);
  return Buffer.concat([h, body, pad]);
}

function fmtBody(o: {
  rate?: number;
  channels?: number;
  bits?: number;
  format?: number;
  extensible?: number;
  valid?: number;
  guidTail?: Buffer;
}): Buffer {
  const channels = o.channels ?? 1;
  const bits = o.bits ?? 16;
  const rate = o.rate ?? 22050;
  const b = Buffer.alloc(o.extensible !== undefined ? 40 : 16);
  b.writeUInt16LE(o.extensible !== undefined ? 0xfffe : (o.format ?? 1), 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE((rate * channels * bits) / 8, 8);
  b.writeUInt16LE((channels * bits) / 8, 12);
  b.writeUInt16LE(bits, 14);
  if (o.extensible !== undefined) {
    b.writeUInt16LE(22, 16);
    b.writeUInt16LE(o.valid ?? bits, 18);
    b.writeUInt32LE(channels === 2 ? 3 : 4, 20);
    b.writeUInt16LE(o.extensible, 24);
    (o.guidTail ?? Buffer.from('000000001000800000aa00389b71', 'hex')).copy(b, 26);
  }
  return b;
}

function riff(chunks: Buffer[], size?: number): Buffer {
  const body = Buffer.concat(chunks);
  const h = Buffer.alloc(12);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(size ?? 4 + body.length, 4);
  h.write('WAVE', 8, 'latin1');
  return Buffer.concat([h, body]);
}

/** `frames` PCM16 frames of `channels`, deterministic values. */
function pcm(frames: number, channels = 1, seed = 1): Buffer {
  const b = Buffer.alloc(frames * channels * 2);
  let x = seed;
  for (let i = 0; i < frames * channels; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b.writeInt16LE((x % 60000) - 30000, i * 2);
  }
  return b;
}

const LIST = chunk(
  'LIST',
  Buffer.concat([
    Buffer.from('INFO', 'latin1'),
    chunk('ISFT', Buffer.from('Lavf60.16.100\0', 'latin1')),
  ]),
);
const FACT = chunk('fact', Buffer.from([0x10, 0x27, 0, 0]));

async function normalise(
  parts: Buffer[],
  opts: WavNormalizerOptions = {},
): Promise<{ out: Buffer; format: WavFormat; formatBeforeEnd: boolean }> {
  const n = new WavNormalizer(opts);
  const out: Buffer[] = [];
  let ended = false;
  let formatBeforeEnd = false;
  n.on('format', () => (formatBeforeEnd = !ended));
  n.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    n.on('end', resolve);
    n.on('error', reject);
  });
  const fmt = formatOf(n);
  fmt.catch(() => {});
  for (const p of parts) n.write(p);
  ended = true;
  n.end();
  await done;
  return { out: Buffer.concat(out), format: await fmt, formatBeforeEnd };
}

async function failure(parts: Buffer[], opts: WavNormalizerOptions = {}): Promise<WavFormatError> {
  try {
    await normalise(parts, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(WavFormatError);
    return err as WavFormatError;
  }
  throw new Error('expected the normaliser to fail');
}

function expectCanonical(out: Buffer, rate: number, data: Buffer): void {
  expect(out.subarray(0, 44)).toEqual(canonicalHeader(rate, data.length));
  expect(out.readUInt32LE(24)).toBe(rate);
  expect(out.readUInt16LE(22)).toBe(1);
  expect(out.readUInt32LE(40)).toBe(data.length);
  expect(out.readUInt32LE(4)).toBe(36 + data.length);
  expect(out.length).toBe(44 + data.length);
  expect(out.subarray(44).equals(data)).toBe(true);
}

// ---- tests ----------------------------------------------------------------------------------------

describe('WAV normaliser', () => {
  it('passes a canonical WAV through byte for byte, the header first', async () => {
    const data = pcm(1000);
    const wav = riff([chunk('fmt ', fmtBody({ rate: 22050 })), chunk('data', data)]);
    const { out, format, formatBeforeEnd } = await normalise([
      wav.subarray(0, 100),
      wav.subarray(100),
    ]);
    expect(out.equals(wav)).toBe(true);
    expect(format).toEqual({ sampleRate: 22050, channels: 1, dataBytes: 2000, sizeUnknown: false });
    expect(formatBeforeEnd).toBe(true);
  });

  it('drops LIST and fact chunks so the header is exactly 44 bytes', async () => {
    const data = pcm(500);
    const wav = riff([chunk('fmt ', fmtBody({ rate: 24000 })), LIST, FACT, chunk('data', data)]);
    expect(wav.indexOf('data')).toBeGreaterThan(44);
    const { out } = await normalise([wav]);
    expectCanonical(out, 24000, data);
  });

  it('skips odd-sized chunks with their pad byte, and without it when a writer forgot it', async () => {
    const data = pcm(300);
    const odd = chunk('junk', Buffer.from('abc'));
    const forgot = chunk('junk', Buffer.from('abc'), { pad: false });
    for (const c of [odd, forgot]) {
      const { out } = await normalise([
        riff([c, chunk('fmt ', fmtBody({})), c, chunk('data', data)]),
      ]);
      expectCanonical(out, 22050, data);
    }
  });

  it('reads WAVE_FORMAT_EXTENSIBLE PCM16 (40-byte fmt)', async () => {
    const data = pcm(200);
    const { out } = await normalise([
      riff([chunk('fmt ', fmtBody({ extensible: 1, rate: 48000 })), FACT, chunk('data', data)]),
    ]);
    expectCanonical(out, 48000, data);
  });

  it('mixes several channels down to mono', async () => {
    const stereo = pcm(400, 2);
    const { out, format } = await normalise([
      riff([chunk('fmt ', fmtBody({ channels: 2 })), chunk('data', stereo)]),
    ]);
    expect(format.channels).toBe(2);
    const mono = downmix(stereo, 2);
    expect(mono.length).toBe(800);
    expect(mono.readInt16LE(2)).toBe(
      Math.round((stereo.readInt16LE(4) + stereo.readInt16LE(6)) / 2),
    );
    expectCanonical(out, 22050, mono);
  });

  it('drops chunks after the audio', async () => {
    const data = pcm(100);
    const { out } = await normalise([
      riff([chunk('fmt ', fmtBody({})), chunk('data', data), LIST]),
    ]);
    expectCanonical(out, 22050, data);
  });

  for (const unknown of [0xffffffff, 0]) {
    it(`fixes an unknown data size (0x${unknown.toString(16)}) by buffering when no Content-Length came`, async () => {
      const data = pcm(777);
      const wav = riff(
        [chunk('fmt ', fmtBody({})), LIST, chunk('data', data, { size: unknown })],
        unknown,
      );
      const { out, format, formatBeforeEnd } = await normalise([
        wav.subarray(0, 90),
        wav.subarray(90),
      ]);
      expectCanonical(out, 22050, data);
      expect(format).toMatchObject({ dataBytes: data.length, sizeUnknown: true });
      expect(formatBeforeEnd).toBe(false);
    });

    it(`streams an unknown data size (0x${unknown.toString(16)}) when the Content-Length says it`, async () => {
      const data = pcm(777);
      const wav = riff(
        [chunk('fmt ', fmtBody({})), LIST, chunk('data', data, { size: unknown })],
        unknown,
      );
      const { out, formatBeforeEnd } = await normalise([wav.subarray(0, 90), wav.subarray(90)], {
        contentLength: wav.length,
      });
      expectCanonical(out, 22050, data);
      expect(formatBeforeEnd).toBe(true);
    });
  }

  it('keeps only whole frames of an unknown-size stream', async () => {
    const data = pcm(50);
    const wav = riff([
      chunk('fmt ', fmtBody({})),
      chunk('data', Buffer.concat([data, Buffer.from([7])]), { size: 0xffffffff, pad: false }),
    ]);
    const { out } = await normalise([wav]);
    expectCanonical(out, 22050, data);
  });

  it('refuses an unknown-size WAV larger than its buffer bound', async () => {
    const wav = riff([chunk('fmt ', fmtBody({})), chunk('data', pcm(5000), { size: 0xffffffff })]);
    expect((await failure([wav], { maxBufferBytes: 4096 })).code).toBe('too_large');
  });

  it('says which format it refuses', async () => {
    const data = pcm(10);
    const cases: [Buffer, string, RegExp][] = [
      [
        riff([chunk('fmt ', fmtBody({ format: 3, bits: 32 })), chunk('data', data)]),
        'unsupported_format',
        /IEEE float/,
      ],
      [
        riff([chunk('fmt ', fmtBody({ bits: 24 })), chunk('data', data)]),
        'unsupported_format',
        /24-bit/,
      ],
      [
        riff([chunk('fmt ', fmtBody({ bits: 8 })), chunk('data', data)]),
        'unsupported_format',
        /8-bit/,
      ],
      [
        riff([chunk('fmt ', fmtBody({ format: 0x55 })), chunk('data', data)]),
        'unsupported_format',
        /MP3/,
      ],
      [
        riff([chunk('fmt ', fmtBody({ extensible: 3, bits: 32 })), chunk('data', data)]),
        'unsupported_format',
        /IEEE float/,
      ],
      [
        riff([
          chunk('fmt ', fmtBody({ extensible: 1, guidTail: Buffer.alloc(14, 1) })),
          chunk('data', data),
        ]),
        'unsupported_format',
        /GUID/,
      ],
      [
        riff([chunk('fmt ', fmtBody({ extensible: 1, valid: 12 })), chunk('data', data)]),
        'unsupported_format',
        /12-bit/,
      ],
      [riff([chunk('data', data), chunk('fmt ', fmtBody({}))]), 'not_wav', /before its fmt/],
      [
        Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00', 'latin1'),
        'not_wav',
        /not a WAV.*ID3/,
      ],
      [Buffer.from('{"detail":"Model not loaded"}'), 'not_wav', /not a WAV/],
      [Buffer.from('RIFX\x00\x00\x00\x00WAVE', 'latin1'), 'unsupported_format', /big-endian/],
      [Buffer.alloc(0), 'not_wav', /empty/],
      [riff([chunk('fmt ', fmtBody({}))]), 'not_wav', /ends before its audio/],
    ];
    for (const [wav, code, message] of cases) {
      const err = await failure([wav]);
      expect(err.code, message.source).toBe(code);
      expect(err.message).toMatch(message);
    }
  });

  it('says when the audio is cut short', async () => {
    const data = pcm(100);
    const wav = riff([chunk('fmt ', fmtBody({})), chunk('data', data)]);
    const err = await failure([wav.subarray(0, wav.length - 10)]);
    expect(err.code).toBe('truncated');
  });

  it('gives the same output whatever byte the input is split at', async () => {
    const data = pcm(60, 2);
    const wav = riff([
      chunk('junk', Buffer.from('x')),
      chunk('fmt ', fmtBody({ extensible: 1, channels: 2, rate: 16000 })),
      LIST,
      FACT,
      chunk('data', data),
      LIST,
    ]);
    const expected = (await normalise([wav])).out;
    expectCanonical(expected, 16000, downmix(data, 2));
    for (let i = 0; i <= wav.length; i++) {
      for (let j = i; j <= Math.min(wav.length, i + 9); j++) {
        const { out } = await normalise([wav.subarray(0, i), wav.subarray(i, j), wav.subarray(j)]);
        expect(out.equals(expected), `split at ${i}/${j}`).toBe(true);
      }
    }
    const bytewise = await normalise([...wav].map((b) => Buffer.from([b])));
    expect(bytewise.out.equals(expected)).toBe(true);
  });

  it('handles random chunk layouts split at random places (seeded)', async () => {
    // mulberry32: an LCG's low bits cycle too fast for `% n` choices.
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n) | 0;
    };
    let forgotten = 0;
    const ids = ['LIST', 'fact', 'junk', 'bext', 'cue ', 'PAD ', 'id3 '];
    for (let round = 0; round < 300; round++) {
      const channels = 1 + rnd(2);
      const rate = [16000, 22050, 24000, 44100][rnd(4)]!;
      const unknown = rnd(3) === 0;
      // A declared size of 0 means "unknown" (the streaming writers' placeholder): known sizes are ≥ 1 frame.
      const data = pcm((unknown ? 0 : 1) + rnd(400), channels, round + 1);
      const junk = () => {
        const body = Buffer.alloc(rnd(70), rnd(256));
        const pad = rnd(4) !== 0;
        if (!pad && body.length % 2 === 1) forgotten++;
        return chunk(ids[rnd(ids.length)]!, body, { pad });
      };
      const before = Array.from({ length: rnd(4) }, junk);
      const between = Array.from({ length: rnd(4) }, junk);
      const after = unknown ? [] : Array.from({ length: rnd(3) }, junk);
      const fmt = chunk('fmt ', fmtBody({ rate, channels, ...(rnd(2) ? { extensible: 1 } : {}) }));
      const wav = riff([
        ...before,
        fmt,
        ...between,
        chunk('data', data, { size: unknown ? [0, 0xffffffff][rnd(2)] : undefined }),
        ...after,
      ]);
      const parts: Buffer[] = [];
      for (let at = 0; at < wav.length;) {
        const n = 1 + rnd(rnd(2) ? 7 : 200);
        parts.push(wav.subarray(at, at + n));
        at += n;
      }
      const { out } = await normalise(
        parts,
        unknown && rnd(2) ? { contentLength: wav.length } : {},
      );
      expectCanonical(out, rate, downmix(data, channels));
    }
    expect(forgotten).toBeGreaterThan(20);
  });
});
