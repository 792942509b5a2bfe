import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, defaultDataDir, exitCodeFor, parseCli } from '../../main/headless-cli.js';
import { createNotifier, watchdogIntervalMs } from '../../main/systemd.js';
import { DataDirLockedError } from '../../main/core/util/dir-lock.js';
import { createLogger, nullLogger } from '../../main/core/util/logger.js';

describe('parseCli', () => {
  it('takes options over the environment, and resolves the data dir', () => {
    const cli = parseCli(['--port', '0', '--data-dir', 'rel'], {
      UNAMENTIS_PORT: '9',
      UNAMENTIS_BIND: '127.0.0.1',
    });
    expect(cli).toEqual({
      kind: 'run',
      dataDir: path.resolve('rel'),
      port: 0,
      bind: '127.0.0.1',
      logLevel: 'info',
    });
    expect(parseCli([], { UNAMENTIS_PORT: '9', UNAMENTIS_LOG_LEVEL: 'debug' })).toMatchObject({
      port: 9,
      logLevel: 'debug',
    });
  });

  it('says what is expected for a bad port or an unknown option', () => {
    for (const p of ['x', '65536', '1.5', '0x10', ' ']) {
      const cli = parseCli(['--port', p], {});
      expect(cli.kind, p).toBe('usage');
      if (cli.kind === 'usage') expect(cli.message).toContain('whole number from 0 to 65535');
    }
    expect(parseCli(['--port', '-1'], {}).kind).toBe('usage');
    expect(parseCli(['--prot', '1'], {}).kind).toBe('usage');
    expect(parseCli(['stray'], {}).kind).toBe('usage');
    expect(parseCli(['-h'], {})).toEqual({ kind: 'help' });
  });

  it("defaults to systemd's $STATE_DIRECTORY, else the XDG config dir", () => {
    expect(
      defaultDataDir({ STATE_DIRECTORY: '/var/lib/unamentis-server:/var/lib/other' }, '/home/a'),
    ).toBe('/var/lib/unamentis-server');
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/x' }, '/home/a')).toBe('/x/unamentis-server');
    expect(defaultDataDir({}, '/home/a')).toBe('/home/a/.config/unamentis-server');
  });
});

describe('exitCodeFor', () => {
  const err = (code: string, syscall?: string) => Object.assign(new Error(code), { code, syscall });
  it('maps what went wrong to sysexits codes', () => {
    expect(exitCodeFor(new DataDirLockedError('locked'))).toBe(EXIT.tempFail);
    expect(exitCodeFor(err('EADDRINUSE'))).toBe(75);
    expect(exitCodeFor(err('EADDRNOTAVAIL'))).toBe(69);
    expect(exitCodeFor(err('EACCES', 'mkdir'))).toBe(73);
    expect(exitCodeFor(err('ENOTDIR', 'mkdir'))).toBe(73);
    expect(exitCodeFor(err('EACCES', 'listen'))).toBe(77);
    expect(exitCodeFor(new Error('bug'))).toBe(70);
  });
});

describe('systemd notify', () => {
  it('watchdog: half of WATCHDOG_USEC, only for our pid', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 5)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '5' }, 5)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '6' }, 5)).toBeNull();
    expect(watchdogIntervalMs({}, 5)).toBeNull();
  });

  it('removes NOTIFY_SOCKET and WATCHDOG_* from the environment the services inherit', async () => {
    const env: NodeJS.ProcessEnv = {
      NOTIFY_SOCKET: '/run/x',
      WATCHDOG_USEC: '1000',
      WATCHDOG_PID: '1',
      PATH: '/usr/bin',
      KEEP: '1',
    };
    const calls: { args: string[]; env: NodeJS.ProcessEnv }[] = [];
    const n = createNotifier({
      env,
      logger: nullLogger,
      run: async (args, e) => void calls.push({ args, env: e }),
    });
    expect(env).toEqual({ PATH: '/usr/bin', KEEP: '1' });
    await n.ready('serving on port 1');
    await n.stopping();
    expect(calls.map((c) => c.args)).toEqual([
      ['--ready', '--status=serving on port 1'],
      ['STOPPING=1'],
    ]);
    expect(calls[0]!.env.NOTIFY_SOCKET).toBe('/run/x');
  });

  it('is a no-op outside systemd, and warns once when systemd-notify is missing', async () => {
    const lines: string[] = [];
    const logger = createLogger({ sink: (l) => lines.push(l) });
    let ran = 0;
    const none = createNotifier({ env: {}, logger, run: async () => void ran++ });
    await none.ready('x');
    expect(ran).toBe(0);
    const missing = createNotifier({
      env: { NOTIFY_SOCKET: '/run/x' },
      logger,
      run: async () => {
        throw new Error('spawn systemd-notify ENOENT', {
          cause: Object.assign(new Error('ENOENT'), { code: 'ENOENT' }),
        });
      },
    });
    await missing.ready('x');
    await missing.stopping();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('systemd-notify is not on PATH');
  });
});

describe('journal log format', () => {
  it('drops the timestamp and prefixes the sd-daemon priority', () => {
    const lines: string[] = [];
    const log = createLogger({
      sink: (l) => lines.push(l),
      format: 'journal',
      level: 'debug',
      now: () => new Date(0),
    });
    log.error('e');
    log.warn('w');
    log.info('i');
    log.child('gpu').debug('d', { a: 1 });
    expect(lines).toEqual([
      '<3>ERROR [core] e',
      '<4>WARN  [core] w',
      '<6>INFO  [core] i',
      '<7>DEBUG [core:gpu] d {"a":1}',
    ]);
    const plain: string[] = [];
    createLogger({ sink: (l) => plain.push(l), now: () => new Date(0) }).info('i');
    expect(plain).toEqual(['1970-01-01T00:00:00.000Z INFO  [core] i']);
  });
});

describe('build-if-stale', () => {
  it('is stale when dist is missing or a source is newer than the oldest output', async () => {
    const { staleReason } = (await import('../../scripts/build-if-stale.mjs')) as {
      staleReason: (root: string) => string | null;
    };
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'unamentis-stale-'));
    try {
      const write = (rel: string, t: number) => {
        fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        fs.writeFileSync(path.join(root, rel), '');
        fs.utimesSync(path.join(root, rel), t, t);
      };
      write('main/core/a.ts', 100);
      write('renderer/App.tsx', 100);
      write('package.json', 100);
      expect(staleReason(root)).toBe('dist/ is missing');
      write('dist/main/headless.js', 200);
      write('dist/renderer/index.html', 200);
      write('dist/preload/preload.cjs', 200);
      expect(staleReason(root)).toBeNull();
      write('main/core/deep/b.ts', 300);
      expect(staleReason(root)).toBe('main changed since the last build');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
