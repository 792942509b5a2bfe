// Issue #20, finding 8: kill -9 during settings writes left temp copies of the settings (token and
// pair keys included) and empty settings.json.bak files. A writer process is killed mid-write again
// and again; every next open cleans up, and the backup is never empty.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SettingsStore } from '../../main/core/settings/store.js';
import { repoRoot } from '../helpers/headless.js';

const tsx = path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const writer = path.join(repoRoot, 'test', 'fixtures', 'settings-writer.ts');

async function killMidWrite(dataDir: string, afterMs: number): Promise<void> {
  const child = spawn(process.execPath, [tsx, writer, dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`writer exited ${code}`)));
  });
  await new Promise((r) => setTimeout(r, afterMs));
  // tsx runs the script in a child of its own: kill the whole group of processes it made.
  const exited = new Promise((r) => child.once('exit', r));
  for (const pid of fs
    .readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)) {
    process.kill(Number(pid), 'SIGKILL');
  }
  child.kill('SIGKILL');
  await exited;
}

describe('kill -9 during settings writes', () => {
  it('leaves nothing behind once the next run opens the folder; the backup is never empty', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-kill-'));
    try {
      const leftovers = () => fs.readdirSync(dataDir).filter((n) => /tmp/.test(n));
      let seen = 0;
      for (let i = 0; i < 8; i++) {
        await killMidWrite(dataDir, 150 + ((i * 37) % 200));
        seen += leftovers().length;
        const { store, problems } = SettingsStore.open({
          dataDir,
          facts: { platform: 'linux', hostname: 'check' },
        });
        expect(problems).toEqual([]);
        expect(store.get().displayName).toMatch(/^writer \d+/);
        expect(leftovers()).toEqual([]);
        const bak = path.join(dataDir, 'settings.json.bak');
        if (fs.existsSync(bak))
          expect(JSON.parse(fs.readFileSync(bak, 'utf8'))).toMatchObject({
            hostId: store.get().hostId,
          });
      }
      console.log(`temp files found after the kills, before the next open: ${seen}`);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
