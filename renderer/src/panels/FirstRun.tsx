// First-run setup: the model tier chosen from the GPU (and why), one card per service with one
// button that gets it working and a progress bar while it does, and the phone step with a live
// "waiting for the phone" check. Every install starts only from a click here (a POST).

import { useEffect, useRef, useState } from 'react';
import type { Snapshot } from '../../../main/core/contract.js';
import type { ApiClient, SetupView } from '../client.js';
import { setupAdvice } from '../setup-model.js';
import type { StepView } from '../../../main/core/contract.js';
import { ErrorText } from '../components/Status.js';
import { useQrDataUrl } from '../components/qr.js';
import { formatClock } from '../format.js';
import { useAction } from '../hooks.js';
import type { Route } from '../route.js';

/** Polls GET /api/setup while the view is open (1 s: progress bars move). */
function useSetup(
  client: ApiClient,
  canAct: boolean,
): [SetupView | null, string | null, (v: SetupView) => void] {
  const [view, setView] = useState<SetupView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!canAct) return;
    let stop = false;
    const tick = async () => {
      try {
        const v = await client.setup();
        if (!stop) {
          setView(v);
          setError(null);
        }
      } catch (err) {
        if (!stop) setError((err as Error).message);
      }
    };
    void tick();
    const t = setInterval(() => void tick(), 1000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [client, canAct]);
  return [view, error, setView];
}

