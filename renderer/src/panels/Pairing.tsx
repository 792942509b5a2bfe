// Pairing: the other hosts (paired and discovered), who serves, when each was last seen, and the
// pair / unpair flow with the 6-digit code.

import type { Peer, Snapshot } from '../../../main/core/contract.js';
import type { ApiClient } from '../client.js';
import { formatAgo, STATE_LABEL } from '../format.js';

export function PairingPanel({ snapshot: s }: { snapshot: Snapshot; client: ApiClient; canAct: boolean }) {
  const paired = s.peers.filter((p) => p.paired !== false);
  return (
    <>
      <section className="card" aria-labelledby="who-h">
        <h3 id="who-h">Who serves the iPhone</h3>
        <p data-testid="who-serves">{whoServes(s)}</p>
      </section>
      <section className="card" aria-labelledby="peers-h">
        <h3 id="peers-h">Paired computers</h3>
        {paired.length === 0 ? <p className="muted">Not paired with another computer.</p> : <PeerTable peers={paired} />}
      </section>
    </>
  );
}

export function whoServes(s: Snapshot): string {
  const servers = [...(s.host.serving ? [`this computer (${s.host.name})`] : []), ...s.peers.filter((p) => p.serving).map((p) => p.name)];
  if (servers.length === 0) return 'Nobody is serving right now.';
  if (servers.length > 1) return `More than one host says it serves: ${servers.join(', ')} (they will settle in a moment).`;
  return `${servers[0]![0]!.toUpperCase()}${servers[0]!.slice(1)} serves.`;
}

function PeerTable({ peers }: { peers: Peer[] }) {
  return (
    <div className="table-wrap">
      <table data-testid="peers">
        <thead>
          <tr>
            <th scope="col">Computer</th>
            <th scope="col">Role</th>
            <th scope="col">Serving</th>
            <th scope="col">State</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {peers.map((p) => (
            <tr key={p.id} data-testid={`peer-${p.id}`}>
              <th scope="row">{p.name}</th>
              <td>
                {p.role === 'primary' ? 'Primary' : 'Fallback'} <span className="muted small">prio {p.prio}</span>
              </td>
              <td>{p.serving ? <span className="badge status-running">Serving</span> : <span className="muted">standing by</span>}</td>
              <td>
                <span className={`state-dot state-${p.state}`} aria-hidden="true" /> {STATE_LABEL[p.state] ?? p.state}
                {p.ready === false && <span className="muted small"> (not ready)</span>}
              </td>
              <td>{formatAgo(p.lastSeenSeconds)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
