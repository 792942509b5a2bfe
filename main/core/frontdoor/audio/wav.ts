// The WAV normaliser: any PCM16 RIFF WAV in, a canonical 44-byte-header PCM16 mono WAV out, as a
// stream. The app drops the first 44 bytes of a TTS answer and plays the rest as PCM16 mono, so a
// `LIST` or `fact` chunk, a WAVE_FORMAT_EXTENSIBLE `fmt ` (40 bytes) or a second channel would be
// played as noise. Why each choice: README.md in this folder ("The WAV normaliser").

import { Transform, type TransformCallback } from 'node:stream';

export type WavErrorCode = 'not_wav' | 'unsupported_format' | 'truncated' | 'too_large';

/** What the upstream sent that cannot become the app's PCM16 WAV; the proxy answers 502 with it. */
export class WavFormatError extends Error {
  constructor(
    readonly code: WavErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WavFormatError';
  }
}

/** The format found in the input, and the output's data length when it is known before the data. */
export interface WavFormat {
  sampleRate: number;
  /** Channels in the input; the output is always mono. */
  channels: number;
  /** Bytes of PCM in the output (after the 44-byte header); null until the input's end says. */
  dataBytes: number | null;
  /** The input's data size field was the streaming writer's "unknown" (0 or 0xFFFFFFFF). */
  sizeUnknown: boolean;
}

export interface WavNormalizerOptions {
  /**
   * The upstream's Content-Length, if it sent one. Lets a WAV whose data size is "unknown" stream
   * anyway (data = the bytes after the data chunk's header); without it such a WAV is buffered.
   */
  contentLength?: number | null;
  /** Most PCM bytes held when the data size is unknown and no Content-Length came (default 64 MiB). */
  maxBufferBytes?: number;
  /** Largest `fmt ` chunk accepted (default 1 KiB); other chunks are skipped without being held. */
  maxFmtBytes?: number;
}

export const WAV_HEADER_BYTES = 44;
const UNKNOWN = 0xffffffff;
// KSDATAFORMAT_SUBTYPE_PCM after its first two bytes (the format code): 0000-0010-8000-00aa00389b71.
const GUID_TAIL = Buffer.from([
  0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
]);

/** Pure: reads a `fmt ` chunk's body; throws WavFormatError unless it is integer PCM, 16 bits. */
function parseFmt(body: Buffer): {
  sampleRate: number;
  channels: number;
  blockAlign: number;
} {
  if (body.length < 16)
    throw new WavFormatError('not_wav', `the fmt chunk is ${body.length} bytes, less than 16`);
  let format = body.readUInt16LE(0);
  const channels = body.readUInt16LE(2);
  const sampleRate = body.readUInt32LE(4);
  const blockAlign = body.readUInt16LE(12);
  const bits = body.readUInt16LE(14);
  if (format === 0xfffe) {
    if (body.length < 40)
      throw new WavFormatError(
        'not_wav',
        `a WAVE_FORMAT_EXTENSIBLE fmt chunk is ${body.length} bytes, less than 40`,
      );
    const valid = body.readUInt16LE(18);
    if (!body.subarray(26, 40).equals(GUID_TAIL))
      throw new WavFormatError(
        'unsupported_format',
        'the WAV sub-format is not a standard one (unknown GUID)',
      );
    format = body.readUInt16LE(24);
    if (format === 1 && valid !== 0 && valid !== 16)
      throw new WavFormatError(
        'unsupported_format',
        `the WAV holds ${valid}-bit samples in 16-bit containers; only 16-bit PCM can be played`,
      );
  }
  if (format !== 1)
    throw new WavFormatError(
      'unsupported_format',
      `the WAV is ${formatName(format)}, not 16-bit PCM`,
    );
  if (bits !== 16)
    throw new WavFormatError('unsupported_format', `the WAV is ${bits}-bit PCM, not 16-bit`);
  if (channels < 1 || channels > 8)
    throw new WavFormatError('unsupported_format', `the WAV has ${channels} channels`);
  if (blockAlign !== channels * 2)
    throw new WavFormatError(
      'not_wav',
      `the WAV's block align is ${blockAlign}, not ${channels * 2} for ${channels} × 16 bits`,
    );
  if (sampleRate < 1000 || sampleRate > 384_000)
    throw new WavFormatError('unsupported_format', `the WAV's sample rate is ${sampleRate} Hz`);
  return { sampleRate, channels, blockAlign };
}

