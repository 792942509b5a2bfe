// The Linux package as an admin gets it: `npm run pack:linux` builds the tarball, which is unpacked
// into a clean temp folder and its `bin/unamentis-server` started with an almost empty environment
// (as systemd would: no npm, no tsx, no repo on PATH), with a stand-in for systemd's notify socket
// and journal. Also: the exit codes of --help, and `systemd-analyze verify` on the units.

import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/headless.js';

let root: string;
let bin: string;
let install: string;
const hasSystemdNotify = spawnSync('systemd-notify', ['--version']).status === 0;

beforeAll(() => {
  root = tempDir('unamentis-pkg-');
  const tarball = execFileSync(
    process.execPath,
    [path.join(repoRoot, 'scripts/pack-linux.mjs'), '--out', path.join(root, 'out')],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  ).trim();
  install = path.join(root, 'opt');
  fs.mkdirSync(install);
  execFileSync('tar', ['-C', install, '-xzf', tarball]);
  bin = path.join(install, 'unamentis-server', 'bin', 'unamentis-server');
}, 240_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** What systemd gives a service: a plain PATH (plus node's folder: node is not in /usr/bin here). */
function serviceEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: root,
    UNAMENTIS_MDNS_INTERFACES: 'lo',
    ...extra,
  };
}

