// User-facing problems and events from the snapshot, newest first, each dismissible. Only the newest
// is open: the rest fold into "N more notices", so a few long ones do not push the page off a phone's
// first screens.

import type { Notice } from '../../../main/core/contract.js';
import type { ApiClient } from '../client.js';
import { Linkify } from '../components/Linkify.js';
import { formatClock } from '../format.js';
import { useAction } from '../hooks.js';

export function Notices({
  notices,
  client,
  canAct,
}: {
  notices: Notice[];
  client: ApiClient;
  canAct: boolean;
}) {
  if (notices.length === 0) return null;
  const [first, ...rest] = [...notices].reverse();
  return (
    <section aria-label="Notices" className="notices">
      <NoticeItem notice={first!} client={client} canAct={canAct} />
      {rest.length > 0 && (
        <details className="notices-more" data-testid="notices-more">
          <summary>
            {rest.length} more notice{rest.length === 1 ? '' : 's'}
          </summary>
          {rest.map((n) => (
            <NoticeItem key={n.id} notice={n} client={client} canAct={canAct} />
          ))}
        </details>
      )}
    </section>
  );
}

function NoticeItem({
  notice: n,
  client,
  canAct,
}: {
  notice: Notice;
  client: ApiClient;
  canAct: boolean;
}) {
  const [dismiss, state] = useAction(() => client.dismissNotice(n.id));
  return (
    <div
      className={`notice ${n.level}`}
      data-testid="notice"
      role={n.level === 'error' ? 'alert' : undefined}
    >
      <span className="notice-level">
        {n.level === 'error' ? 'Error' : n.level === 'warning' ? 'Warning' : 'Info'}
      </span>
      <span className="notice-text">
        <Linkify text={n.message} />
      </span>
      <time className="muted small" dateTime={n.at}>
        {formatClock(n.at)}
      </time>
      {canAct && (
        <button
          type="button"
          className="small-btn"
          onClick={() => void dismiss()}
          disabled={state.busy}
          aria-label={`Dismiss: ${n.message}`}
        >
          Dismiss
        </button>
      )}
    </div>
  );
}