/** Opens the setup view once, on load, when the server says it is needed and no section was asked for. */
export function useFirstRunAutoOpen(
  client: ApiClient | null,
  canAct: boolean,
  navigate: (r: Route) => void,
): boolean {
  const done = useRef(false);
  const [needed, setNeeded] = useState(false);
  useEffect(() => {
    if (!client || !canAct) return;
    let stop = false;
    const check = async () => {
      try {
        const v = await client.setup();
        if (stop) return;
        setNeeded(v.needed);
        if (!done.current) {
          done.current = true;
          const explicit = location.hash.replace(/^#\/?/, '');
          if (v.needed && (!explicit || explicit.includes('='))) navigate({ section: 'setup' });
        }
      } catch {
        /* an older server without setup: nothing to open */
      }
    };
    void check();
    const t = setInterval(() => void check(), 10_000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [client, canAct, navigate]);
  return needed;
}

const fmtBytes = (n: number) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : `${Math.round(n / 1e3)} kB`;

function stepBadge(s: StepView): { text: string; cls: string } {
  if (s.ready) return { text: 'Ready', cls: 'status-running' };
  if (s.state === 'running') return { text: 'Working…', cls: 'status-starting' };
  if (s.state === 'failed') return { text: 'Failed', cls: 'status-failed' };
  if (s.state === 'cancelled' || s.state === 'interrupted')
    return { text: 'Paused', cls: 'status-backoff' };
  if (s.state === 'done')
    return {
      text: s.service ? `Installed · ${s.service.status}` : 'Installed',
      cls: 'status-starting',
    };
  if (s.missing) return { text: 'Not installed', cls: 'status-failed' };
  return { text: 'Not set up', cls: 'status-stopped' };
}

function buttonLabel(s: StepView): string {
  if (s.state === 'failed') return `Try again: set up ${s.name}`;
  if (s.state === 'cancelled' || s.state === 'interrupted') return `Resume ${s.name}`;
  if (s.state === 'done' || s.ready) return `Check ${s.name} again`;
  return `Set up ${s.name}`;
}

function StepCard({
  step: s,
  client,
  canAct,
  onView,
}: {
  step: StepView;
  client: ApiClient;
  canAct: boolean;
  onView: (v: SetupView) => void;
}) {
  const [act, state] = useAction(async (action: 'run' | 'cancel') =>
    onView(await client.setupStep(s.id, action)),
  );
  const badge = stepBadge(s);
  const p = s.progress;
  return (
    <section
      className={`card setup-step${s.ready ? ' setup-ready' : ''}`}
      aria-labelledby={`setup-${s.id}-h`}
      data-testid={`setup-${s.id}`}
      data-ready={s.ready ? 'true' : 'false'}
    >
      <div className="setup-step-head">
        <h3 id={`setup-${s.id}-h`}>{s.name}</h3>
        <span className={`badge ${badge.cls}`} data-testid="setup-badge">
          {badge.text}
        </span>
      </div>
      {s.optional && <p className="muted small">{s.optional}</p>}
      <ol className="setup-phases">
        {s.phases.map((ph) => (
          <li
            key={ph.key}
            className={
              ph.done ? 'done' : s.phase === ph.label && s.state === 'running' ? 'now' : ''
            }
          >
            <span aria-hidden="true">
              {ph.done ? '✓' : s.phase === ph.label && s.state === 'running' ? '▸' : '·'}
            </span>{' '}
            {ph.label}
          </li>
        ))}
      </ol>
      {s.state === 'running' && (
        <div className="pull-progress" data-testid="setup-progress">
          <span className="small">{p ? p.label : s.phase}</span>
          {p && p.total ? (
            <progress
              value={p.received}
              max={p.total}
              aria-label={`${p.label}: ${fmtBytes(p.received)} of ${fmtBytes(p.total)}`}
            />
          ) : (
            <progress aria-label={s.phase ?? 'working'} />
          )}
          {p && (
            <span className="muted small">
              {p.total ? `${fmtBytes(p.received)} of ${fmtBytes(p.total)}` : fmtBytes(p.received)}
            </span>
          )}
        </div>
      )}
      {s.error && (
        <div
          className={s.state === 'failed' ? 'callout setup-error' : 'callout'}
          role={s.state === 'failed' ? 'alert' : undefined}
        >
          <p className="setup-error-text">{s.error}</p>
          {s.manual && (
            <p className="small">
              To do it by hand: <code data-testid="setup-manual">{s.manual}</code>
            </p>
          )}
        </div>
      )}
      <div className="control-row">
        {s.state === 'running' ? (
          <button type="button" disabled={!canAct || state.busy} onClick={() => void act('cancel')}>
            Cancel
          </button>
        ) : (
          <button
            type="button"
            className={s.ready ? '' : 'primary'}
            disabled={!canAct || state.busy}
            onClick={() => void act('run')}
          >
            {buttonLabel(s)}
          </button>
        )}
      </div>
      <ErrorText error={state.error} />
      {s.output.length > 0 && (
        <details className="setup-output">
          <summary className="small">What it printed ({s.output.length} lines)</summary>
          <pre>{s.output.slice(-30).join('\n')}</pre>
        </details>
      )}
    </section>
  );
}

export function FirstRunPanel({
  client,
  canAct,
  navigate,
  snapshot,
}: {
  client: ApiClient;
  canAct: boolean;
  navigate: (r: Route) => void;
  snapshot: Snapshot;
}) {
  const [view, error, setView] = useSetup(client, canAct);
  const advice = setupAdvice(snapshot);
  const qr = useQrDataUrl(advice.qrText);
  const [dismiss, dState] = useAction(async () => {
    setView(await client.setupDismiss());
    navigate({ section: 'services' });
  });
  if (!canAct) return <p className="muted">Setting up needs the access token (paste it above).</p>;
  if (!view) return error ? <ErrorText error={error} /> : <p className="muted">Loading…</p>;
  const t = view.tier;
  const allReady = view.steps.every((s) => s.ready || s.optional);
  const phone = view.phone;
  return (
    <>
      <section className="card" aria-labelledby="setup-tier-h" data-testid="setup-tier">
        <h3 id="setup-tier-h">
          {t
            ? `${t.gpu === 'no GPU found' ? `No GPU found: ${t.model} on the CPU` : `For ${t.gpu}: ${t.model}`}${t.vibevoice ? ' with VibeVoice' : ', with Piper as the voice'}`
            : 'Looking at the GPU…'}
        </h3>
        {view.reason && view.reason !== 'first start' && (
          <p className="bad-text">{view.reason[0]!.toUpperCase() + view.reason.slice(1)}.</p>
        )}
        <p className="muted">
          Each card installs one service into this app's own folder when you press its button;
          nothing is installed before. A step can be cancelled and resumed: downloads continue where
          they stopped.
        </p>
        {t && (
          <details open>
            <summary>Why this model</summary>
            <ul className="setup-why">
              {t.why.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          </details>
        )}
      </section>
      <div className="cards setup-cards">
        {view.steps.map((s) => (
          <StepCard key={s.id} step={s} client={client} canAct={canAct} onView={setView} />
        ))}
      </div>
      <section
        className={`card${phone.seen ? ' setup-ready' : ''}`}
        aria-labelledby="setup-phone-h"
        data-testid="setup-phone"
        data-ready={phone.seen ? 'true' : 'false'}
      >
        <div className="setup-step-head">
          <h3 id="setup-phone-h">Connect the phone</h3>
          <span
            className={`badge ${phone.seen ? 'status-running' : 'status-starting'}`}
            role="status"
            data-testid="phone-status"
          >
            {phone.seen ? 'Phone connected' : 'Waiting for the phone…'}
          </span>
        </div>
        <ol className="setup-phone-steps">
          <li>
            In the UnaMentis app, open <strong>Settings → Self-Hosted Server</strong>.
          </li>
          <li>
            Type <code data-testid="phone-name">{advice.name}</code>
            {phone.addresses.length ? (
              <>
                {' '}
                (or this computer's address{' '}
                {phone.addresses.map((a, i) => (
                  <span key={a}>
                    {i > 0 && ' or '}
                    <code data-testid="phone-address">{a}</code>
                  </span>
                ))}
                ), or scan the QR code.
              </>
            ) : (
              <>, or scan the QR code.</>
            )}
            {advice.warnings.slice(0, 1).map((w) => (
              <span key={w} className="muted small">
                {' '}
                {w} <a href="#iphone">More in iPhone setup</a>.
              </span>
            ))}
          </li>
          {phone.model && (
            <li>
              Model: <code>{phone.model}</code>
              {phone.model === 'qwen2.5:14b-instruct'
                ? ' (the app’s default: nothing to change).'
                : ': in the model list, press Refresh (it picks the installed model).'}
            </li>
          )}
          <li>Start a session. This card turns green when the phone’s first request arrives.</li>
        </ol>
        {qr && (
          <img
            className="setup-qr"
            src={qr}
            alt={`QR code for ${advice.qrText}`}
            data-testid="phone-qr"
            width={160}
            height={160}
          />
        )}
        {phone.seen && (
          <p className="ok-text" data-testid="phone-seen">
            The phone reached{' '}
            {view.steps.find((x) => x.id === phone.seen!.service)?.name ?? phone.seen.service} from{' '}
            {phone.seen.from} at {formatClock(phone.seen.at)}.
          </p>
        )}
      </section>
      <div className="control-row">
        <button
          type="button"
          className={allReady ? 'primary' : ''}
          disabled={dState.busy}
          onClick={() => void dismiss()}
        >
          {allReady ? 'Done' : 'Close setup for now'}
        </button>
      </div>
      <ErrorText error={dState.error ?? error} />
    </>
  );
}
