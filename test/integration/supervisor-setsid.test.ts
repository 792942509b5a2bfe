// Issue #20, finding 8: helpers that leave the process group with setsid after their parent exited
// leaked, 5 per crash of a crash loop. The supervisor now remembers every process it saw in a
// service's tree and stops those left when the service exits.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtures, makeHarness, type Harness } from './supervisor-helpers.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

/** Pids of live processes whose command line is `sleep MARKER`. */
function helpers(marker: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (
        fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim() ===
        `sleep ${marker}`
      )
        out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

describe.skipIf(process.platform !== 'linux')('setsid grandchildren', () => {
  it('are stopped when the service that started them crashes, crash after crash', async () => {
    const marker = `${300 + Math.floor(Math.random() * 1000)}.${process.pid}`;
    h = makeHarness({
      services: {
        helper: {
          name: 'Helper',
          enabled: true,
          command: process.execPath,
          args: [path.join(fixtures, 'setsid-helpers.mjs'), marker, '5'],
        },
      },
      supervisor: { crashLoopCount: 50 },
    });
    try {
      await h.sup.start();
      await new Promise((r) => setTimeout(r, 2_500)); // a few crashes (each after 0.4 s, restarted after 50-400 ms)
      await h.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(helpers(marker)).toEqual([]);
    } finally {
      for (const pid of helpers(marker)) process.kill(pid, 'SIGKILL');
    }
  });
});
