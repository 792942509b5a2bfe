// Piper voices in the app's data folder: which are installed, and downloading one from the
// rhasspy/piper-voices repository on Hugging Face the way `python -m piper.download_voices` does
// (OHF-Voice/piper1-gpl src/piper/download_voices.py: URL_FORMAT, VOICE_PATTERN, .onnx + .onnx.json).

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Where piper.download_voices fetches from (its URL_FORMAT without the file part). */
export const PIPER_VOICES_URL = 'https://huggingface.co/rhasspy/piper-voices/resolve/main';

export interface VoiceId {
  id: string;
  langFamily: string;
  langCode: string;
  name: string;
  quality: string;
}

/**
 * `<lang>_<REGION>-<name>-<quality>` (VOICE_PATTERN), narrowed to what the repository holds, so the
 * id can never carry a path: `en_US-lessac-medium`, `de_DE-thorsten_emotional-medium`.
 */
export function parseVoiceId(id: string): VoiceId | null {
  const m = /^([a-z]{2,3})_([A-Z]{2})-([A-Za-z0-9_]{1,64})-(x_low|low|medium|high)$/.exec(id);
  if (!m) return null;
  return { id, langFamily: m[1]!, langCode: `${m[1]}_${m[2]}`, name: m[3]!, quality: m[4]! };
}

/** The two files of a voice: `{base}/en/en_US/lessac/medium/en_US-lessac-medium.onnx(.json)`. */
export function voiceUrls(v: VoiceId, base = PIPER_VOICES_URL): { model: string; config: string } {
  const stem = `${base.replace(/\/+$/, '')}/${v.langFamily}/${v.langCode}/${v.name}/${v.quality}/${v.id}`;
  return { model: `${stem}.onnx?download=true`, config: `${stem}.onnx.json?download=true` };
}

export interface InstalledVoice {
  id: string;
  sizeBytes: number;
  sampleRate: number | null;
  language: string | null;
  quality: string | null;
}

/** Voices piper.http_server would find in `dir`: each `*.onnx` with its `.onnx.json` (app_voices). */
export function listInstalledVoices(dir: string): InstalledVoice[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: InstalledVoice[] = [];
  for (const n of names) {
    if (!n.endsWith('.onnx')) continue;
    const model = path.join(dir, n);
    const config = `${model}.json`;
    let cfg: {
      audio?: { sample_rate?: unknown; quality?: unknown };
      language?: { code?: unknown };
    };
    try {
      cfg = JSON.parse(fs.readFileSync(config, 'utf8')) as typeof cfg;
    } catch {
      continue; // no or broken config: Piper skips it too
    }
    const size = fs.statSync(model).size;
    if (size === 0) continue; // an interrupted download (download_voices re-fetches empty files)
    out.push({
      id: n.slice(0, -'.onnx'.length),
      sizeBytes: size,
      sampleRate: typeof cfg.audio?.sample_rate === 'number' ? cfg.audio.sample_rate : null,
      language: typeof cfg.language?.code === 'string' ? cfg.language.code : null,
      quality: typeof cfg.audio?.quality === 'string' ? cfg.audio.quality : null,
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export interface DownloadProgress {
  status: 'downloading' | 'success';
  file?: string;
  total?: number;
  completed?: number;
}

/**
 * Downloads the config, then the model, each to `<file>.part` renamed when complete (a cancelled
 * download leaves no half voice for Piper to choke on). Progress follows the model's bytes.
 */
export async function downloadVoice(
  v: VoiceId,
  dir: string,
  opts: {
    base?: string;
    signal?: AbortSignal;
    onProgress?: (p: DownloadProgress) => void;
    fetchImpl?: typeof fetch;
    idleTimeoutMs?: number;
  } = {},
): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const urls = voiceUrls(v, opts.base);
  const get = opts.fetchImpl ?? fetch;
  const idle = opts.idleTimeoutMs ?? 30_000;
  for (const [url, file] of [
    [urls.config, `${v.id}.onnx.json`],
    [urls.model, `${v.id}.onnx`],
  ] as const) {
    const ac = new AbortController();
    const onAbort = () => ac.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // No byte for `idle` ms: the connection is dead (a download may take minutes, so no total limit).
    let timer = setTimeout(() => ac.abort(new Error(`no data for ${idle / 1000} s`)), idle);
    const poke = () => {
      clearTimeout(timer);
      timer = setTimeout(() => ac.abort(new Error(`no data for ${idle / 1000} s`)), idle);
    };
    const dest = path.join(dir, file);
    const part = `${dest}.part`;
    try {
      const res = await get(url, { signal: ac.signal, redirect: 'follow' });
      if (!res.ok || !res.body) {
        throw new Error(
          res.status === 404
            ? `there is no voice ${v.id} in rhasspy/piper-voices`
            : `${url} answered ${res.status}`,
        );
      }
      const total = Number(res.headers.get('content-length')) || undefined;
      let completed = 0;
      const report = file.endsWith('.onnx');
      const body = Readable.fromWeb(
        res.body as import('node:stream/web').ReadableStream<Uint8Array>,
      );
      body.on('data', (chunk: Buffer) => {
        poke();
        completed += chunk.length;
        if (report)
          opts.onProgress?.({
            status: 'downloading',
            file,
            ...(total ? { total } : {}),
            completed,
          });
      });
      await pipeline(body, fs.createWriteStream(part), { signal: ac.signal });
      if (total !== undefined && completed !== total)
        throw new Error(`${file}: got ${completed} of ${total} bytes`);
      fs.renameSync(part, dest);
    } catch (err) {
      fs.rmSync(part, { force: true });
      throw ac.signal.aborted && ac.signal.reason instanceof Error ? ac.signal.reason : err;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
  opts.onProgress?.({ status: 'success' });
}
