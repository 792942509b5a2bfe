// `npm run soak [-- --minutes N]`: an accelerated soak of the compiled core (default 10 minutes of
// wall time standing for 90 minutes of use: the idle thresholds are shortened so hibernation
// cycles every ~20 s instead of every 2 h). During it:
//   - VibeVoice, Ollama and four user-added services (fakes) crash a few seconds after each start;
//     with six of them restarting under back-off, a crash lands every few seconds;
//   - Piper floods its log at ~1 MB/s;
//   - SSE clients connect and disconnect all the time;
//   - hibernation walks down to dormant and is woken again;
//   - peer servers (other cores on loopback) join and leave over mDNS;
// It samples the core's RSS, open fds and process tree, and prints the figures and the goals:
// RSS growth < 10 MB, no fd or process leak, no unhandled rejection.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../test/helpers/headless.js';
import {
  fakePiper,
  fakeServices,
  freePort,
  freePorts,
} from '../test/integration/hibernation-fakes.js';
import { median } from './types.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' } } });
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
const durationMs = minutes * 60_000;
const headlessJs = path.join(repoRoot, 'dist/main/headless.js');
const env = { ...process.env, UNAMENTIS_MDNS_INTERFACES: 'lo', UNAMENTIS_LOG_LEVEL: 'info' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server {
  child: ChildProcess;
  url: string;
  token: string;
  dataDir: string;
  output: () => string;
}

async function startServer(settings: Record<string, unknown>): Promise<Server> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-'));
  fs.writeFileSync(path.join(dataDir, 'settings.json'), JSON.stringify(settings));
  const child = spawn(
    process.execPath,
    [headlessJs, '--data-dir', dataDir, '--port', '0', '--bind', '127.0.0.1'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 4_000_000) out = out.slice(-2_000_000); // the soak itself must not leak
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const m = /Dashboard: (http:\/\/[^/]+\/)/.exec(out);
    if (/Settings file .* was invalid/.test(out)) {
      child.kill('SIGKILL');
      throw new Error(`the soak's settings were refused:\n${out}`);
    }
    if (m)
      return {
        child,
        url: m[1]!,
        token: fs.readFileSync(path.join(dataDir, 'token'), 'utf8').trim(),
        dataDir,
        output: () => out,
      };
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start:\n${out}`);
}

async function stopServer(s: Server): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
  s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(t);
  return code;
}

function procStat(pid: number) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssMB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  return { rssMB, fds, descendants: descendants(pid).length };
}

function descendants(pid: number): number[] {
  let out: string;
  try {
    out = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const kids = new Map<number, number[]>();
  for (const line of out.trim().split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number) as [number, number];
    kids.set(pp, [...(kids.get(pp) ?? []), p]);
  }
  const all: number[] = [];
  const walk = (p: number) => {
    for (const k of kids.get(p) ?? []) {
      all.push(k);
      walk(k);
    }
  };
  walk(pid);
  return all;
}

/** An SSE client that reads for a random while, then hangs up. */
async function sseChurn(
  s: Server,
  until: number,
  counter: { connects: number; events: number },
): Promise<void> {
  while (Date.now() < until) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 300 + Math.random() * 2700);
    try {
      const res = await fetch(`${s.url}api/events`, {
        headers: { authorization: `Bearer ${s.token}` },
        signal: abort.signal,
      });
      counter.connects++;
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        counter.events += (new TextDecoder().decode(value).match(/^event:/gm) ?? []).length;
      }
    } catch {
      /* aborted on purpose */
    } finally {
      clearTimeout(timer);
    }
    await sleep(Math.random() * 300);
  }
}

async function main(): Promise<void> {
  process.stderr.write('building the core…\n');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'ignore' });
  const ports = await freePorts();
  // User-added services (the same shape as the presets): fake Piper servers that crash.
  const crashy: Record<string, unknown> = {};
  for (let i = 1; i <= 4; i++) {
    const port = await freePort();
    crashy[`crashy-${i}`] = {
      name: `Crashy ${i}`,
      command: process.execPath,
      args: [fakePiper, '-m', 'voice', '--host', '127.0.0.1', '--port', String(port)],
      port,
      healthPath: '/voices',
      env: { FAKE_CRASH_AFTER_MS: String(1500 + i * 1000) },
    };
  }
  const settings = {
    displayName: 'Soak Host',
    serveOnLan: false,
    models: { preload: ['mistral:7b'] },
    hibernation: {
      enabled: true,
      warmAfterSeconds: 2,
      coolAfterSeconds: 5,
      coldAfterSeconds: 9,
      dormantAfterSeconds: 14,
    },
    supervisor: {
      stopTimeoutSeconds: 2,
      crashLoopCount: 100,
      crashLoopWindowSeconds: 10,
      hungAfterFailures: 3,
      healthIntervalSeconds: 1,
    },
    services: {
      ...fakeServices(ports, {
        vibevoice: { FAKE_CRASH_AFTER_MS: '3000' },
        ollama: { FAKE_CRASH_AFTER_MS: '7000' },
        piper: { FAKE_LOG_FLOOD_BPS: '1000000' },
      }),
      ...crashy,
    },
  };
  const core = await startServer(settings);
  const pid = core.child.pid!;
  const auth = { authorization: `Bearer ${core.token}` };
  const t0 = Date.now();
  const end = t0 + durationMs;
  process.stderr.write(`soak: ${minutes} min, core pid ${pid}\n`);

  const samples: { t: number; rssMB: number; fds: number; descendants: number }[] = [];
  const sse = { connects: 0, events: 0 };
  let wakes = 0;
  const restartsBy = new Map<string, number>();
  const everOwned = new Set<number>();
  let peersStarted = 0;
  const states = new Set<string>();

  const sampler = (async () => {
    while (Date.now() < end) {
      try {
        samples.push({ t: (Date.now() - t0) / 1000, ...procStat(pid) });
        for (const d of descendants(pid)) everOwned.add(d);
        const status = (await (await fetch(`${core.url}api/status`)).json()) as {
          hibernation: { state: string; history?: { to: string }[] };
          services: { id: string; status: string; restarts: number }[];
        };
        states.add(status.hibernation.state);
        for (const h of status.hibernation.history ?? []) states.add(h.to);
        for (const svc of status.services)
          restartsBy.set(svc.id, Math.max(restartsBy.get(svc.id) ?? 0, svc.restarts));
      } catch (err) {
        process.stderr.write(`sample failed: ${(err as Error).message}\n`);
      }
      await sleep(5000);
    }
  })();

  const waker = (async () => {
    while (Date.now() < end) {
      await sleep(20_000);
      const r = await fetch(`${core.url}api/wake`, { method: 'POST' }).catch(() => null);
      if (r?.status === 202) wakes++;
    }
  })();

  const peers = (async () => {
    while (Date.now() < end - 40_000) {
      await sleep(15_000);
      const peer = await startServer({
        displayName: `Soak Peer ${++peersStarted}`,
        services: {
          ollama: { enabled: false },
          vibevoice: { enabled: false },
          piper: { enabled: false },
        },
      });
      await sleep(20_000);
      await stopServer(peer);
      fs.rmSync(peer.dataDir, { recursive: true, force: true });
    }
  })();

  await Promise.all([
    sampler,
    waker,
    peers,
    ...Array.from({ length: 4 }, () => sseChurn(core, end, sse)),
  ]);

  // Settle: stop everything, then look for leaks.
  await fetch(`${core.url}api/services/stop-all`, { method: 'POST', headers: auth });
  await sleep(6000);
  const final = procStat(pid);
  const out = core.output();
  const exitCode = await stopServer(core);
  await sleep(1000);
  // Every process the core was seen to own during the run must be gone after it quits.
  const leftovers = [...everOwned]
    .filter((p) => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    })
    .map((p) => {
      try {
        return `${p} ${fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ')}`;
      } catch {
        return String(p);
      }
    });

  const warm = samples.filter((s) => s.t >= 60 && s.t < 120);
  const base = warm.length ? warm : samples.slice(0, 5);
  const last = samples.slice(-5);
  const rssGrowth = median(last.map((s) => s.rssMB)) - median(base.map((s) => s.rssMB));
  const fdGrowth = final.fds - median(base.map((s) => s.fds));
  const unhandled = (out.match(/unhandled rejection/gi) ?? []).length;

  const rows: [string, string, string, boolean | null][] = [
    ['wall time', `${minutes} min`, '', null],
    ['hibernation states seen', [...states].join(', '), 'all five', states.size === 5],
    ['wakes', String(wakes), '', null],
    [
      'crash restarts seen (sum of per-service peaks)',
      String([...restartsBy.values()].reduce((a, b) => a + b, 0)),
      '',
      null,
    ],
    ['SSE connections / events', `${sse.connects} / ${sse.events}`, '', null],
    ['peers joined and left', String(peersStarted), '', null],
    [
      'RSS baseline → end (median)',
      `${median(base.map((s) => s.rssMB)).toFixed(1)} → ${median(last.map((s) => s.rssMB)).toFixed(1)} MB`,
      '',
      null,
    ],
    ['RSS growth', `${rssGrowth.toFixed(1)} MB`, '< 10 MB', rssGrowth < 10],
    ['RSS max', `${Math.max(...samples.map((s) => s.rssMB)).toFixed(1)} MB`, '', null],
    [
      'open fds baseline → after stop-all',
      `${median(base.map((s) => s.fds))} → ${final.fds}`,
      'no growth',
      fdGrowth <= 2,
    ],
    ['child processes after stop-all', String(final.descendants), '0', final.descendants === 0],
    [
      'processes left after quit (of those it owned)',
      `${leftovers.length} of ${everOwned.size}`,
      '0',
      leftovers.length === 0,
    ],
    ['unhandled rejections', String(unhandled), '0', unhandled === 0],
    ['core exit code', String(exitCode), '0', exitCode === 0],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[1].length));
  for (const [k, v, goal, ok] of rows)
    console.log(
      `${k.padEnd(w)}  ${v.padEnd(w2)}  ${goal.padEnd(10)} ${ok === null ? '' : ok ? 'pass' : 'FAIL'}`,
    );
  if (leftovers.length) console.log('left over:\n' + leftovers.join('\n'));
  fs.mkdirSync(path.join(repoRoot, 'bench-output'), { recursive: true });
  fs.writeFileSync(
    path.join(repoRoot, 'bench-output', 'soak.json'),
    JSON.stringify({ minutes, rows, samples }, null, 2),
  );
  fs.writeFileSync(path.join(repoRoot, 'bench-output', 'soak-core.log'), out.slice(-200_000));
  process.exitCode = rows.every((r) => r[3] !== false) ? 0 : 1;
}

void main();
