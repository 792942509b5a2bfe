// The app itself is killed (SIGKILL): its children live on, holding ports and VRAM. The next start
// finds them through the PID files and stops them, but never a process that merely reused a pid.

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startHeadless, type Headless } from '../helpers/headless.js';
import { listProcesses, processStartTime } from '../../main/core/util/child/procs.js';
import type { PidRecord } from '../../main/core/supervisor/pidfile.js';
import {
  alive,
  fakeOllama,
  fakeState,
  freePort,
  makeHarness,
  tempDir,
  until,
  type Harness,
} from './supervisor-helpers.js';

const posix = process.platform !== 'win32';
let h: Harness | null = null;
const servers: Headless[] = [];
const stray: number[] = [];
afterEach(async () => {
  await h?.close();
  h = null;
  for (const s of servers.splice(0)) await s.stop(5000);
  for (const pid of stray.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

function settingsFor(port: number) {
  return {
    serveOnLan: false,
    discovery: { advertise: false, interfaces: [] },
    models: { preload: ['mistral:7b'] },
    services: {
      ollama: fakeOllama(port),
      vibevoice: { enabled: false },
      piper: { enabled: false },
      whisper: { enabled: false },
    },
  };
}

describe('orphans after the app was killed', () => {
  it('the next start reaps the killed app’s service and runner, then starts its own', async () => {
    if (!posix) {
      console.log('skipped: SIGKILL of the app is simulated on POSIX only');
      return;
    }
    const port = await freePort();
    const dataDir = tempDir();
    const first = await startHeadless({ dataDir, settings: settingsFor(port) });
    servers.push(first);
    const st = await until(async () => {
      const s = await fakeState(port);
      return s.runners.length === 1 ? s : null;
    }, 20_000);
    const pidFile = JSON.parse(
      fs.readFileSync(path.join(dataDir, 'run', 'ollama.pid'), 'utf8'),
    ) as PidRecord;
    expect(pidFile).toMatchObject({ service: 'ollama', pid: st.pid, pgid: st.pid });
    expect(pidFile.startTime).toBe(await processStartTime(st.pid));

    // SIGKILL the app itself (tsx runs it as a child of its CLI): no chance to clean up.
    const procs = await listProcesses();
    const app = procs.find((p) => p.pid === st.pid)!.ppid;
    process.kill(app, 'SIGKILL');
    await until(() => first.child.exitCode !== null || first.child.signalCode !== null, 10_000);
    const orphans = [st.pid, st.runners[0]!];
    stray.push(...orphans);
    expect(await alive(orphans)).toEqual(orphans); // still there, holding the port

    const second = await startHeadless({ dataDir });
    servers.push(second);
    await until(async () => (await alive(orphans)).length === 0, 10_000);
    // Its own Ollama comes up on the freed port.
    const next = await until(async () => {
      const s = await fakeState(port).catch(() => null);
      return s && s.pid !== st.pid ? s : null;
    }, 20_000);
    expect(orphans).not.toContain(next.pid);
    const res = await fetch(`${second.url}api/services/ollama/logs?lines=200`, {
      headers: { authorization: `Bearer ${second.token}` },
    });
    const { lines } = (await res.json()) as { lines: { text: string }[] };
    expect(lines.some((l) => l.text.includes('stopping orphans left by an earlier run'))).toBe(
      true,
    );
  });

  it('never stops an unrelated process that holds a reused pid', async () => {
    const unrelated = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
      stdio: 'ignore',
    });
    stray.push(unrelated.pid!);
    await until(() => processStartTime(unrelated.pid!));
    const dataDir = tempDir();
    fs.mkdirSync(path.join(dataDir, 'run'));
    const rec: PidRecord = {
      v: 1,
      service: 'ollama',
      pid: unrelated.pid!,
      pgid: unrelated.pid!,
      startTime: 'a-different-start-time',
      command: '/usr/bin/ollama',
      startedAt: new Date().toISOString(),
      appPid: 999_999, // long gone
      appStartTime: 'x',
    };
    fs.writeFileSync(path.join(dataDir, 'run', 'ollama.pid'), JSON.stringify(rec));
    h = makeHarness({ services: {}, dataDir, options: { autoStart: false } });
    await h.sup.start();
    expect(await alive([unrelated.pid!])).toEqual([unrelated.pid]);
    expect(fs.existsSync(path.join(dataDir, 'run', 'ollama.pid'))).toBe(false);
    expect(
      h.sup
        .logs('ollama', 10)
        .some((l) => l.text.includes('not stopping it') && l.text.includes('another process')),
    ).toBe(true);
  });

  it('stops a recorded process whose start time matches', async () => {
    const victim = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
      stdio: 'ignore',
      detached: posix,
    });
    stray.push(victim.pid!);
    const startTime = await until(() => processStartTime(victim.pid!));
    const dataDir = tempDir();
    h = makeHarness({ services: {}, dataDir, options: { autoStart: false, reap: false } });
    fs.mkdirSync(path.join(dataDir, 'run'));
    const rec: PidRecord = {
      v: 1,
      service: 'piper',
      pid: victim.pid!,
      pgid: posix ? victim.pid! : null,
      startTime,
      command: process.execPath,
      startedAt: new Date().toISOString(),
      appPid: 999_999,
      appStartTime: 'x',
    };
    fs.writeFileSync(path.join(dataDir, 'run', 'piper.pid'), JSON.stringify(rec));
    const report = await h.sup.reapOrphans();
    expect(report).toEqual([
      expect.objectContaining({ service: 'piper', action: 'reap', pids: [victim.pid] }),
    ]);
    await until(() => victim.exitCode !== null || victim.signalCode !== null);
  });
});
