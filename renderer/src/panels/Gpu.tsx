// GPU: a gauge per GPU, VRAM stacked by model and by service, the last 10 minutes, the fit advice.

import type { GpuInfo, Snapshot } from '../../../main/core/contract.js';
import { Gauge, StackedBar, TimeChart, type Series } from '../components/Charts.js';
import type { ApiClient } from '../client.js';
import { formatMB, gpuStaleness } from '../format.js';
import { useEffect, useRef } from 'react';
import { useAction, useNow } from '../hooks.js';
import { GPU_WINDOW_MS, type GpuSample } from '../useServer.js';

export function GpuPanel({
  snapshot: s,
  history,
  client,
  canAct,
}: {
  snapshot: Snapshot;
  history: GpuSample[];
  client?: ApiClient;
  canAct?: boolean;
}) {
  const now = useNow(5000);
  const [readNow, readState] = useAction(() => client!.gpuSample());
  const stale = gpuStaleness(s.gpu, now);
  // Cold and dormant read the GPU only on request: opening this panel is one.
  const asked = useRef(false);
  useEffect(() => {
    if (asked.current || !client || !canAct || !s.gpu.onDemand || !stale) return;
    asked.current = true;
    void readNow();
  }, [client, canAct, s.gpu.onDemand, stale, readNow]);
  const gpus = s.gpu.gpus;
  const total = gpus.reduce((a, g) => a + g.vramTotalMB, 0);
  const unified = gpus.some((g) => g.unified);
  const memWord = unified ? 'Memory' : 'VRAM';
  const series: Series[] = gpus.map((g, i) => ({
    key: String(i),
    label: gpus.length > 1 ? `GPU ${g.index ?? i}` : g.name,
    points: history.filter((h) => h.used[i] !== undefined).map((h) => ({ t: h.t, v: h.used[i]! })),
  }));
  const serviceParts = servicesBarParts(s);
  const advice = s.gpu.advice;
  return (
    <>
      {s.gpu.error && (
        <p className="callout warning" role="status">
          GPU {s.gpu.error.startsWith('unavailable') ? s.gpu.error : `unavailable: ${s.gpu.error}`}.
          Everything else keeps working.
        </p>
      )}
      {stale && (
        <p className="callout" role="status" data-testid="gpu-stale">
          {stale}{' '}
          {client && (
            <button
              type="button"
              disabled={!canAct || readState.busy}
              onClick={() => void readNow()}
            >
              Read now
            </button>
          )}
          {readState.error && <span className="error"> {readState.error}</span>}
        </p>
      )}
      {gpus.length === 0 && !s.gpu.error && (
        <p className="empty">
          No GPU found yet{s.gpu.sampledAt ? '' : ' (the first sample has not arrived)'}.
        </p>
      )}
      <div className="cards">
        {gpus.map((g, i) => (
          <GpuCard key={i} gpu={g} />
        ))}
      </div>
      {gpus.length > 0 && (
        <>
          <section className="card" aria-labelledby="gpu-use-h">
            <h3 id="gpu-use-h">
              Where the {unified ? 'memory' : 'VRAM'} goes
              {unified && <span className="tag">unified</span>}
            </h3>
            <StackedBar
              testId="bar-models"
              title="By model"
              total={total}
              parts={s.gpu.models.map((m) => ({
                key: `${m.service}/${m.name}`,
                label: m.name,
                value: m.vramMB,
                ...(m.spilled || (m.cpuMB ?? 0) > 0
                  ? { flag: `+${formatMB(m.cpuMB ?? 0)} on CPU: slow` }
                  : {}),
              }))}
            />
            <StackedBar
              testId="bar-services"
              title="By service"
              total={total}
              parts={serviceParts}
            />
          </section>
          <section className="card" aria-labelledby="gpu-hist-h">
            <h3 id="gpu-hist-h">{memWord} used, last 10 minutes</h3>
            <TimeChart
              label={`${memWord} used over the last 10 minutes`}
              series={series}
              windowMs={GPU_WINDOW_MS}
              end={Math.max(now, history.at(-1)?.t ?? 0)}
              yMax={total / Math.max(1, gpus.length)}
            />
          </section>
        </>
      )}
      <section className="card" aria-labelledby="fit-h" data-testid="fit-advice">
        <h3 id="fit-h">Does the configured stack fit?</h3>
        {advice ? (
          <>
            <p className={`advice ${advice.level}`}>
              <span className={`badge advice-${advice.level}`}>{ADVICE_LABEL[advice.level]}</span>{' '}
              {advice.message}
            </p>
            {advice.neededMB !== undefined && advice.availableMB !== undefined && (
              <p className="muted small">
                Needs {formatMB(advice.neededMB)} of {formatMB(advice.availableMB)} available.
              </p>
            )}
            {advice.warnings && advice.warnings.length > 0 && (
              <ul className="warnings">
                {advice.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            )}
          </>
        ) : (
          <p className="muted">
            No advice yet: it appears once the GPU and the installed models are known.
          </p>
        )}
      </section>
    </>
  );
}

const ADVICE_LABEL = {
  ok: 'Fits',
  tight: 'Tight',
  'too-big': 'Too big',
  unknown: 'Unknown',
} as const;

function GpuCard({ gpu }: { gpu: GpuInfo }) {
  return (
    <article className="card gpu-card" data-testid="gpu-card" aria-label={gpu.name}>
      <h3>
        {gpu.name} {gpu.unified && <span className="tag">unified memory</span>}
      </h3>
      <Gauge
        used={gpu.vramUsedMB}
        total={gpu.vramTotalMB}
        label={`${gpu.unified ? 'Memory' : 'VRAM'} of ${gpu.name}`}
      />
      <dl className="facts">
        <dt>Vendor</dt>
        <dd>{gpu.vendor}</dd>
        {gpu.utilizationPct != null && (
          <>
            <dt>Load</dt>
            <dd>{Math.round(gpu.utilizationPct)} %</dd>
          </>
        )}
        {gpu.temperatureC != null && (
          <>
            <dt>Temp.</dt>
            <dd>{Math.round(gpu.temperatureC)} °C</dd>
          </>
        )}
        {gpu.powerW != null && (
          <>
            <dt>Power</dt>
            <dd>{Math.round(gpu.powerW)} W</dd>
          </>
        )}
      </dl>
    </article>
  );
}

function serviceName(s: Snapshot, id: string): string {
  return s.services.find((x) => x.id === id)?.name ?? id;
}

/**
 * The by-service bar: the core's one split (gpu/usage.ts splitVram), so it agrees with the fit
 * advice. "Other programs" is what the GPU holds beyond ours; where one of ours has no figure
 * (VibeVoice on Windows, whose driver reports no per-process memory) the rest is "not attributed".
 */
export function servicesBarParts(s: Snapshot): { key: string; label: string; value: number }[] {
  // Per-pid attribution when nvidia-smi gives it; otherwise the models say which service holds what.
  const byService = s.gpu.services?.length ? s.gpu.services : aggregateByService(s);
  const used = s.gpu.gpus.reduce((a, g) => a + (g.vramUsedMB ?? 0), 0);
  const ours = byService.reduce((a, x) => a + x.vramMB, 0);
  // Never more than what is left, so the bar cannot add up past what the GPU reports in use.
  const rest = Math.max(0, used - ours);
  const parts = byService
    .filter((x) => x.vramMB > 0)
    .map((x) => ({ key: x.service, label: serviceName(s, x.service), value: x.vramMB }));
  const unmeasured = (s.gpu.services ?? [])
    .filter((x) => x.unmeasured)
    .map((x) => serviceName(s, x.service));
  if (s.gpu.otherMB != null) {
    const other = Math.min(s.gpu.otherMB, rest);
    // What the GPU holds for programs we do not supervise (games, browsers, …).
    if (other > 0) parts.push({ key: '(other)', label: 'Other programs', value: other });
  } else if (unmeasured.length && rest > 0) {
    parts.push({
      key: '(unattributed)',
      label: `${unmeasured.join(', ')} and other programs (not measured per program)`,
      value: rest,
    });
  }
  return parts;
}

/** Without per-pid attribution, models still tell us which service holds what. */
function aggregateByService(s: Snapshot): { service: string; vramMB: number }[] {
  const m = new Map<string, number>();
  for (const model of s.gpu.models)
    m.set(model.service, (m.get(model.service) ?? 0) + model.vramMB);
  return [...m].map(([service, vramMB]) => ({ service, vramMB }));
}
