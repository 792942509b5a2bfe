// Issue #20, finding 7 (and the stale-lock item of 8): under umask 000 the data folder, logs/ and
// run/ were world-writable; another local user replaced settings.json and planted a PID file that
// made the server SIGKILL an unrelated process at start; a stale server.lock naming any live pid
// blocked every start.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { PidFiles, type PidRecord } from '../../main/core/supervisor/pidfile.js';
import { RotatingFile } from '../../main/core/supervisor/logs.js';
import {
  DataDirLockedError,
  lockDataDir,
  processStartedAt,
} from '../../main/core/util/dir-lock.js';
import { nullLogger } from '../../main/core/util/logger.js';

const mode = (p: string) => fs.statSync(p).mode & 0o777;
const NOBODY = 65534;
let dir: string;
let umask: number;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-fs-'));
  umask = process.umask(0);
});
afterEach(() => {
  process.umask(umask);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('under umask 000', () => {
  it('the data folder, logs/ and run/ are created 0700, and files 0600', async () => {
    const dataDir = path.join(dir, 'data');
    let core: Core | null = null;
    try {
      core = createCore({
        dataDir,
        port: 0,
        bind: '127.0.0.1',
        logger: nullLogger,
        rendererDir: null,
        supervisor: { autoStart: false },
      });
      expect(mode(dataDir)).toBe(0o700);
      expect(mode(path.join(dataDir, 'settings.json')) & 0o022).toBe(0);
    } finally {
      await core?.stop('quit');
    }
    const log = new RotatingFile(path.join(dataDir, 'logs', 'ollama.log'), {
      maxBytes: 1 << 20,
      keep: 2,
    });
    log.append('hello');
    log.flush();
    expect(mode(path.join(dataDir, 'logs'))).toBe(0o700);
    expect(mode(path.join(dataDir, 'logs', 'ollama.log'))).toBe(0o600);
    new PidFiles(path.join(dataDir, 'run')).write(record(process.pid));
    expect(mode(path.join(dataDir, 'run'))).toBe(0o700);
    expect(mode(path.join(dataDir, 'run', 'ollama.pid'))).toBe(0o600);
  });

  it('an existing folder of ours that others may write loses that', async () => {
    const dataDir = path.join(dir, 'open');
    fs.mkdirSync(dataDir, { mode: 0o777 });
    const core = createCore({
      dataDir,
      port: 0,
      bind: '127.0.0.1',
      logger: nullLogger,
      rendererDir: null,
      supervisor: { autoStart: false },
    });
    await core.stop('quit');
    expect(mode(dataDir) & 0o022).toBe(0);
  });
});

describe('settings.json written by someone else', () => {
  it('is reported when it is another user’s or others may write it', async () => {
    const { SettingsStore } = await import('../../main/core/settings/store.js');
    const facts = { platform: 'linux' as const, hostname: 'h' };
    SettingsStore.open({ dataDir: dir, facts });
    expect(SettingsStore.open({ dataDir: dir, facts }).problems).toEqual([]);
    fs.chmodSync(path.join(dir, 'settings.json'), 0o666);
    expect(SettingsStore.open({ dataDir: dir, facts }).problems.join('\n')).toMatch(
      /writable by others.*programs it names run as you/,
    );
    fs.chmodSync(path.join(dir, 'settings.json'), 0o600);
    fs.chownSync(path.join(dir, 'settings.json'), NOBODY, NOBODY);
    expect(SettingsStore.open({ dataDir: dir, facts }).problems.join('\n')).toMatch(
      /belongs to uid 65534/,
    );
  });
});

function record(pid: number, service = 'ollama'): PidRecord {
  return {
    v: 1,
    service,
    pid,
    pgid: pid,
    startTime: '1',
    command: 'x',
    startedAt: new Date().toISOString(),
    appPid: 1,
    appStartTime: null,
  };
}

describe('PID files', () => {
  it('are trusted only when ours and writable by nobody else, in a folder of the same kind', () => {
    const run = path.join(dir, 'run');
    const files = new PidFiles(run);
    files.write(record(111, 'ollama'));
    files.write(record(222, 'piper'));
    files.write(record(333, 'whisper'));
    fs.chmodSync(files.file('piper'), 0o666); // planted through a world-writable file
    fs.chownSync(files.file('whisper'), NOBODY, NOBODY); // another user's
    expect(files.readAll().map((r) => r.pid)).toEqual([111]);
    expect(files.ignored).toHaveLength(2);
    expect(fs.existsSync(files.file('whisper'))).toBe(true); // not ours to delete
    fs.chmodSync(run, 0o777);
    expect(files.readAll()).toEqual([]);
    expect(files.ignored[0]).toContain('writable by others');
  });
});

describe('server.lock', () => {
  it('a live server of ours that started before the lock holds it; a reused pid, a non-server pid or a foreign lock file do not', async () => {
    const release = lockDataDir(dir, process.pid);
    const lockFile = path.join(dir, 'server.lock');
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(String(process.pid));
    expect(processStartedAt(process.pid)).toBeLessThanOrEqual(Date.now());
    expect(() => lockDataDir(dir, process.pid + 1)).toThrow(DataDirLockedError);
    release();

    // The pid is alive, but that process started after the lock was written: the owner died, the pid was reused.
    fs.writeFileSync(lockFile, String(process.pid), { mode: 0o600 });
    const anHourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(lockFile, anHourAgo, anHourAgo);
    lockDataDir(dir, process.pid + 1)();
    // A live process that is no server (issue #20: such a lock blocked every start).
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => sleeper.once('spawn', r));
      fs.writeFileSync(lockFile, String(sleeper.pid), { mode: 0o600 });
      lockDataDir(dir, process.pid)();
      // A lock naming our live server, but the file is someone else's.
      fs.writeFileSync(lockFile, String(process.pid), { mode: 0o600 });
      fs.chownSync(lockFile, NOBODY, NOBODY);
      lockDataDir(dir, process.pid + 1)();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
