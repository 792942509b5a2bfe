// Services: status, uptime, restarts, health, last error and actions per service, and the live
// log viewer (`#services/<id>/logs`).

import type { FrontDoorPort, ServiceEntry } from '../../../main/core/contract.js';
import type { ApiClient, ServiceAction } from '../client.js';
import { Linkify } from '../components/Linkify.js';
import { ErrorText, StatusBadge } from '../components/Status.js';
import { formatDuration, formatMs } from '../format.js';
import { useAction, useNow } from '../hooks.js';
import type { Route } from '../route.js';
import type { ServerState } from '../useServer.js';
import { LogViewer } from './LogViewer.js';
import { OURS_UP_STATUSES } from '../../../main/core/contract.js';

export function ServicesPanel({
  server,
  route,
  navigate,
}: {
  server: ServerState;
  route: Route;
  navigate: (r: Route) => void;
}) {
  const s = server.snapshot!;
  const client = server.client!;
  const canAct = server.hasToken;
  const [all, allState] = useAction((action: 'start-all' | 'stop-all') =>
    client.allServices(action),
  );
  const open =
    route.logs && route.service ? s.services.find((x) => x.id === route.service) : undefined;
  return (
    <>
      <div className="toolbar">
        <button
          type="button"
          disabled={!canAct || allState.busy}
          onClick={() => void all('start-all')}
        >
          Start all
        </button>
        <button
          type="button"
          disabled={!canAct || allState.busy}
          onClick={() => void all('stop-all')}
        >
          Stop all
        </button>
        <ErrorText error={allState.error} />
      </div>
      {s.services.length === 0 ? (
        <p className="empty">No services are configured. Add them in Settings → Services.</p>
      ) : (
        <div className="table-wrap">
          <table className="services">
            <caption className="sr-only">Supervised services</caption>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Status</th>
                <th scope="col">Uptime</th>
                <th scope="col">Restarts</th>
                <th scope="col">Health</th>
                <th scope="col">Last error</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {s.services.map((svc) => (
                <ServiceRow
                  key={svc.id}
                  svc={svc}
                  door={s.frontDoor?.ports.find((p) => p.id === svc.id)}
                  client={client}
                  canAct={canAct}
                  since={server.stamps.services[svc.id] ?? server.receivedAt}
                  logsOpen={open?.id === svc.id}
                  onLogs={() =>
                    navigate(
                      open?.id === svc.id
                        ? { section: 'services' }
                        : { section: 'services', service: svc.id, logs: true },
                    )
                  }
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {route.logs && route.service && !open && (
        <p className="empty">There is no service “{route.service}”.</p>
      )}
      {open && canAct && (
        <LogViewer
          key={open.id}
          client={client}
          service={open}
          live={server.logs[open.id] ?? []}
          onClose={() => navigate({ section: 'services' })}
        />
      )}
      {open && !canAct && <p className="empty">Logs need the access token (see above).</p>}
    </>
  );
}

const BEHIND: Record<FrontDoorPort['behind'], string> = {
  ours: 'ours',
  external: 'another program',
  nobody: 'nobody',
};
const LISTENING: Record<FrontDoorPort['listening'], string> = {
  all: 'all addresses',
  loopback: 'this computer only',
  lan: 'the LAN addresses only',
  none: 'not in front',
};

/** The public port as the front door holds it: who answers behind it, and what it sees. */
function FrontDoorLine({ door }: { door: FrontDoorPort }) {
  return (
    <span className="muted small frontdoor" data-testid="frontdoor">
      {`public ${door.port} (${LISTENING[door.listening]}${door.lan ? '' : ', not reachable from the LAN'})`}
      {door.listening !== 'none' &&
        ` · behind: ${BEHIND[door.behind]} · ${door.requestsLastMinute} req/min`}
      {door.held > 0 && <strong>{` · ${door.held} waiting for it to wake`}</strong>}
    </span>
  );
}

function ServiceRow({
  svc,
  door,
  client,
  canAct,
  since,
  logsOpen,
  onLogs,
}: {
  svc: ServiceEntry;
  door: FrontDoorPort | undefined;
  client: ApiClient;
  canAct: boolean;
  /** When this entry's figures were last fresh. */
  since: number;
  logsOpen: boolean;
  onLogs: () => void;
}) {
  const now = useNow(1000);
  const [act, state] = useAction((a: ServiceAction) => client.serviceAction(svc.id, a));
  const up = OURS_UP_STATUSES.has(svc.status);
  // Uptime ticks locally between snapshots.
  const uptime =
    svc.status === 'running' || svc.status === 'unhealthy'
      ? svc.uptimeSeconds + Math.max(0, (now - since) / 1000)
      : null;
  const backoffIn =
    svc.status === 'backoff' && svc.nextRestartInSeconds != null
      ? Math.max(0, svc.nextRestartInSeconds - (now - since) / 1000)
      : null;
  const btn = (a: ServiceAction, label: string, enabled: boolean) => (
    <button
      type="button"
      disabled={!canAct || !enabled || state.busy}
      onClick={() => void act(a)}
      aria-label={`${label} ${svc.name}`}
    >
      {label}
    </button>
  );
  return (
    <tr data-testid={`service-${svc.id}`}>
      <th scope="row">
        <span className="svc-name">{svc.name}</span>
        <span className="muted small">
          {svc.port ? `port ${svc.port}` : 'no port'}
          {svc.pid ? ` · pid ${svc.pid}` : ''}
        </span>
        {door && <FrontDoorLine door={door} />}
      </th>
      <td data-label="Status">
        <StatusBadge status={svc.status} />
        {backoffIn !== null && (
          <span className="muted small"> next try in {formatDuration(backoffIn)}</span>
        )}
        {svc.hint && <p className="hint small">{svc.hint}</p>}
        {door?.note && <p className="hint small">{door.note}</p>}
      </td>
      <td data-testid="uptime" data-label="Uptime">
        {uptime === null ? '—' : formatDuration(uptime)}
      </td>
      <td data-label="Restarts">{svc.restarts}</td>
      <td data-label="Health">
        {svc.health ? (
          <span className={svc.health.ok ? 'ok-text' : 'bad-text'}>
            {svc.health.ok ? 'OK' : 'Failing'}
            {svc.health.latencyMs !== null && (
              <span className="muted"> · {formatMs(svc.health.latencyMs)}</span>
            )}
          </span>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="last-error" data-label="Last error">
        {svc.lastError ? (
          <span className="bad-text">
            <Linkify text={svc.lastError} />
          </span>
        ) : (
          <span className="muted">none</span>
        )}
      </td>
      <td data-label="Actions">
        <div className="actions">
          {svc.status === 'external' ? (
            btn('take-over', 'Take over', true)
          ) : (
            <>
              {btn('start', 'Start', !up && svc.enabled)}
              {btn('stop', 'Stop', up)}
              {btn('restart', 'Restart', up || svc.status === 'failed')}
            </>
          )}
          <button
            type="button"
            aria-pressed={logsOpen}
            aria-label={`${logsOpen ? 'Hide' : 'Show'} the log of ${svc.name}`}
            onClick={onLogs}
          >
            Logs
          </button>
        </div>
        <ErrorText error={state.error} />
      </td>
    </tr>
  );
}
