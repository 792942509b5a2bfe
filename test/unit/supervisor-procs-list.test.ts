// listProcesses on Linux: callers in the same tick share one scan of /proc; a later tick scans again
// (and sees a process started in between). Each caller gets its own array.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { listProcesses } from '../../main/core/util/child/procs.js';

describe.runIf(process.platform === 'linux')(
  'listProcesses (Linux /proc; skipped elsewhere: other systems ask ps/PowerShell)',
  () => {
    it('one scan for callers in the same tick, a fresh one after', async () => {
      const spy = vi.spyOn(fs, 'readdirSync');
      try {
        const [a, b, c] = await Promise.all([listProcesses(), listProcesses(), listProcesses()]);
        expect(spy.mock.calls.filter(([p]) => p === '/proc')).toHaveLength(1);
        expect(a.some((p) => p.pid === process.pid)).toBe(true);
        expect(b).toEqual(a);
        expect(c).not.toBe(a);

        const child = spawn('sleep', ['5'], { stdio: 'ignore' });
        try {
          await new Promise((r) => child.once('spawn', r));
          const later = await listProcesses();
          expect(spy.mock.calls.filter(([p]) => p === '/proc')).toHaveLength(2);
          expect(later.some((p) => p.pid === child.pid)).toBe(true);
        } finally {
          child.kill('SIGKILL');
        }
      } finally {
        spy.mockRestore();
      }
    });
  },
);
