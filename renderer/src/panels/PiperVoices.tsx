// Piper's voices: the ones in its voice folder (the app's data folder), and downloading another
// from rhasspy/piper-voices with a progress bar fed by the core's NDJSON stream.

import { useEffect, useRef, useState } from 'react';
import type { ApiClient, PiperVoiceView } from '../client.js';
import { ErrorText } from '../components/Status.js';
import { formatBytes } from '../format.js';

/** What the download form accepts: `<lang>_<REGION>-<name>-<quality>`, as piper.download_voices names voices. */
export const PIPER_VOICE = /^[a-z]{2,3}_[A-Z]{2}-[A-Za-z0-9_]{1,64}-(x_low|low|medium|high)$/;

interface Download {
  voice: string;
  completed: number;
  total: number;
  done: boolean;
  error: string | null;
}

export function PiperVoicesSection({ client, canAct }: { client: ApiClient; canAct: boolean }) {
  const [list, setList] = useState<{ dir: string; voices: PiperVoiceView[] } | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [dl, setDl] = useState<Download | null>(null);
  const [reload, setReload] = useState(0);
  const abort = useRef<AbortController | null>(null);

  useEffect(() => {
    let cancelled = false;
    client
      .piperVoices()
      .then((r) => !cancelled && (setList(r), setListError(null)))
      .catch((err: Error) => !cancelled && setListError(err.message));
    return () => {
      cancelled = true;
    };
  }, [client, reload]);
  useEffect(() => () => abort.current?.abort(), []);

  const voice = name.trim();
  const valid = PIPER_VOICE.test(voice);
  const busy = dl !== null && !dl.done;
  const download = async () => {
    if (!valid || busy) return;
    const ctl = new AbortController();
    abort.current = ctl;
    setDl({ voice, completed: 0, total: 0, done: false, error: null });
    try {
      await client.downloadPiperVoice(
        voice,
        (p) =>
          setDl(
            (d) => d && { ...d, completed: p.completed ?? d.completed, total: p.total ?? d.total },
          ),
        ctl.signal,
      );
      setDl((d) => d && { ...d, done: true, completed: d.total });
      setName('');
    } catch (err) {
      setDl(
        (d) =>
          d && {
            ...d,
            done: true,
            error: ctl.signal.aborted ? 'cancelled' : (err as Error).message,
          },
      );
    } finally {
      abort.current = null;
      setReload((r) => r + 1);
    }
  };
  const pct = dl && dl.total > 0 ? Math.min(100, (dl.completed / dl.total) * 100) : null;

  return (
    <section className="card" aria-labelledby="piper-voices-h" data-testid="piper-voices">
      <h3 id="piper-voices-h">Piper voices</h3>
      <ErrorText error={listError} />
      {list && (
        <p className="muted small">
          In <code>{list.dir}</code>, where Piper looks for them.
        </p>
      )}
      {list && list.voices.length === 0 && (
        <p className="muted">No voice in this folder yet: Piper needs one (download one below).</p>
      )}
      {list && list.voices.length > 0 && (
        <ul data-testid="piper-voice-list">
          {list.voices.map((v) => (
            <li key={v.id}>
              <code>{v.id}</code>{' '}
              <span className="muted">
                · {formatBytes(v.sizeBytes)}
                {v.sampleRate ? ` · ${v.sampleRate} Hz` : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void download();
        }}
      >
        <label htmlFor="piper-voice-name">Download a voice</label>{' '}
        <input
          id="piper-voice-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="en_US-lessac-medium"
          aria-describedby="piper-voice-help"
        />{' '}
        <button type="submit" disabled={!canAct || !valid || busy}>
          Download
        </button>
        {busy && (
          <button type="button" onClick={() => abort.current?.abort()}>
            Cancel
          </button>
        )}
      </form>
      <p id="piper-voice-help" className="muted small">
        Names as in huggingface.co/rhasspy/piper-voices: <code>language_REGION-name-quality</code>.{' '}
        {canAct ? '' : 'Needs the access token.'}
      </p>
      {dl && (
        <div className="pull-progress" data-testid="piper-voice-progress">
          <label htmlFor="piper-voice-bar">
            {dl.voice}:{' '}
            {dl.error ? (
              <span className="bad-text">{dl.error}</span>
            ) : dl.done ? (
              'downloaded'
            ) : (
              'downloading'
            )}
            {pct !== null && !dl.error && (
              <span className="muted">
                {' '}
                · {formatBytes(dl.completed)} of {formatBytes(dl.total)} ({Math.round(pct)} %)
              </span>
            )}
          </label>
          <progress
            id="piper-voice-bar"
            max={100}
            value={dl.error ? 0 : dl.done ? 100 : (pct ?? undefined)}
          />
        </div>
      )}
    </section>
  );
}
