// The dashboard: a header that answers "is it serving, and how is it?" at a glance, notices, and
// one section at a time, chosen by the URL hash (so the tray can open `#services/ollama/logs`).

import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { Snapshot } from '../../main/core/contract.js';
import { formatMB, STATE_LABEL } from './format.js';
import { withoutServiceErrors } from './notice-filter.js';
import { useHashRoute } from './hooks.js';
import { GpuPanel } from './panels/Gpu.js';
import { HibernationPanel } from './panels/Hibernation.js';
import { LatencyPanel } from './panels/Latency.js';
import { ModelsPanel, usePull } from './panels/Models.js';
import { Notices } from './panels/Notices.js';
import { PairingPanel } from './panels/Pairing.js';
import { ServicesPanel } from './panels/Services.js';
import { SettingsPanel } from './panels/Settings.js';
import { FirstRunPanel, useFirstRunAutoOpen } from './panels/FirstRun.js';
import { SetupPanel } from './panels/Setup.js';
import { SECTION_LABEL, SECTIONS, type Route } from './route.js';
import { useServer, type ServerState } from './useServer.js';
import { ANSWERING_STATUSES } from '../../main/core/contract.js';

export function App() {
  const server = useServer();
  const [route, navigate] = useHashRoute();
  const pull = usePull(server.client);
  const setupNeeded = useFirstRunAutoOpen(server.client, server.hasToken, navigate);
  const s = server.snapshot;
  const headingRef = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);

  useEffect(() => {
    // Moving between sections moves focus to the new heading (not on the first load).
    if (first.current) {
      first.current = false;
      return;
    }
    if (!route.logs) headingRef.current?.focus();
  }, [route.section, route.logs]);

  useEffect(() => {
    document.title = s
      ? `${SECTION_LABEL[route.section]} · ${s.host.name} · UnaMentis Server`
      : 'UnaMentis Server';
  }, [route.section, s]);

  return (
    <div className="app">
      <a
        href="#main"
        className="skip"
        onClick={(e) => {
          e.preventDefault();
          headingRef.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="topbar">
        <div>
          <h1 data-testid="host-name">{s ? s.host.name : 'UnaMentis Server'}</h1>
          {s && <Glance snapshot={s} brief={route.section === 'services'} />}
        </div>
        <span
          className={`conn ${server.connected ? 'ok' : 'down'}`}
          role="status"
          aria-live="polite"
        >
          {server.connected ? 'Connected' : 'Connecting…'}
        </span>
      </header>
      {!server.hasToken && server.client && <TokenForm onToken={server.setToken} />}
      {s && server.client && (
        <Notices
          notices={route.section === 'services' ? withoutServiceErrors(s) : s.notices}
          client={server.client}
          canAct={server.hasToken}
        />
      )}
      <div className="layout">
        <nav aria-label="Sections" className="sidenav">
          <ul>
            {SECTIONS.map((sec) => (
              <li key={sec}>
                <a
                  href={`#${sec}`}
                  aria-current={route.section === sec ? 'page' : undefined}
                  data-testid={`nav-${sec}`}
                >
                  {SECTION_LABEL[sec]}
                  {sec === 'services' && s && <ServiceCount snapshot={s} />}
                  {sec === 'setup' && setupNeeded && <span className="pill bad">to do</span>}
                  {sec === 'models' && pull.state.model && !pull.state.done && (
                    <span className="pill">pulling</span>
                  )}
                  {sec === 'pairing' && s?.pairing?.pending?.direction === 'incoming' && (
                    <span className="pill bad">code</span>
                  )}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main">
          <h2 ref={headingRef} tabIndex={-1} data-testid="section-title">
            {SECTION_LABEL[route.section]}
          </h2>
          {s && server.client ? (
            <Section route={route} navigate={navigate} server={server} pull={pull} />
          ) : (
            <p className="muted">Loading…</p>
          )}
        </main>
      </div>
    </div>
  );
}

function Section({
  route,
  navigate,
  server,
  pull,
}: {
  route: Route;
  navigate: (r: Route) => void;
  server: ServerState;
  pull: ReturnType<typeof usePull>;
}) {
  const s = server.snapshot!;
  const client = server.client!;
  const canAct = server.hasToken;
  switch (route.section) {
    case 'setup':
      return <FirstRunPanel client={client} canAct={canAct} navigate={navigate} snapshot={s} />;
    case 'services':
      return <ServicesPanel server={server} route={route} navigate={navigate} />;
    case 'gpu':
      return <GpuPanel snapshot={s} history={server.gpuHistory} client={client} canAct={canAct} />;
    case 'hibernation':
      return (
        <HibernationPanel
          snapshot={s}
          client={client}
          canAct={canAct}
          receivedAt={server.stamps.hibernation || server.receivedAt}
        />
      );
    case 'pairing':
      return (
        <PairingPanel
          snapshot={s}
          client={client}
          canAct={canAct}
          receivedAt={server.stamps.pairing || server.receivedAt}
        />
      );
    case 'iphone':
      return <SetupPanel snapshot={s} />;
    case 'models':
      return <ModelsPanel snapshot={s} client={client} pull={pull} canAct={canAct} />;
    case 'latency':
      return <LatencyPanel client={client} canAct={canAct} />;
    case 'settings':
      return <SettingsPanel client={client} snapshot={s} canAct={canAct} />;
  }
}

function ServiceCount({ snapshot: s }: { snapshot: Snapshot }) {
  const bad = s.services.filter(
    (x) => x.enabled && (x.status === 'failed' || x.status === 'unhealthy'),
  ).length;
  if (bad) return <span className="pill bad">{bad} failing</span>;
  return null;
}

/** Role, serving, state and memory in one line: the tray's hints, spelled out. */
function Glance({ snapshot: s, brief = false }: { snapshot: Snapshot; brief?: boolean }) {
  const used = s.gpu.gpus.reduce((a, g) => a + (g.vramUsedMB ?? 0), 0);
  const total = s.gpu.gpus.reduce((a, g) => a + g.vramTotalMB, 0);
  const running = s.services.filter((x) => ANSWERING_STATUSES.has(x.status)).length;
  const enabled = s.services.filter((x) => x.enabled).length;
  return (
    <p className="hostline">
      <span>{s.host.role === 'primary' ? 'Primary' : 'Fallback'}</span>
      <span
        data-testid="serving"
        className={s.host.serving ? (s.host.cannotServe ? 'bad-text' : 'ok-text') : ''}
      >
        {servingText(s, brief)}
      </span>
      <span data-testid="hibernation-state">
        <span className={`state-dot state-${s.hibernation.state}`} aria-hidden="true" />{' '}
        {STATE_LABEL[s.hibernation.state]}
      </span>
      <span>{enabled === 0 ? 'no services enabled' : `${running} of ${enabled} services up`}</span>
      {total > 0 && (
        <span>
          {s.gpu.gpus.some((g) => g.unified) ? 'Memory' : 'VRAM'} {formatMB(used)} /{' '}
          {formatMB(total)}
        </span>
      )}
      {s.host.sharedName && (
        <a href="#iphone" data-testid="setup-link">
          In the app: {s.host.sharedName.name}
        </a>
      )}
    </p>
  );
}

/**
 * Only a host that can serve says so: a host alone with nothing up says it cannot, and why. `brief`:
 * on the Services page, whose rows show each service's error, the why is not repeated.
 */
export function servingText(s: Snapshot, brief = false): string {
  if (!s.host.serving) return 'Standing by';
  if (s.host.cannotServe)
    return brief
      ? 'Cannot serve the iPhone: see the services below'
      : `Cannot serve the iPhone: ${s.host.cannotServe}`;
  return 'Serving the iPhone';
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
        Read-only view. To control this server, paste its access token (headless: the{' '}
        <code>token</code> file in the data folder).
      </label>
      <input
        id="token"
        type="password"
        autoComplete="off"
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
      <button type="submit">Unlock</button>
    </form>
  );
}
