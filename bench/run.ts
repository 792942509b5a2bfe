// `npm run bench`: runs every bench/*.bench.ts (or those named on the command line), prints a table
// that fits 100 columns, writes the details (notes, min/max) to bench-output/latest.md and .json,
// stops whatever a suite left running (and says so), and exits.
// Each file exports `bench(): Promise<BenchRow[]>`.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './types.js';
import { MARKER, sweep } from './leftovers.js';
import { formatDetails, formatTable, type SuiteRow } from './table.js';

// Benchmarks run on this machine's network: mDNS stays on loopback unless a bench says otherwise.
process.env.UNAMENTIS_MDNS_INTERFACES ??= 'lo';
const runId = randomUUID();
process.env[MARKER] = runId; // inherited by everything the suites start (bench/leftovers.ts)

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (only.length && files.length === 0) {
  console.error(
    `No bench suite matches ${only.join(', ')}; there are: ${fs
      .readdirSync(here)
      .filter((f) => f.endsWith('.bench.ts'))
      .map((f) => f.replace(/\.bench\.ts$/, ''))
      .join(', ')}`,
  );
  process.exit(64);
}

// Timings scale with the machine's load: say it beside the figures.
const load = () => `load ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`;
const loadAtStart = load();
const rows: SuiteRow[] = [];
for (const f of files) {
  const suite = f.replace(/\.bench\.ts$/, '');
  const t0 = Date.now();
  process.stderr.write(`running ${suite}…`);
  try {
    const mod = (await import(pathToFileURL(path.join(here, f)).href)) as {
      bench: () => Promise<BenchRow[]>;
    };
    for (const r of await mod.bench()) rows.push({ suite, ...r });
  } catch (err) {
    rows.push({ suite, name: 'FAILED', value: NaN, unit: '', note: (err as Error).message });
  }
  const left = await sweep(runId, 2000, 1500);
  if (left.length) {
    rows.push({
      suite,
      name: `left ${left.length} process(es) running (stopped)`,
      value: left.length,
      unit: '',
      pass: false,
      note: left
        .map((l) => `${l.pid} ${l.cmd}`)
        .join('; ')
        .slice(0, 2000),
    });
  }
  process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}

const outDir = path.join(here, '..', 'bench-output');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(rows, null, 2));
fs.writeFileSync(
  path.join(outDir, 'latest.md'),
  `${formatDetails(rows, new Date())}\nMachine: ${loadAtStart} at the start, ${load()} at the end.\n`,
);
for (const l of formatTable(rows)) console.log(l);
console.log(`Machine: ${loadAtStart} at the start, ${load()} at the end (timings grow with load).`);
console.log(
  `Details (notes, min/max): ${path.relative(process.cwd(), path.join(outDir, 'latest.md')) || 'bench-output/latest.md'}`,
);
// A suite may leave a timer or socket open; the figures are out, so end here.
process.exit(0);
