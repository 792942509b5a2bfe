// The bench table for a terminal: at most `width` columns, the measure's name wrapped over lines;
// notes and min/max go to the details file (bench-output/latest.md), not the table.

import type { BenchRow } from './types.js';

export type SuiteRow = BenchRow & { suite: string };

export function formatValue(n: number): string {
  return Number.isFinite(n) ? (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2)) : 'n/a';
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    for (let w = word; w.length;) {
      const room = line ? width - line.length - 1 : width;
      if (w.length <= room) {
        line = line ? `${line} ${w}` : w;
        w = '';
      } else if (line) {
        out.push(line);
        line = '';
      } else {
        out.push(w.slice(0, width)); // a single word longer than the column
        w = w.slice(width);
      }
    }
  }
  if (line) out.push(line);
  return out.length ? out : [''];
}

export function formatTable(rows: SuiteRow[], width = 100): string[] {
  const cells = rows.map((r) => ({
    suite: r.suite,
    measure: r.name,
    value: `${formatValue(r.value)} ${r.unit}`.trim(),
    goal: r.goal ?? '',
    result: r.pass === undefined ? '' : r.pass ? 'pass' : 'MISS',
  }));
  const w = (k: keyof (typeof cells)[number], cap: number) =>
    Math.min(cap, Math.max(k.length, ...cells.map((c) => c[k].length)));
  const suiteW = w('suite', 12);
  const valueW = w('value', 16);
  const goalW = w('goal', 12);
  const resultW = w('result', 6);
  const measureW = Math.max(20, width - suiteW - valueW - goalW - resultW - 4 * 3);
  const fit = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s.padEnd(n));
  const line = (c: string[]) => c.join(' | ').trimEnd();
  const out = [
    line([
      fit('suite', suiteW),
      fit('measure', measureW),
      fit('value', valueW),
      fit('goal', goalW),
      fit('result', resultW),
    ]),
  ];
  out.push([suiteW, measureW, valueW, goalW, resultW].map((n) => '-'.repeat(n)).join('-|-'));
  for (const c of cells) {
    const parts = wrap(c.measure, measureW);
    parts.forEach((p, i) =>
      out.push(
        i === 0
          ? line([
              fit(c.suite, suiteW),
              fit(p, measureW),
              fit(c.value, valueW),
              fit(c.goal, goalW),
              fit(c.result, resultW),
            ])
          : `${' '.repeat(suiteW)} | ${p}`,
      ),
    );
  }
  return out;
}

/** The details file: every row with its note, as Markdown. */
export function formatDetails(rows: SuiteRow[], when: Date): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const lines = [
    `# npm run bench, ${when.toISOString()}`,
    '',
    '| suite | measure | value | goal | result | note |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const result = r.pass === undefined ? '' : r.pass ? 'pass' : 'MISS';
    lines.push(
      `| ${esc(r.suite)} | ${esc(r.name)} | ${formatValue(r.value)} ${esc(r.unit)} | ${esc(r.goal ?? '')} | ${result} | ${esc(r.note ?? '')} |`,
    );
  }
  return lines.join('\n') + '\n';
}
