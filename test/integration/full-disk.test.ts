// Issue #20, finding 8: a full disk prevented start (the token file write threw) and one failed write
// turned a service's file log off for the rest of the run. A 1 MiB tmpfs, filled up; needs root
// (mount), skipped with the reason otherwise.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RotatingFile } from '../../main/core/supervisor/logs.js';
import { getJson, startHeadless } from '../helpers/headless.js';

const root = process.getuid?.() === 0;
let mnt = '';

beforeAll(() => {
  if (!root) return;
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'full-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
});
afterAll(() => {
  if (!mnt) return;
  spawnSync('umount', ['-l', mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
});

const fill = () =>
  spawnSync('dd', ['if=/dev/zero', `of=${path.join(mnt, 'fill')}`, 'bs=4k', 'count=1000'], {
    stdio: 'ignore',
  });
const unfill = () => fs.rmSync(path.join(mnt, 'fill'), { force: true });

describe.skipIf(!root)('a full disk', () => {
  it('does not keep the server from starting', async () => {
    // It ran before (settings and token written), then the disk filled up, then it restarts.
    const dataDir = path.join(mnt, 'data');
    await (await startHeadless({ dataDir, timeoutMs: 30_000 })).stop();
    fill();
    try {
      const h = await startHeadless({ dataDir, timeoutMs: 30_000 });
      try {
        const health = await getJson(`${h.url}health`);
        expect(health.status).toBe(200);
        const status = (await getJson(`${h.url}api/status`)).body as {
          notices: { code: string }[];
        };
        expect(status.notices.map((n) => n.code)).toContain('token_file');
      } finally {
        await h.stop();
      }
    } finally {
      unfill();
    }
  });

  it('turns a file log off only until writing works again, and says how much is missing', async () => {
    const file = path.join(mnt, 'logs', 'svc.log');
    const log = new RotatingFile(file, { maxBytes: 1 << 20, keep: 1, retryMs: 100 });
    log.append('before');
    log.flush();
    fill();
    log.append('x'.repeat(256 * 1024)); // does not fit
    log.flush();
    log.append('dropped while failing');
    unfill();
    await new Promise((r) => setTimeout(r, 150));
    log.append('after');
    log.flush();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('before');
    expect(lines.at(-2)).toMatch(/^… 2 lines not written/);
    expect(lines.at(-1)).toBe('after');
  });
});

if (!root) console.log('full-disk tests skipped: mounting a tmpfs needs root');
