import type { ServiceStatus } from '../../../main/core/contract.js';

const TEXT: Record<ServiceStatus, string> = {
  disabled: 'Disabled',
  stopped: 'Stopped',
  starting: 'Starting',
  running: 'Running',
  unhealthy: 'Unhealthy',
  backoff: 'Restarting',
  failed: 'Failed',
  external: 'External',
};

export function StatusBadge({ status }: { status: ServiceStatus }) {
  return (
    <span className={`badge status-${status}`} data-status={status}>
      <span className="dot" aria-hidden="true" />
      {TEXT[status] ?? status}
    </span>
  );
}

export function ErrorText({ error, id }: { error: string | null; id?: string }) {
  if (!error) return null;
  return (
    <p className="error-text" role="alert" id={id}>
      {error}
    </p>
  );
}
