// Pairing: who serves, the paired computers (state, last seen), the hosts on the network to pair
// with, and the flow: pick a host → it shows a 6-digit code → type the code here. A request from
// another host shows its code here. Unpair one host, or leave the pair.

import { useEffect, useState, type ReactNode } from 'react';
import type { Peer, Snapshot } from '../../../main/core/contract.js';
import type { ApiClient, PairingStatusView } from '../client.js';
import { ErrorText } from '../components/Status.js';
import { formatAgo, formatDuration, STATE_LABEL } from '../format.js';
import { useAction, useNow } from '../hooks.js';

export function PairingPanel({
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
  const elapsed = Math.max(0, (now - receivedAt) / 1000);
  const p = s.pairing;
  const paired = s.peers.filter((x) => x.paired !== false);
  const others = s.peers.filter((x) => x.paired === false);
  const pending = p?.pending ?? null;

  // The code to show lives only in the token-gated status: fetch it when a request comes in.
  const [status, setStatus] = useState<PairingStatusView | null>(null);
  const pendingKey = pending
    ? `${pending.direction}:${pending.peerId}:${pending.attemptsLeft}`
    : '';
  useEffect(() => {
    if (!canAct || !pendingKey) return;
    let cancelled = false;
    client
      .pairingStatus()
      .then((st) => !cancelled && setStatus(st))
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [client, canAct, pendingKey]);
  const incoming =
    pending?.direction === 'incoming' && status?.incoming?.fromId === pending.peerId
      ? status.incoming
      : null;

  const [start, startState] = useAction(
    (target: { id: string } | { address: string; port: number }) => client.pairingStart(target),
  );
  const [confirm, confirmState] = useAction((code: string) => client.pairingConfirm(code));
  const [cancel, cancelState] = useAction(() => client.pairingCancel());
  const [unpair, unpairState] = useAction((id?: string) => client.pairingUnpair(id));
  const [serve, serveState] = useAction((on: boolean) => client.serving(on));
  const [code, setCode] = useState('');
  const [manual, setManual] = useState({ address: '', port: '11400' });
  const [confirmUnpair, setConfirmUnpair] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);

  const expires = pending ? Math.max(0, pending.expiresInSeconds - elapsed) : 0;
  const locked = p ? Math.max(0, p.lockedForSeconds - elapsed) : 0;

  return (
    <>
      <section className="card" aria-labelledby="who-h">
        <h3 id="who-h">Who serves the iPhone</h3>
        <p data-testid="who-serves" className="state-line">
          {whoServes(s)}
        </p>
        {p?.reason && !whoServes(s).toLowerCase().includes(p.reason.toLowerCase()) && (
          <p className="muted">{p.reason}</p>
        )}
        {paired.length > 0 && (
          <div className="control-row">
            <button
              type="button"
              disabled={!canAct || serveState.busy}
              onClick={() => void serve(!!p?.standby)}
              aria-pressed={!!p?.standby}
            >
              {p?.standby ? 'Resume serving here' : 'Stop serving here (hand over)'}
            </button>
            <ErrorText error={serveState.error} />
          </div>
        )}
      </section>

      {pending?.direction === 'incoming' && (
        <section
          className="card pairing-code"
          aria-labelledby="incoming-h"
          data-testid="pairing-incoming"
          role="region"
        >
          <h3 id="incoming-h">{pending.peerName} wants to pair with this computer</h3>
          {incoming ? (
            <p>
              Type this code on {pending.peerName}:{' '}
              <strong
                className="code"
                data-testid="pairing-code"
                aria-label={`Code ${incoming.code.split('').join(' ')}`}
              >
                {incoming.code.slice(0, 3)} {incoming.code.slice(3)}
              </strong>
            </p>
          ) : (
            <p className="muted">
              {canAct ? 'Loading the code…' : 'The code needs the access token (see above).'}
            </p>
          )}
          <p className="muted small">
            From {pending.address} · valid for {formatDuration(expires)} · {pending.attemptsLeft}{' '}
            tries left. If you did not start this, cancel.
          </p>
          {(p?.requests?.length ?? 0) > 1 && (
            <p className="muted small" data-testid="pairing-others">
              Also asking:{' '}
              {p!
                .requests!.filter((q) => q.address !== pending.address)
                .map((q) => `${q.peerName} (${q.address})`)
                .join(', ')}
              . Only the computer you are pairing should be here; cancel removes them all.
            </p>
          )}
          <button
            type="button"
            disabled={!canAct || cancelState.busy}
            onClick={() => void cancel()}
          >
            Cancel
          </button>
        </section>
      )}

      {pending?.direction === 'outgoing' && (
        <section
          className="card pairing-code"
          aria-labelledby="outgoing-h"
          data-testid="pairing-outgoing"
        >
          <h3 id="outgoing-h">Pairing with {pending.peerName}</h3>
          <form
            className="control-row"
            noValidate
            onSubmit={async (e) => {
              e.preventDefault();
              const r = await confirm(code.replace(/\D/g, ''));
              if (r) {
                setResult(`Paired with ${r.peerName}.`);
                setCode('');
              }
            }}
          >
            <label htmlFor="pair-code">The 6-digit code {pending.peerName} shows</label>
            <input
              id="pair-code"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={7}
              value={code}
              onChange={(e) => setCode(e.target.value)}
              aria-invalid={confirmState.error ? true : undefined}
              aria-describedby="pair-code-help"
              className="code-input"
            />
            <button
              type="submit"
              className="primary"
              disabled={!canAct || confirmState.busy || code.replace(/\D/g, '').length !== 6}
            >
              Pair
            </button>
            <button
              type="button"
              disabled={!canAct || cancelState.busy}
              onClick={() => void cancel()}
            >
              Cancel
            </button>
          </form>
          <p id="pair-code-help" className="muted small">
            Valid for {formatDuration(expires)} · {pending.attemptsLeft} tries left.
          </p>
          <ErrorText error={confirmState.error} />
        </section>
      )}

      {result && !pending && (
        <p className="callout ok" role="status" data-testid="pairing-result">
          {result}
        </p>
      )}
      {locked > 0 && (
        <p className="callout error" role="alert">
          Pairing from {p?.lockedOut?.map((l) => l.address).join(', ') || 'one address'} is locked
          for {formatDuration(locked)} after too many wrong codes; other computers can still pair.
          Cancel to unlock.
        </p>
      )}

      <section className="card" aria-labelledby="peers-h">
        <h3 id="peers-h">Paired computers</h3>
        {paired.length === 0 ? (
          <p className="muted">
            Not paired. Pair a Mac (primary) with an always-on PC (fallback): the PC takes over
            whenever the Mac sleeps.
          </p>
        ) : (
          <PeerTable
            peers={paired}
            servingId={p?.servingId ?? null}
            actions={(peer) =>
              confirmUnpair === peer.id ? (
                <span className="actions">
                  <button
                    type="button"
                    className="danger"
                    disabled={!canAct || unpairState.busy}
                    onClick={async () => {
                      const r = await unpair(peer.id);
                      setConfirmUnpair(null);
                      if (r)
                        setResult(
                          r.unreachable.length
                            ? `Unpaired here; ${peer.name} could not be reached and must be unpaired there too.`
                            : `Unpaired ${peer.name}.`,
                        );
                    }}
                  >
                    Unpair {peer.name}
                  </button>
                  <button type="button" onClick={() => setConfirmUnpair(null)}>
                    Keep
                  </button>
                </span>
              ) : (
                <button
                  type="button"
                  disabled={!canAct}
                  onClick={() => setConfirmUnpair(peer.id)}
                  aria-label={`Unpair ${peer.name}…`}
                >
                  Unpair…
                </button>
              )
            }
          />
        )}
        {paired.length > 1 && (
          <div className="control-row">
            <button
              type="button"
              disabled={!canAct || unpairState.busy}
              onClick={() => void unpair()}
            >
              Leave the pair
            </button>
          </div>
        )}
        <ErrorText error={unpairState.error} />
      </section>

      <section className="card" aria-labelledby="nearby-h">
        <h3 id="nearby-h">Pair with another computer</h3>
        {others.length === 0 ? (
          <p className="muted">
            No other UnaMentis computer is visible on this network. Check both are on the same
            network, or pair by address below.
          </p>
        ) : (
          <ul className="nearby" data-testid="nearby">
            {others.map((o) => (
              <li key={o.id}>
                <span>
                  <strong>{o.name}</strong>{' '}
                  <span className="muted small">
                    {o.role === 'primary' ? 'primary' : 'fallback'} ·{' '}
                    {(o.addresses ?? []).join(', ')}
                  </span>
                </span>
                <button
                  type="button"
                  disabled={!canAct || startState.busy || !!pending}
                  onClick={() => void start({ id: o.id })}
                >
                  Pair…
                </button>
              </li>
            ))}
          </ul>
        )}
        <details>
          <summary>Pair by address</summary>
          <form
            className="control-row"
            noValidate
            data-testid="pair-by-address"
            onSubmit={(e) => {
              e.preventDefault();
              void start({ address: manual.address.trim(), port: Number(manual.port) });
            }}
          >
            <label htmlFor="pair-address">Address</label>
            <input
              id="pair-address"
              value={manual.address}
              placeholder="192.168.1.20"
              onChange={(e) => setManual((m) => ({ ...m, address: e.target.value }))}
            />
            <label htmlFor="pair-port">Control port</label>
            <input
              id="pair-port"
              inputMode="numeric"
              value={manual.port}
              onChange={(e) => setManual((m) => ({ ...m, port: e.target.value }))}
              className="port-input"
            />
            <button
              type="submit"
              disabled={!canAct || startState.busy || !!pending || !manual.address.trim()}
            >
              Pair…
            </button>
          </form>
        </details>
        <ErrorText error={startState.error} />
      </section>

      {p && (
        <details className="card">
          <summary>Heartbeats</summary>
          <p className="small muted" data-testid="heartbeats">
            sent {p.heartbeats.sent} · received {p.heartbeats.received} · accepted{' '}
            {p.heartbeats.accepted} · dropped: {p.heartbeats.malformed} malformed,{' '}
            {p.heartbeats.unauthenticated} unauthenticated, {p.heartbeats.replayed} replayed ·
            refused pairing requests {p.rejectedRequests}
            {p.lastError ? ` · last error: ${p.lastError}` : ''}
          </p>
        </details>
      )}
    </>
  );
}

export function whoServes(s: Snapshot): string {
  const servers = [
    ...(s.host.serving ? [`this computer (${s.host.name})`] : []),
    ...s.peers.filter((p) => p.serving && p.paired !== false).map((p) => p.name),
  ];
  if (servers.length === 0) return 'Nobody is serving right now.';
  if (servers.length > 1)
    return `More than one host says it serves: ${servers.join(', ')} (they settle in a moment).`;
  return `${servers[0]![0]!.toUpperCase()}${servers[0]!.slice(1)} serves.`;
}

function PeerTable({
  peers,
  servingId,
  actions,
}: {
  peers: Peer[];
  servingId: string | null;
  actions: (p: Peer) => ReactNode;
}) {
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
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {peers.map((p) => (
            <tr key={p.id} data-testid={`peer-${p.id}`}>
              <th scope="row">
                {p.name}
                <span className="muted small">{(p.addresses ?? []).join(', ')}</span>
              </th>
              <td>
                {p.role === 'primary' ? 'Primary' : 'Fallback'}{' '}
                <span className="muted small">prio {p.prio}</span>
              </td>
              <td>
                {p.serving || servingId === p.id ? (
                  <span className="badge status-running">Serving</span>
                ) : (
                  <span className="muted">standing by</span>
                )}
              </td>
              <td>
                <span className={`state-dot state-${p.state}`} aria-hidden="true" />{' '}
                {STATE_LABEL[p.state] ?? p.state}
                {p.ready === false && <span className="muted small"> (not ready)</span>}
              </td>
              <td data-testid="last-seen">
                {p.lastSeenSeconds < 0 ? (
                  <span className="bad-text">not heard yet</span>
                ) : (
                  formatAgo(p.lastSeenSeconds)
                )}
              </td>
              <td>{actions(p)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