function run(args: string[], env = serviceEnv()): { status: number | null; out: string } {
  const r = spawnSync(bin, args, { cwd: '/', env, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

async function waitFor(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the Linux package', () => {
  it('holds the server, its production dependencies and the units, and nothing of the dev tree', () => {
    const top = path.join(install, 'unamentis-server');
    expect(fs.readlinkSync(bin)).toBe('../dist/main/headless.js');
    expect(fs.statSync(bin).mode & 0o111).not.toBe(0);
    for (const f of [
      'dist/renderer/index.html',
      'systemd/unamentis-server.service',
      'systemd/user/unamentis-server.service',
      'README.md',
    ]) {
      expect(fs.existsSync(path.join(top, f)), f).toBe(true);
    }
    for (const dep of ['@homebridge/ciao', 'conf', 'ajv', 'ollama', 'systeminformation']) {
      expect(fs.existsSync(path.join(top, 'node_modules', dep, 'package.json')), dep).toBe(true);
    }
    for (const dev of ['electron', 'vitest', 'typescript', 'tsx', 'react-dom', 'qrcode', 'yargs']) {
      expect(fs.existsSync(path.join(top, 'node_modules', dev)), dev).toBe(false);
    }
    expect(fs.existsSync(path.join(top, 'dist/main/shell'))).toBe(false);
  });

  it('answers --help and says bad options with exit code 64', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.out).toContain('--data-dir');
    expect(help.out).toMatch(/75 port in use/);
    const bad = run(['--port', 'eleven']);
    expect(bad.status).toBe(64);
    expect(bad.out).toContain('expected a whole number from 0 to 65535');
    expect(run(['--colour']).status).toBe(64);
  });

  it('exits 73 when the data dir cannot be created, 69 for an address not on this machine', () => {
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, '');
    const r = run(['--data-dir', path.join(file, 'data'), '--port', '0']);
    expect(r.status, r.out).toBe(73);
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to this machine.
    const n = run(['--data-dir', tempDataDir(), '--port', '0', '--bind', '192.0.2.1']);
    expect(n.status, n.out).toBe(69);
    expect(n.out).toContain('not on this machine');
  });

  describe('started as systemd would start it', () => {
    let server: ChildProcess;
    let notify: ChildProcess;
    const messages: string[] = [];
    let logFile: string;
    let dataDir: string;
    let exited: Promise<number | null>;

    beforeAll(async () => {
      const sock = path.join(root, 'notify.sock');
      notify = spawn('python3', [path.join(repoRoot, 'test/fixtures/notify_socket.py'), sock], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let buf = '';
      let bound = false;
      notify.stdout!.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const ev = JSON.parse(buf.slice(0, i)) as { event?: string; msg?: string };
          buf = buf.slice(i + 1);
          if (ev.event === 'ready') bound = true;
          if (ev.msg) messages.push(ev.msg);
        }
      });
      await waitFor(() => bound, 'the notify socket');

      // The journal hands the service a stream and names it in JOURNAL_STREAM (dev:inode of stdout).
      logFile = path.join(root, 'journal.log');
      const fd = fs.openSync(logFile, 'w');
      const st = fs.fstatSync(fd);
      dataDir = tempDataDir();
      server = spawn(bin, ['--port', '0'], {
        cwd: '/',
        stdio: ['ignore', fd, fd],
        env: serviceEnv({
          NOTIFY_SOCKET: sock,
          WATCHDOG_USEC: '400000',
          JOURNAL_STREAM: `${st.dev}:${st.ino}`,
          STATE_DIRECTORY: dataDir,
        }),
      });
      fs.closeSync(fd);
      exited = new Promise((r) => server.once('exit', (code) => r(code)));
    });

    afterAll(async () => {
      if (server?.exitCode === null) {
        server.kill('SIGKILL');
        await exited;
      }
      notify?.stdin?.end();
    });

    /** The port, from the journal's "Dashboard: http://127.0.0.1:PORT/ (token: …)" line. */
    const port = () =>
      Number(
        /^Dashboard: http:\/\/[^:]+:(\d+)\//m.exec(fs.readFileSync(logFile, 'utf8'))?.[1] ?? NaN,
      );

    it('serves /health', async () => {
      await waitFor(() => port() > 0, 'the Dashboard line');
      const res = await fetch(`http://127.0.0.1:${port()}/health`);
      expect(res.status).toBe(200);
    });

    it('says READY=1 (with its port) once the API listens, and pings the watchdog', async (ctx) => {
      if (!hasSystemdNotify) {
        console.log(
          'skipped: systemd-notify is not installed here (apt: systemd); the server warned instead',
        );
        expect(fs.readFileSync(logFile, 'utf8')).toContain('systemd-notify is not on PATH');
        ctx.skip();
        return;
      }
      await waitFor(() => messages.some((m) => m.includes('READY=1')), 'READY=1');
      expect(messages.find((m) => m.includes('READY=1'))).toContain(
        `STATUS=serving on port ${port()}`,
      );
      // WATCHDOG_USEC=400000 → a ping every 200 ms.
      await waitFor(() => messages.filter((m) => m === 'WATCHDOG=1').length >= 2, 'two WATCHDOG=1');
    });

    it('uses $STATE_DIRECTORY as its data dir and writes journal lines: a priority, no timestamp', () => {
      expect(fs.existsSync(path.join(dataDir, 'settings.json'))).toBe(true);
      const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
      const logLines = lines.filter((l) => !/^(Dashboard|Settings):/.test(l));
      expect(logLines.length).toBeGreaterThan(2);
      for (const l of logLines) expect(l).toMatch(/^<[3467]>(DEBUG|INFO |WARN |ERROR) \[/);
      expect(lines.join('\n')).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
      // The journal is more widely readable than the token file: the URL goes without its token.
      expect(lines.find((l) => l.startsWith('Dashboard:'))).not.toContain('#token=');
    });

    it('a second server on the same data dir, or on a busy port, exits 75 (temporary)', async () => {
      const locked = run(['--data-dir', dataDir, '--port', '0']);
      expect(locked.status, locked.out).toBe(75);
      const busy = run(['--data-dir', tempDataDir(), '--port', String(port())]);
      expect(busy.status, busy.out).toBe(75);
      expect(busy.out).toContain('already in use');
    });

    it('stops on SIGTERM with exit code 0, saying STOPPING=1 first', async () => {
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
      if (hasSystemdNotify) expect(messages).toContain('STOPPING=1');
    });
  });

  it('has units that systemd-analyze verify accepts (ExecStart pointed at the unpacked command)', (ctx) => {
    const which = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (which.error || which.status !== 0) {
      console.log('skipped: systemd-analyze is not installed here (apt: systemd)');
      ctx.skip();
      return;
    }
    for (const unit of ['unamentis-server.service', 'user/unamentis-server.service']) {
      const text = fs.readFileSync(path.join(install, 'unamentis-server/systemd', unit), 'utf8');
      expect(text).toContain('ExecStart=/opt/unamentis-server/bin/unamentis-server');
      const copy = path.join(root, 'verify', unit.replace('/', '-'));
      fs.mkdirSync(path.dirname(copy), { recursive: true });
      fs.writeFileSync(
        copy,
        text.replaceAll('/opt/unamentis-server', path.join(install, 'unamentis-server')),
      );
      const args = unit.startsWith('user/') ? ['--user', 'verify', copy] : ['verify', copy];
      // A user manager needs a runtime dir, which a CI shell may not have.
      const runtime = path.join(root, 'runtime');
      fs.mkdirSync(runtime, { recursive: true, mode: 0o700 });
      const r = spawnSync('systemd-analyze', args, {
        encoding: 'utf8',
        env: { ...process.env, XDG_RUNTIME_DIR: runtime },
      });
      // verify exits 0 on unknown keys too; they are reported on stderr ("Unknown key …, ignoring").
      const complaints = (r.stderr + r.stdout).split('\n').filter((l) => l.includes(copy));
      expect(complaints, `${unit}:\n${r.stderr}`).toEqual([]);
      expect(r.status, r.stderr).toBe(0);
    }
  });
});

function tempDataDir(): string {
  const d = path.join(root, `data-${Math.random().toString(36).slice(2, 8)}`);
  fs.mkdirSync(d);
  return d;
}
