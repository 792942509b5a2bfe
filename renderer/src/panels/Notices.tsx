// User-facing problems and events from the snapshot, newest first, each dismissible.

import type { Notice } from '../../../main/core/contract.js';
import type { ApiClient } from '../client.js';
import { formatClock } from '../format.js';
import { useAction } from '../hooks.js';

export function Notices({ notices, client, canAct }: { notices: Notice[]; client: ApiClient; canAct: boolean }) {
  if (notices.length === 0) return null;
  return (
    <section aria-label="Notices" className="notices">
      {[...notices].reverse().map((n) => (
        <NoticeItem key={n.id} notice={n} client={client} canAct={canAct} />
      ))}
    </section>
  );
}

function NoticeItem({ notice: n, client, canAct }: { notice: Notice; client: ApiClient; canAct: boolean }) {
  const [dismiss, state] = useAction(() => client.dismissNotice(n.id));
  return (
    <div className={`notice ${n.level}`} data-testid="notice" role={n.level === 'error' ? 'alert' : undefined}>
      <span className="notice-level">{n.level === 'error' ? 'Error' : n.level === 'warning' ? 'Warning' : 'Info'}</span>
      <span className="notice-text">{n.message}</span>
      <time className="muted small" dateTime={n.at}>
        {formatClock(n.at)}
      </time>
      {canAct && (
        <button type="button" className="small-btn" onClick={() => void dismiss()} disabled={state.busy} aria-label={`Dismiss: ${n.message}`}>
          Dismiss
        </button>
      )}
    </div>
  );
}
