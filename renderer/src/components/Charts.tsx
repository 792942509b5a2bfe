// The three SVG shapes the GPU panel draws. Each has a text equivalent for screen readers.

import { gaugeArc, linePlot, stackSegments, type Point } from '../charts.js';
import { formatClock, formatMB, percent } from '../format.js';

export function Gauge({
  used,
  total,
  label,
}: {
  used: number | null;
  total: number;
  label: string;
}) {
  const pct = used === null ? null : percent(used, total);
  const level = pct === null ? 'unknown' : pct >= 90 ? 'bad' : pct >= 75 ? 'warn' : 'ok';
  return (
    <figure className="gauge">
      <svg
        viewBox="0 0 120 70"
        role="img"
        aria-label={`${label}: ${used === null ? 'unknown' : `${formatMB(used)} of ${formatMB(total)} used (${Math.round(pct!)} %)`}`}
      >
        <path d={gaugeArc(1, 60, 62, 50)} className="gauge-track" />
        {pct !== null && pct > 0 && (
          <path d={gaugeArc(pct / 100, 60, 62, 50)} className={`gauge-fill ${level}`} />
        )}
        <text x="60" y="52" textAnchor="middle" className="gauge-pct">
          {pct === null ? '—' : `${Math.round(pct)}%`}
        </text>
        <text x="60" y="67" textAnchor="middle" className="gauge-sub">
          {used === null ? 'unknown' : `${formatMB(used)} / ${formatMB(total)}`}
        </text>
      </svg>
    </figure>
  );
}

const PALETTE = 6;

export function StackedBar({
  title,
  parts,
  total,
  testId,
}: {
  title: string;
  parts: { key: string; label: string; value: number; flag?: string }[];
  total: number;
  testId?: string;
}) {
  const segments = stackSegments(parts, total);
  const sum = parts.reduce((a, p) => a + Math.max(0, p.value), 0);
  return (
    <div className="stacked" data-testid={testId}>
      <div className="stacked-head">
        <span className="stacked-title">{title}</span>
        <span className="muted">
          {formatMB(sum)} of {formatMB(total)}
        </span>
      </div>
      <svg
        className="stacked-bar"
        viewBox="0 0 100 10"
        preserveAspectRatio="none"
        aria-hidden="true"
      >
        <rect x="0" y="0" width="100" height="10" className="bar-track" />
        {segments.map((s, i) => (
          <rect
            key={s.key}
            x={s.x}
            y="0"
            width={s.width}
            height="10"
            className={`seg seg-${i % PALETTE}`}
          >
            <title>{`${s.label}: ${formatMB(s.value)}`}</title>
          </rect>
        ))}
      </svg>
      {parts.length > 0 ? (
        <ul className="legend">
          {parts.map((p, i) => (
            <li key={p.key}>
              <span className={`swatch seg-${i % PALETTE}`} aria-hidden="true" />
              {p.label}: {formatMB(p.value)}
              {p.flag && <span className="flag warn"> {p.flag}</span>}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">Nothing loaded.</p>
      )}
    </div>
  );
}

export interface Series {
  key: string;
  label: string;
  points: Point[];
}

/** A line chart over a fixed time window ending now, with a y axis in MB. */
export function TimeChart({
  series,
  windowMs,
  end,
  yMax,
  label,
}: {
  series: Series[];
  windowMs: number;
  end: number;
  yMax?: number;
  label: string;
}) {
  const W = 600;
  const H = 140;
  const tStart = end - windowMs;
  const peak = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.v)));
  const plots = series.map((s) => ({
    s,
    plot: linePlot(s.points, {
      tStart,
      tEnd: end,
      width: W,
      height: H,
      yMax: yMax ?? peak,
      gapMs: 90_000,
    }),
  }));
  const axisMax = plots[0]?.plot.yMax ?? 1;
  const last = series.map((s) => s.points[s.points.length - 1]).filter(Boolean);
  const summary = last.length
    ? `${label}. Latest: ${series.map((s) => `${s.label} ${formatMB(s.points[s.points.length - 1]?.v ?? null)}`).join(', ')}.`
    : `${label}. No samples yet.`;
  return (
    <figure className="timechart">
      <svg viewBox={`-64 -10 ${W + 72} ${H + 30}`} role="img" aria-label={summary}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1="0" x2={W} y1={H - f * H} y2={H - f * H} className="grid" />
            <text x="-6" y={H - f * H + 4} textAnchor="end" className="axis">
              {formatMB(axisMax * f)}
            </text>
          </g>
        ))}
        {[10, 5, 0].map((min) => (
          <text
            key={min}
            x={W - (min * 60_000 * W) / windowMs}
            y={H + 16}
            textAnchor={min === 0 ? 'end' : 'middle'}
            className="axis"
          >
            {min === 0 ? formatClock(end) : `−${min} min`}
          </text>
        ))}
        {plots.map(({ s, plot }, i) => (
          <g key={s.key} className={`series series-${i % PALETTE}`}>
            {plot.area && <path d={plot.area} className="area" />}
            {plot.line && <path d={plot.line} className="line" />}
          </g>
        ))}
        {plots.every((p) => !p.plot.line) && (
          <text x={W / 2} y={H / 2} textAnchor="middle" className="axis">
            Collecting samples…
          </text>
        )}
      </svg>
      {series.length > 1 && (
        <figcaption className="legend">
          {series.map((s, i) => (
            <span key={s.key}>
              <span className={`swatch seg-${i % PALETTE}`} aria-hidden="true" /> {s.label}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}
