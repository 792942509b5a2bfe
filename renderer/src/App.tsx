import { useState, type FormEvent } from 'react';
import type { ServiceEntry, Snapshot } from '../../main/core/contract.js';
import { useServer } from './useServer.js';

export function App() {
  const server = useServer();
  const s = server.snapshot;
  return (
    <div className="app">
      <header className="topbar">
        <div>
          <h1 data-testid="host-name">{s ? s.host.name : 'UnaMentis Server'}</h1>
          {s && <HostLine snapshot={s} />}
        </div>
        <span className={`conn ${server.connected ? 'ok' : 'down'}`} role="status" aria-live="polite">
          {server.connected ? 'Connected' : 'Connecting…'}
        </span>
      </header>
      {!server.hasToken && server.client && <TokenForm onToken={server.setToken} />}
      {s && s.notices.length > 0 && (
        <section aria-label="Notices" className="notices">
          {s.notices.map((n) => (
            <div key={n.id} className={`notice ${n.level}`} data-testid="notice">
              {n.message}
            </div>
          ))}
        </section>
      )}
      <main>{s ? <Services services={s.services} /> : <p>Loading…</p>}</main>
    </div>
  );
}

function HostLine({ snapshot: s }: { snapshot: Snapshot }) {
  return (
    <p className="hostline">
      <span>{s.host.role === 'primary' ? 'Primary' : 'Fallback'}</span>
      <span data-testid="serving">{s.host.serving ? 'Serving' : 'Standing by'}</span>
      <span data-testid="hibernation-state">State: {s.hibernation.state}</span>
    </p>
  );
}

function Services({ services }: { services: ServiceEntry[] }) {
  if (services.length === 0) return <p>No services configured.</p>;
  return (
    <section aria-labelledby="services-h">
      <h2 id="services-h">Services</h2>
      <table className="services">
        <thead>
          <tr>
            <th scope="col">Service</th>
            <th scope="col">Status</th>
            <th scope="col">Port</th>
            <th scope="col">Restarts</th>
            <th scope="col">Last error</th>
          </tr>
        </thead>
        <tbody>
          {services.map((svc) => (
            <tr key={svc.id} data-testid={`service-${svc.id}`}>
              <td>{svc.name}</td>
              <td>
                <span className={`status ${svc.status}`}>{svc.status}</span>
              </td>
              <td>{svc.port ?? '—'}</td>
              <td>{svc.restarts}</td>
              <td>{svc.lastError ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function TokenForm({ onToken }: { onToken: (t: string) => void }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) onToken(value.trim());
  };
  return (
    <form className="token-form" onSubmit={submit}>
      <label htmlFor="token">
        Read-only view. To control this server, paste its access token (headless: the <code>token</code> file in the
        data folder).
      </label>
      <input id="token" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} />
      <button type="submit">Unlock</button>
    </form>
  );
}
