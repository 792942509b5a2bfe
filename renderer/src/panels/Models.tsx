// Models: what Ollama has installed and loaded, and pulling a new one with a progress bar fed by
// Ollama's own pull stream (relayed by the core). The pull lives in App, so switching sections
// does not cancel it.

import { useCallback, useEffect, useRef, useState } from 'react';
import type { Snapshot } from '../../../main/core/contract.js';
import type { ApiClient, InstalledModelView, PullProgressView } from '../client.js';
import { ErrorText } from '../components/Status.js';
import { formatBytes, formatMB } from '../format.js';
import { useAction } from '../hooks.js';
import { PiperVoicesSection } from './PiperVoices.js';
import { ANSWERING_STATUSES } from '../../../main/core/contract.js';

export interface PullState {
  model: string | null;
  status: string;
  completed: number;
  total: number;
  done: boolean;
  error: string | null;
  /** Bumps when a pull finishes, so the installed list reloads. */
  finished: number;
}

export function usePull(client: ApiClient | null) {
  const [state, setState] = useState<PullState>({
    model: null,
    status: '',
    completed: 0,
    total: 0,
    done: false,
    error: null,
    finished: 0,
  });
  const abort = useRef<AbortController | null>(null);
  const start = useCallback(
    async (model: string) => {
      if (!client || abort.current) return;
      const ctl = new AbortController();
      abort.current = ctl;
      setState((s) => ({
        ...s,
        model,
        status: 'starting',
        completed: 0,
        total: 0,
        done: false,
        error: null,
      }));
      try {
        await client.pullModel(
          model,
          (p: PullProgressView) =>
            setState((s) => ({
              ...s,
              status: p.status,
              // Ollama reports per layer; the biggest layer dominates the time, so show it.
              ...(p.total
                ? p.total >= s.total
                  ? { total: p.total, completed: p.completed ?? 0 }
                  : {}
                : {}),
            })),
          ctl.signal,
        );
        setState((s) => ({
          ...s,
          done: true,
          status: 'success',
          completed: s.total,
          finished: s.finished + 1,
        }));
      } catch (err) {
        const msg = ctl.signal.aborted ? 'cancelled' : (err as Error).message;
        setState((s) => ({ ...s, done: true, error: msg, finished: s.finished + 1 }));
      } finally {
        abort.current = null;
      }
    },
    [client],
  );
  const cancel = useCallback(() => abort.current?.abort(), []);
  return { state, start, cancel };
}

export type Pull = ReturnType<typeof usePull>;

const FIT_LABEL: Record<string, string> = {
  ok: 'Fits',
  tight: 'Tight',
  'too-big': 'Too big',
  unknown: 'Unknown',
};