function formatName(code: number): string {
  const names: Record<number, string> = {
    2: 'ADPCM',
    3: 'IEEE float',
    6: 'A-law',
    7: 'µ-law',
    0x55: 'MP3',
  };
  return names[code] ?? `format 0x${code.toString(16).padStart(4, '0')}`;
}

/** Pure: the canonical 44-byte header of a PCM16 mono WAV. */
export function canonicalHeader(sampleRate: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(Math.min(36 + dataBytes, UNKNOWN), 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Pure: interleaved PCM16 frames of `channels` → mono (the mean). `frames` must hold whole frames. */
export function downmix(frames: Buffer, channels: number): Buffer {
  if (channels === 1) return frames;
  const n = frames.length / (channels * 2);
  const out = Buffer.allocUnsafe(n * 2);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += frames.readInt16LE((i * channels + c) * 2);
    out.writeInt16LE(Math.round(sum / channels), i * 2);
  }
  return out;
}

const printable = (b: number | undefined) => b !== undefined && b >= 0x20 && b <= 0x7e;

type Phase = 'riff' | 'chunk' | 'fmt' | 'skip' | 'data' | 'after';

/**
 * A Transform from any PCM16 WAV to the canonical one. It holds only the bytes of a chunk header or of
 * the `fmt ` chunk, plus at most one partial frame, except when the data size is unknown and no
 * Content-Length came: then it holds the PCM until the end to learn its length (bounded).
 * It emits `format` (WavFormat) once, before its first output byte; a bad input is a WavFormatError.
 */
export class WavNormalizer extends Transform {
  #opts: Required<WavNormalizerOptions>;
  #phase: Phase = 'riff';
  #pending: Buffer = Buffer.alloc(0);
  /** Bytes of input consumed so far (for the Content-Length arithmetic). */
  #consumed = 0;
  #skip = 0;
  #chunkSize = 0;
  #fmt: { sampleRate: number; channels: number; blockAlign: number } | null = null;
  /** Input data bytes still to pass through (whole frames); null = unknown, buffering to the end. */
  #remaining: number | null = null;
  #declared = 0;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #partial: Buffer = Buffer.alloc(0);
  format: WavFormat | null = null;

  constructor(opts: WavNormalizerOptions = {}) {
    super();
    this.#opts = {
      contentLength: opts.contentLength ?? null,
      maxBufferBytes: opts.maxBufferBytes ?? 64 << 20,
      maxFmtBytes: opts.maxFmtBytes ?? 1024,
    };
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#feed(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.#finish();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  /** Takes n bytes from #pending + input, or null (and keeps them) when fewer are there. */
  #take(n: number, input: { buf: Buffer }): Buffer | null {
    const have = this.#pending.length + input.buf.length;
    if (have < n) {
      this.#pending = Buffer.concat([this.#pending, input.buf]);
      input.buf = input.buf.subarray(input.buf.length);
      return null;
    }
    const fromPending = Math.min(n, this.#pending.length);
    const head = this.#pending.subarray(0, fromPending);
    const fromInput = n - fromPending;
    const out =
      fromPending === 0
        ? input.buf.subarray(0, fromInput)
        : Buffer.concat([head, input.buf.subarray(0, fromInput)]);
    this.#pending = this.#pending.subarray(fromPending);
    input.buf = input.buf.subarray(fromInput);
    this.#consumed += n;
    return out;
  }

  #feed(chunk: Buffer): void {
    const input = { buf: chunk };
    for (;;) {
      const before = input.buf.length + this.#pending.length;
      const phase = this.#phase;
      this.#step(input);
      if (this.#phase === phase && input.buf.length + this.#pending.length === before) break; // waiting for more bytes
    }
    // Whatever a step could not use yet waits for the next write.
    if (input.buf.length > 0) this.#pending = Buffer.concat([this.#pending, input.buf]);
  }

  #step(input: { buf: Buffer }): void {
    switch (this.#phase) {
      case 'riff': {
        const h = this.#take(12, input);
        if (!h) return;
        const id = h.toString('latin1', 0, 4);
        if (id === 'RIFX')
          throw new WavFormatError('unsupported_format', 'the WAV is big-endian (RIFX)');
        if (id === 'RF64')
          throw new WavFormatError(
            'unsupported_format',
            'the WAV is RF64 (over 4 GB), not supported',
          );
        if (id !== 'RIFF' || h.toString('latin1', 8, 12) !== 'WAVE')
          throw new WavFormatError(
            'not_wav',
            `the answer is not a WAV (it starts with ${JSON.stringify(h.toString('latin1', 0, 12).replace(/[^\x20-\x7e]/g, '.'))})`,
          );
        this.#phase = 'chunk';
        return;
      }
      case 'chunk': {
        const h = this.#take(8, input);
        if (!h) return;
        const id = h.toString('latin1', 0, 4);
        const size = h.readUInt32LE(4);
        if (![0, 1, 2, 3].every((i) => printable(h[i])))
          throw new WavFormatError(
            'not_wav',
            `a WAV chunk has an unreadable id (${h.subarray(0, 4).toString('hex')})`,
          );
        if (id === 'fmt ') {
          if (size > this.#opts.maxFmtBytes)
            throw new WavFormatError('not_wav', `the fmt chunk is ${size} bytes`);
          this.#chunkSize = size;
          this.#phase = 'fmt';
        } else if (id === 'data') {
          this.#startData(size);
        } else {
          if (size === UNKNOWN)
            throw new WavFormatError(
              'not_wav',
              `the "${id}" chunk before the audio has an unknown size`,
            );
          this.#chunkSize = size;
          this.#skip = size;
          this.#phase = 'skip';
        }
        return;
      }
      case 'fmt': {
        const body = this.#take(this.#chunkSize, input);
        if (!body) return;
        this.#fmt = parseFmt(body);
        this.#skip = 0;
        this.#phase = 'skip'; // only the pad byte, if the size was odd
        return;
      }
      case 'skip': {
        if (this.#skip > 0) {
          const fromPending = Math.min(this.#skip, this.#pending.length);
          this.#pending = this.#pending.subarray(fromPending);
          const fromInput = Math.min(this.#skip - fromPending, input.buf.length);
          input.buf = input.buf.subarray(fromInput);
          this.#skip -= fromPending + fromInput;
          this.#consumed += fromPending + fromInput;
          if (this.#skip > 0) return;
        }
        if (this.#chunkSize % 2 === 1) {
          // RIFF pads an odd chunk to even length; some writers forget. A zero byte is the pad; a
          // printable one starts the next chunk's id.
          const next = this.#pending.length > 0 ? this.#pending[0] : input.buf[0];
          if (next === undefined) return;
          this.#chunkSize = 0;
          if (!printable(next)) this.#take(1, input);
        }
        this.#phase = 'chunk';
        return;
      }
      case 'data':
        return this.#data(input);
      case 'after':
        // Chunks after the audio (e.g. a trailing LIST): not the app's business.
        input.buf = input.buf.subarray(input.buf.length);
        this.#pending = Buffer.alloc(0);
        return;
    }
  }

  #startData(size: number): void {
    const fmt = this.#fmt;
    if (!fmt) throw new WavFormatError('not_wav', 'the WAV has its audio before its fmt chunk');
    this.#declared = size;
    const sizeUnknown = size === UNKNOWN || size === 0;
    let inputBytes: number | null = size;
    if (sizeUnknown) {
      const cl = this.#opts.contentLength;
      // The data then runs to the end of the body: a streaming writer puts nothing after it.
      inputBytes = cl !== null && cl >= this.#consumed ? cl - this.#consumed : null;
    }
    if (inputBytes !== null) inputBytes -= inputBytes % fmt.blockAlign;
    this.#remaining = inputBytes;
    this.#phase = 'data';
    if (inputBytes !== null) {
      this.#announce(inputBytes / fmt.channels, sizeUnknown);
      this.push(canonicalHeader(fmt.sampleRate, inputBytes / fmt.channels));
    }
  }

  #announce(dataBytes: number | null, sizeUnknown: boolean): void {
    const fmt = this.#fmt!;
    this.format = { sampleRate: fmt.sampleRate, channels: fmt.channels, dataBytes, sizeUnknown };
    this.emit('format', this.format);
  }

  #data(input: { buf: Buffer }): void {
    const fmt = this.#fmt!;
    // The common case (no leftover from the header) passes the chunk on without a copy.
    let bytes = this.#pending.length === 0 ? input.buf : Buffer.concat([this.#pending, input.buf]);
    this.#pending = Buffer.alloc(0);
    input.buf = input.buf.subarray(input.buf.length);
    if (this.#remaining !== null) {
      // Bytes past the declared audio (a trailing chunk) are dropped.
      const n = Math.min(bytes.length, this.#remaining);
      bytes = bytes.subarray(0, n);
      this.#remaining -= n;
      this.#consumed += n;
      if (this.#remaining === 0) this.#phase = 'after';
      this.#emitFrames(bytes, fmt.channels);
      return;
    }
    this.#consumed += bytes.length;
    this.#heldBytes += bytes.length;
    if (this.#heldBytes > this.#opts.maxBufferBytes) {
      throw new WavFormatError(
        'too_large',
        `the WAV's length is unknown and it is over ${this.#opts.maxBufferBytes} bytes`,
      );
    }
    this.#held.push(bytes);
  }

  /** Pushes whole frames, downmixed; keeps a partial frame for the next call. */
  #emitFrames(bytes: Buffer, channels: number): void {
    if (this.#partial.length > 0) {
      bytes = Buffer.concat([this.#partial, bytes]);
      this.#partial = Buffer.alloc(0);
    }
    const whole = bytes.length - (bytes.length % (channels * 2));
    if (whole < bytes.length) this.#partial = Buffer.from(bytes.subarray(whole));
    if (whole > 0) this.push(downmix(bytes.subarray(0, whole), channels));
  }

  #finish(): void {
    if (this.#phase !== 'data' && this.#phase !== 'after') {
      throw new WavFormatError(
        'not_wav',
        this.#phase === 'riff' && this.#consumed + this.#pending.length === 0
          ? 'the answer is empty, not a WAV'
          : 'the WAV ends before its audio data',
      );
    }
    const fmt = this.#fmt!;
    if (this.#remaining === null) {
      let all = Buffer.concat(this.#held);
      this.#held = [];
      all = all.subarray(0, all.length - (all.length % fmt.blockAlign));
      this.#announce(all.length / fmt.channels, true);
      this.push(canonicalHeader(fmt.sampleRate, all.length / fmt.channels));
      if (all.length > 0) this.push(downmix(all, fmt.channels));
      return;
    }
    if (this.#remaining > 0) {
      throw new WavFormatError(
        'truncated',
        `the WAV ends ${this.#remaining} bytes before the end of its audio (${this.#declared} bytes declared)`,
      );
    }
  }
}

/** Resolves with the format once the normaliser knows the output's length; rejects on its error. */
export function formatOf(n: WavNormalizer): Promise<WavFormat> {
  if (n.format) return Promise.resolve(n.format);
  return new Promise((resolve, reject) => {
    const onFormat = (f: WavFormat) => {
      n.off('error', onError);
      resolve(f);
    };
    const onError = (e: Error) => {
      n.off('format', onFormat);
      reject(e);
    };
    n.once('format', onFormat);
    n.once('error', onError);
  });
}
