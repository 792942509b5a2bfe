// `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) and prints a table.
// Each file exports `bench(): Promise<BenchRow[]>`.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './types.js';

// Benchmarks run on this machine's network: mDNS stays on loopback unless a bench says otherwise.
process.env.UNAMENTIS_MDNS_INTERFACES ??= 'lo';
const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const rows: (BenchRow & { suite: string })[] = [];
for (const f of files) {
  const suite = f.replace(/\.bench\.ts$/, '');
  process.stderr.write(`running ${suite}…\n`);
  try {
    const mod = (await import(pathToFileURL(path.join(here, f)).href)) as { bench: () => Promise<BenchRow[]> };
    for (const r of await mod.bench()) rows.push({ suite, ...r });
  } catch (err) {
    rows.push({ suite, name: 'FAILED', value: NaN, unit: '', note: (err as Error).message });
  }
}

const fmt = (n: number) => (Number.isFinite(n) ? (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2)) : 'n/a');
const table = rows.map((r) => ({
  suite: r.suite,
  measure: r.name,
  value: `${fmt(r.value)} ${r.unit}`.trim(),
  goal: r.goal ?? '',
  result: r.pass === undefined ? '' : r.pass ? 'pass' : 'MISS',
  note: r.note ?? '',
}));
const cols = ['suite', 'measure', 'value', 'goal', 'result', 'note'] as const;
const widths = cols.map((c) => Math.max(c.length, ...table.map((t) => t[c].length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
console.log(line([...cols]));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const t of table) console.log(line(cols.map((c) => t[c])));
fs.mkdirSync(path.join(here, '..', 'bench-output'), { recursive: true });
fs.writeFileSync(path.join(here, '..', 'bench-output', 'latest.json'), JSON.stringify(rows, null, 2));
