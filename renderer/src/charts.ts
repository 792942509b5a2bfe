// Geometry for the dashboard's SVG charts (no chart library: three small shapes are all we draw).
// Pure, so the numbers can be tested without a browser.

export interface Segment {
  key: string;
  label: string;
  value: number;
  /** Left edge and width, in percent of the whole bar. */
  x: number;
  width: number;
}

/**
 * Lays parts side by side on a bar whose 100 % is `total` (e.g. the GPU's VRAM). Parts that
 * would overflow are clipped at the end, so a wrong total never draws outside the bar.
 */
export function stackSegments(
  parts: { key: string; label: string; value: number }[],
  total: number,
): Segment[] {
  const out: Segment[] = [];
  if (!(total > 0)) return out;
  let x = 0;
  for (const p of parts) {
    if (!(p.value > 0)) continue;
    const width = Math.min((p.value / total) * 100, 100 - x);
    if (width <= 0) break;
    out.push({ key: p.key, label: p.label, value: p.value, x, width });
    x += width;
  }
  return out;
}

export interface Point {
  t: number;
  v: number;
}

export interface LinePlot {
  /** SVG path `d` for the line (empty when there are fewer than two points). */
  line: string;
  /** The same line closed down to the baseline, for a filled area. */
  area: string;
  /** Y-axis maximum used (rounded up to a readable step). */
  yMax: number;
}

/**
 * Maps points in [tStart, tEnd] × [0, yMax] onto a width × height box (y grows downwards).
 * Points outside the time window are dropped; a gap longer than `gapMs` breaks the line.
 */
export function linePlot(
  points: Point[],
  opts: {
    tStart: number;
    tEnd: number;
    width: number;
    height: number;
    yMax?: number;
    gapMs?: number;
  },
): LinePlot {
  const { tStart, tEnd, width, height } = opts;
  const inWindow = points
    .filter((p) => p.t >= tStart && p.t <= tEnd && Number.isFinite(p.v))
    .sort((a, b) => a.t - b.t);
  const peak = inWindow.reduce((m, p) => Math.max(m, p.v), 0);
  const yMax = opts.yMax && opts.yMax > 0 ? opts.yMax : niceCeil(peak);
  const span = Math.max(1, tEnd - tStart);
  const x = (t: number) => round(((t - tStart) / span) * width);
  const y = (v: number) => round(height - (Math.min(Math.max(v, 0), yMax) / yMax) * height);
  let line = '';
  let area = '';
  let runStart: number | null = null;
  let prevT = -Infinity;
  let lastX = 0;
  for (const p of inWindow) {
    const broken = opts.gapMs !== undefined && p.t - prevT > opts.gapMs;
    if (runStart === null || broken) {
      if (runStart !== null) area += `L${lastX},${height}L${runStart},${height}Z`;
      line += `M${x(p.t)},${y(p.v)}`;
      runStart = x(p.t);
      area += `M${runStart},${height}L${runStart},${y(p.v)}`;
    } else {
      line += `L${x(p.t)},${y(p.v)}`;
      area += `L${x(p.t)},${y(p.v)}`;
    }
    lastX = x(p.t);
    prevT = p.t;
  }
  if (runStart !== null) area += `L${lastX},${height}L${runStart},${height}Z`;
  if (inWindow.length < 2) return { line: '', area: '', yMax };
  return { line, area, yMax };
}

/** 1, 2, 5 × 10^n at or above v (a readable axis maximum). */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const exp = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

/** Arc path for a semicircle gauge filled to `fraction` (0–1): centre (cx, cy), radius r. */
export function gaugeArc(fraction: number, cx: number, cy: number, r: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  if (f === 0) return '';
  const angle = Math.PI * (1 - f);
  const ex = round(cx + r * Math.cos(angle));
  const ey = round(cy - r * Math.sin(angle));
  return `M${cx - r},${cy}A${r},${r} 0 0 1 ${ex},${ey}`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export interface Band {
  state: string;
  /** Percent of the window. */
  x: number;
  width: number;
  from: number;
  to: number;
}

/**
 * The state timeline as bands over [now - windowMs, now]: each transition starts a band of its
 * `to` state; the band before the first transition in the window is the first one's `from`.
 */
export function stateBands(
  history: { at: string; from: string; to: string }[],
  current: string,
  now: number,
  windowMs: number,
  /** When the server started (ms): nothing is drawn before it (the window stays `windowMs` wide). */
  since?: number,
): Band[] {
  const events = history
    .map((h) => ({ t: Date.parse(h.at), from: h.from, to: h.to }))
    .filter((e) => Number.isFinite(e.t))
    .sort((a, b) => a.t - b.t);
  // The view's clock ticks once a second: a transition stamped by the server a moment "later"
  // still belongs on the timeline (dropping it would paint the whole window in the new state).
  const end = Math.max(now, events.at(-1)?.t ?? now);
  const start = end - windowMs;
  const before = events.filter((e) => e.t <= start).at(-1);
  const inside = events.filter((e) => e.t > start);
  let state = before ? before.to : (inside[0]?.from ?? current);
  let t =
    since !== undefined && Number.isFinite(since) ? Math.min(end, Math.max(start, since)) : start;
  const bands: Band[] = [];
  const push = (to: number) => {
    if (to <= t) return;
    bands.push({
      state,
      from: t,
      to,
      x: ((t - start) / windowMs) * 100,
      width: ((to - t) / windowMs) * 100,
    });
  };
  for (const e of inside) {
    push(e.t);
    state = e.to;
    t = Math.max(t, e.t);
  }
  push(end);
  return bands;
}
