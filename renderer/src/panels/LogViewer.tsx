// A service's live log: the last lines from GET /api/services/{id}/logs, then every `log` event
// from the stream. Follow keeps the newest line in view; search filters and highlights.

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { LogLine, ServiceEntry } from '../../../main/core/contract.js';
import type { ApiClient } from '../client.js';
import { ErrorText } from '../components/Status.js';
import { formatClock } from '../format.js';
import { filterLogLines, highlightParts, mergeLogLines } from '../logs.js';

const INITIAL_LINES = 500;
const MAX_LINES = 5000;
/** Lines worth a second look, whatever stream they came on (Ollama logs everything to stderr). */
const ERRORISH = /\b(error|fatal|panic|traceback|exception)\b/i;

export function LogViewer({
  client,
  service,
  live,
  onClose,
}: {
  client: ApiClient;
  service: ServiceEntry;
  live: LogLine[];
  onClose: () => void;
}) {
  const [initial, setInitial] = useState<LogLine[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [stream, setStream] = useState<LogLine['stream'] | 'all'>('all');
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    let cancelled = false;
    client
      .logs(service.id, INITIAL_LINES)
      .then((lines) => !cancelled && setInitial(lines))
      .catch((err: Error) => {
        if (cancelled) return;
        setError(`Could not load the log: ${err.message}`);
        setInitial([]);
      });
    return () => {
      cancelled = true;
    };
  }, [client, service.id]);

  useEffect(() => {
    headingRef.current?.focus();
  }, [service.id]);

  const all = useMemo(() => mergeLogLines(initial ?? [], live, MAX_LINES), [initial, live]);
  const shown = useMemo(() => filterLogLines(all, query, stream), [all, query, stream]);

  useLayoutEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [shown, follow]);

  return (
    <section className="card logviewer" aria-labelledby="log-h" data-testid="log-viewer">
      <div className="logviewer-head">
        <h3 id="log-h" tabIndex={-1} ref={headingRef}>
          {service.name} log
        </h3>
        <div className="log-controls">
          <label>
            <span className="sr-only">Search the log</span>
            <input
              type="search"
              placeholder="Search…"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              aria-controls="log-lines"
            />
          </label>
          <label>
            <span className="sr-only">Stream</span>
            <select value={stream} onChange={(e) => setStream(e.target.value as typeof stream)}>
              <option value="all">All streams</option>
              <option value="stdout">stdout</option>
              <option value="stderr">stderr</option>
              <option value="supervisor">supervisor</option>
            </select>
          </label>
          <label className="check">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />{' '}
            Follow
          </label>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
      <ErrorText error={error} />
      <p className="muted small" aria-live="polite">
        {initial === null
          ? 'Loading…'
          : query || stream !== 'all'
            ? `${shown.length} of ${all.length} lines match`
            : `${all.length} lines`}
      </p>
      <div
        id="log-lines"
        className="log-lines"
        ref={box}
        role="log"
        aria-live="off"
        aria-label={`${service.name} log lines`}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
          if (!atBottom && follow) setFollow(false);
        }}
      >
        {shown.map((l, i) => (
          <div
            key={i}
            className={`log-line ${l.stream}${ERRORISH.test(l.text) ? ' error' : ''}`}
            data-testid="log-line"
          >
            <span className="log-time">{formatClock(l.t)}</span>
            <span className="log-text">
              {highlightParts(l.text, query).map((p, j) =>
                p.match ? <mark key={j}>{p.text}</mark> : <span key={j}>{p.text}</span>,
              )}
            </span>
          </div>
        ))}
      </div>
    </section>
  );
}