export function ModelsPanel({
  snapshot: s,
  client,
  pull,
  canAct,
}: {
  snapshot: Snapshot;
  client: ApiClient;
  pull: Pull;
  canAct: boolean;
}) {
  const [name, setName] = useState('');
  const [installed, setInstalled] = useState<InstalledModelView[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const ollama = s.services.find((x) => x.id === 'ollama');
  const ollamaUp = !!ollama && ANSWERING_STATUSES.has(ollama.status);
  const p = pull.state;
  const pulling = p.model !== null && !p.done;

  useEffect(() => {
    if (!canAct || !ollamaUp) return;
    let cancelled = false;
    client
      .installedModels()
      .then((r) => {
        if (cancelled) return;
        setInstalled(r.models);
        setListError(null);
      })
      .catch((err: Error) => !cancelled && setListError(err.message));
    return () => {
      cancelled = true;
    };
  }, [client, canAct, ollamaUp, reload, p.finished]);

  const [submit, submitState] = useAction(async (model: string) => {
    await pull.start(model);
  });

  // Would it fit? Asked as the user types (debounced), from the GPU's fit advice.
  const [fit, setFit] = useState<{ model: string; level: string; message: string } | null>(null);
  const wanted = name.trim();
  useEffect(() => {
    if (!wanted) return;
    let cancelled = false;
    const t = setTimeout(() => {
      client
        .gpuFit(wanted)
        .then((r) => !cancelled && setFit({ model: wanted, level: r.level, message: r.message }))
        .catch(() => !cancelled && setFit(null));
    }, 400);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [client, wanted]);
  const fitNow = fit && fit.model === wanted ? fit : null;

  const loaded = new Map(
    s.gpu.models.filter((m) => m.service === 'ollama').map((m) => [m.name, m]),
  );
  const pct = p.total > 0 ? Math.min(100, (p.completed / p.total) * 100) : null;

  return (
    <>
      {!ollamaUp && (
        <p className="callout warning">
          Ollama is {ollama ? ollama.status : 'not configured'}: start it to list and pull models.
        </p>
      )}
      <section className="card" aria-labelledby="pull-h">
        <h3 id="pull-h">Pull a model</h3>
        <form
          className="control-row"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) void submit(name.trim());
          }}
        >
          <label htmlFor="pull-name">Model name</label>
          <input
            id="pull-name"
            value={name}
            placeholder="e.g. mistral:7b"
            onChange={(e) => setName(e.target.value)}
            aria-describedby="pull-help"
            autoComplete="off"
            spellCheck={false}
          />
          <button
            type="submit"
            className="primary"
            disabled={!canAct || !ollamaUp || pulling || !name.trim()}
          >
            Pull
          </button>
          {pulling && (
            <button type="button" onClick={pull.cancel}>
              Cancel
            </button>
          )}
        </form>
        <p id="pull-help" className="muted small">
          Names as in the Ollama library (<code>qwen2.5:7b</code>, <code>llama3.2:1b</code>). Large
          models take a while; closing the dashboard cancels the download.
        </p>
        {fitNow && (
          <p className={`fit-line ${fitNow.level}`} data-testid="pull-fit" aria-live="polite">
            <span className={`badge advice-${fitNow.level}`}>
              {FIT_LABEL[fitNow.level] ?? fitNow.level}
            </span>{' '}
            {fitNow.message}
          </p>
        )}
        <ErrorText error={submitState.error} />
        {p.model && (
          <div className="pull-progress" data-testid="pull-progress">
            <label htmlFor="pull-bar">
              {p.model}: {p.error ? <span className="bad-text">{p.error}</span> : p.status}
              {pct !== null && !p.error && (
                <span className="muted">
                  {' '}
                  · {formatBytes(p.completed)} of {formatBytes(p.total)} ({Math.round(pct)} %)
                </span>
              )}
            </label>
            <progress
              id="pull-bar"
              max={100}
              value={p.error ? 0 : p.done ? 100 : (pct ?? undefined)}
            />
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="installed-h">
        <h3 id="installed-h">
          Installed models{' '}
          <button
            type="button"
            className="small-btn"
            onClick={() => setReload((r) => r + 1)}
            disabled={!canAct || !ollamaUp}
          >
            Refresh
          </button>
        </h3>
        <ErrorText error={listError} />
        {installed === null ? (
          <p className="muted">
            {canAct
              ? ollamaUp
                ? 'Loading…'
                : 'Ollama is not running.'
              : 'Needs the access token.'}
          </p>
        ) : installed.length === 0 ? (
          <p className="muted">No models installed yet.</p>
        ) : (
          <div className="table-wrap">
            <table data-testid="installed-models">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Size on disk</th>
                  <th scope="col">Parameters</th>
                  <th scope="col">Quantization</th>
                  <th scope="col">Loaded</th>
                </tr>
              </thead>
              <tbody>
                {installed.map((m) => {
                  const l = loaded.get(m.name);
                  return (
                    <tr key={m.name}>
                      <th scope="row">{m.name}</th>
                      <td>{formatBytes(m.sizeBytes)}</td>
                      <td>{m.parameterSize ?? '—'}</td>
                      <td>{m.quantization ?? '—'}</td>
                      <td>
                        {l ? (
                          `${formatMB(l.vramMB)} in ${s.gpu.gpus.some((g) => g.unified) ? 'memory' : 'VRAM'}${l.spilled ? ' (partly on CPU)' : ''}`
                        ) : (
                          <span className="muted">no</span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <PiperVoicesSection client={client} canAct={canAct} />
    </>
  );
}
