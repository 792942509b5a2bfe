// Hibernation: the state, the next step and when, the timeline of transitions, and the manual
// controls (hibernate now, wake, keep awake).

import { useState } from 'react';
import type { HibernationState, Snapshot } from '../../../main/core/contract.js';
import type { ApiClient } from '../client.js';
import { stateBands } from '../charts.js';
import { ErrorText } from '../components/Status.js';
import { formatClock, formatDuration, STATE_LABEL, STATE_MEANING } from '../format.js';
import { useAction, useNow } from '../hooks.js';

const HIBERNATION_STATES: readonly HibernationState[] = [
  'active',
  'warm',
  'cool',
  'cold',
  'dormant',
];
const TIMELINE_MS = 2 * 3600_000;

const KEEP_AWAKE_CHOICES: { label: string; minutes: number | null }[] = [
  { label: '30 minutes', minutes: 30 },
  { label: '1 hour', minutes: 60 },
  { label: '2 hours', minutes: 120 },
  { label: '4 hours', minutes: 240 },
  { label: 'Until I turn it off', minutes: null },
];

export function HibernationPanel({
  snapshot: s,
  client,
  canAct,
  receivedAt,
}: {
  snapshot: Snapshot;
  client: ApiClient;
  canAct: boolean;
  receivedAt: number;
}) {
  const now = useNow(1000);
  const h = s.hibernation;
  const elapsed = Math.max(0, (now - receivedAt) / 1000);
  const pinned = !!h.keepAwake;
  const idle = pinned ? h.idleSeconds : h.idleSeconds + elapsed;
  const nextIn = h.next ? Math.max(0, h.next.inSeconds - (pinned ? 0 : elapsed)) : null;
  const [target, setTarget] = useState<HibernationState>(
    h.state === 'dormant' ? 'cold' : 'dormant',
  );
  const [minutes, setMinutes] = useState<string>('60');
  const [hibernate, hState] = useAction((state: HibernationState) => client.hibernate(state));
  const [wake, wState] = useAction(() => client.wake());
  const [keep, kState] = useAction((on: boolean, m: number | null) => client.keepAwake(on, m));
  const history = [...(h.history ?? [])].reverse();
  const bands = stateBands(
    h.history ?? [],
    h.state,
    now,
    TIMELINE_MS,
    h.since ? Date.parse(h.since) : undefined,
  );

  return (
    <>
      <section className="card state-card" aria-labelledby="state-h">
        <h3 id="state-h" className="sr-only">
          Current state
        </h3>
        <ol className="staircase" aria-label="Hibernation states">
          {HIBERNATION_STATES.map((st) => (
            <li
              key={st}
              className={st === h.state ? 'current' : ''}
              aria-current={st === h.state ? 'step' : undefined}
            >
              <span className={`state-dot state-${st}`} aria-hidden="true" />
              <span className="state-name">{STATE_LABEL[st]}</span>
              <span className="muted small">{STATE_MEANING[st]}</span>
            </li>
          ))}
        </ol>
        <p className="state-line" data-testid="hib-state" aria-live="polite">
          Now <strong>{STATE_LABEL[h.state]}</strong>
          {h.busy && <span className="muted"> (working…)</span>}
          {' · '}idle for {formatDuration(idle)}
          {pinned && (
            <>
              {' · '}
              <span className="tag">
                keep awake{h.keepAwake?.until ? ` until ${formatClock(h.keepAwake.until)}` : ''}
              </span>
            </>
          )}
        </p>
        <p data-testid="hib-next">
          {h.next && nextIn !== null ? (
            <>
              Next: <strong>{STATE_LABEL[h.next.state]}</strong> in {formatDuration(nextIn)}
              {!pinned && (
                <span className="muted">
                  {' '}
                  (at {formatClock(now + nextIn * 1000)}) unless the server is used
                </span>
              )}
            </>
          ) : pinned ? (
            'Kept awake: no step down until keep awake ends.'
          ) : h.state === 'dormant' ? (
            'Dormant: the deepest state. A wake, or any use, brings it back.'
          ) : (
            'No step down is scheduled.'
          )}
        </p>
      </section>

      <section className="card" aria-labelledby="hib-controls-h">
        <h3 id="hib-controls-h">Control</h3>
        <div className="control-row">
          <button
            type="button"
            className="primary"
            disabled={!canAct || wState.busy || (h.state === 'active' && !h.busy)}
            onClick={() => void wake()}
          >
            Wake now
          </button>
          <ErrorText error={wState.error} />
        </div>
        <form
          className="control-row"
          onSubmit={(e) => {
            e.preventDefault();
            void hibernate(target);
          }}
        >
          <label htmlFor="hib-target">Hibernate now to</label>
          <select
            id="hib-target"
            value={target}
            onChange={(e) => setTarget(e.target.value as HibernationState)}
          >
            {HIBERNATION_STATES.filter((x) => x !== 'active').map((st) => (
              <option key={st} value={st}>
                {STATE_LABEL[st]} — {STATE_MEANING[st]}
              </option>
            ))}
          </select>
          <button type="submit" disabled={!canAct || hState.busy || target === h.state}>
            Hibernate now
          </button>
          <ErrorText error={hState.error} />
        </form>
        <form
          className="control-row"
          onSubmit={(e) => {
            e.preventDefault();
            void keep(!pinned, minutes === '' ? null : Number(minutes));
          }}
        >
          {!pinned && (
            <>
              <label htmlFor="keep-for">Keep awake for</label>
              <select id="keep-for" value={minutes} onChange={(e) => setMinutes(e.target.value)}>
                {KEEP_AWAKE_CHOICES.map((c) => (
                  <option key={c.label} value={c.minutes === null ? '' : String(c.minutes)}>
                    {c.label}
                  </option>
                ))}
              </select>
            </>
          )}
          <button type="submit" disabled={!canAct || kState.busy} aria-pressed={pinned}>
            {pinned ? 'Stop keeping awake' : 'Keep awake'}
          </button>
          <ErrorText error={kState.error} />
        </form>
      </section>

      <section className="card" aria-labelledby="timeline-h">
        <h3 id="timeline-h">Timeline, last 2 hours</h3>
        <div className="timeline-band" aria-hidden="true">
          {bands.map((b, i) => (
            <span
              key={i}
              className={`band state-${b.state}`}
              style={{ left: `${b.x}%`, width: `${b.width}%` }}
              title={`${STATE_LABEL[b.state] ?? b.state}: ${formatClock(b.from)}–${formatClock(b.to)}`}
            />
          ))}
        </div>
        <div className="timeline-axis muted small" aria-hidden="true">
          <span>{formatClock(now - TIMELINE_MS)}</span>
          <span>now</span>
        </div>
        {history.length === 0 ? (
          <p className="muted">No transitions yet.</p>
        ) : (
          <ol className="transitions" data-testid="transitions">
            {history.slice(0, 30).map((t, i) => (
              <li key={`${t.at}-${i}`}>
                <time dateTime={t.at}>{formatClock(t.at)}</time>{' '}
                <span className={`state-dot state-${t.from}`} aria-hidden="true" />
                {STATE_LABEL[t.from] ?? t.from} →{' '}
                <span className={`state-dot state-${t.to}`} aria-hidden="true" />
                <strong>{STATE_LABEL[t.to] ?? t.to}</strong>{' '}
                <span className="muted">({t.reason})</span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}
