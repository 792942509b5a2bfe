import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatDetails, formatTable, type SuiteRow } from '../../bench/table.js';
import { MARKER, markedPids, sweep } from '../../bench/leftovers.js';

const rows: SuiteRow[] = [
  {
    suite: 'gpu',
    name: 'whole core, steady, GPU sampled every 2 s, 3 fake services supervised (14 samples in 30 s)',
    value: 0.4213,
    unit: '% of a core',
    goal: '≤ 0.5 %',
    pass: true,
    note: 'the core process and the children it reaped; '.repeat(5),
  },
  {
    suite: 'headless',
    name: 'installed command: start → /health 200 (median of 10)',
    value: 321.5,
    unit: 'ms',
    goal: '≤ 400 ms',
    pass: true,
  },
  { suite: 'mdns', name: 'FAILED', value: NaN, unit: '', note: 'x'.repeat(300) },
  {
    suite: 'supervisor',
    name: 'a-name-with-no-spaces-that-is-longer-than-the-measure-column-can-ever-hold-in-one-line',
    value: 1,
    unit: 'ms',
  },
];

describe('bench table', () => {
  it('fits 100 columns, wrapping long measure names and leaving notes to the details file', () => {
    const lines = formatTable(rows);
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(100);
    const text = lines.join('\n');
    expect(text).toContain('whole core, steady');
    expect(text).toContain('(14 samples in 30 s)');
    expect(text).toContain('n/a');
    expect(text).toContain('pass');
    expect(text).not.toContain('reaped');
    expect(formatDetails(rows, new Date(0))).toContain(
      'the core process and the children it reaped',
    );
  });
});

describe('bench leftovers', () => {
  it('finds processes that carry the run marker, even re-parented ones, and stops them', async () => {
    const id = `test-${process.pid}-${Date.now()}`;
    // sh starts a sleep in the background and exits: the sleep is re-parented, as a fake's was.
    const sh = spawn('sh', ['-c', 'sleep 30 & echo $!'], {
      env: { ...process.env, [MARKER]: id },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    sh.stdout!.on('data', (d) => (out += d));
    await new Promise((r) => sh.once('exit', r));
    const sleeper = Number(out.trim());
    expect(markedPids(id)).toContain(sleeper);
    const found = await sweep(id);
    expect(found.map((f) => f.pid)).toContain(sleeper);
    expect(found.find((f) => f.pid === sleeper)?.cmd).toBe('sleep 30');
    expect(markedPids(id)).toEqual([]);
  });
});
