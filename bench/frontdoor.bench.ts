// What the front door adds, measured side by side with a direct connection in the same run:
// a real headless core (compiled, as it ships) with a minimal upstream behind it
// (bench/frontdoor-upstream.mjs on the internal port the core chose, read from /api/status).
//
//  - latency of a small GET, sequential on one kept connection: added p50 / p99
//  - time to the first SSE event of a stream: added median
//  - a 5 MB WAV: throughput through the front door as a share of direct
//  - 200 concurrent streams through the front door: errors
//  - RSS of the core per held connection (requests held while the upstream is starting)
//  - wake on use: dormant host, speech request to fake VibeVoice → first byte, minus what
//    fake VibeVoice itself takes to start, load and answer (spawned directly, same run)
//
// Beside direct and the front door, the small-request and WAV rows also measure a bare TCP relay
// (bench/frontdoor-relay.mjs: bytes copied, no HTTP) the same way in the same loop: the cheapest
// process a request can pass through, i.e. what any relay costs on this machine. The WAV row also
// gives each process's CPU per MB, which the machine's load changes far less than the timings.

import http from 'node:http';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type BenchRow } from './types.js';
import { startHeadless, type Headless } from '../test/helpers/headless.js';
import { fakeVibevoice, freePort, until } from '../test/integration/hibernation-fakes.js';
import type { FrontDoorSection, ServiceEntry } from '../main/core/contract.js';
import { forward, upstreamAgent } from '../main/core/frontdoor/proxy.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const upstreamScript = path.join(here, 'frontdoor-upstream.mjs');
const relayScript = path.join(here, 'frontdoor-relay.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Timed {
  status: number;
  firstByteMs: number;
  totalMs: number;
  bytes: number;
}

function timed(
  port: number,
  p: string,
  agent: http.Agent | false,
  method = 'GET',
  body?: string,
): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: p,
        method,
        agent,
        headers: body ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        let first = -1;
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          if (first < 0) first = performance.now() - t0;
          bytes += c.length;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            firstByteMs: first < 0 ? performance.now() - t0 : first,
            totalMs: performance.now() - t0,
            bytes,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function status<T>(h: Headless, section: 'frontDoor' | 'services'): Promise<T> {
  const s = (await (await fetch(`${h.url}api/status`)).json()) as Record<string, unknown>;
  return s[section] as T;
}

async function hibernate(h: Headless, state: string): Promise<void> {
  const res = await fetch(`${h.url}api/hibernation/hibernate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ state }),
  });
  if (res.status !== 202) throw new Error(`hibernate: ${res.status}`);
}

/** CPU time (user + system, ms) and page faults (minor + major) of a process so far (Linux). */
function usage(pid: number): { cpu: number; faults: number } {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return {
      cpu: ((Number(f[11]) + Number(f[12])) * 1000) / 100,
      faults: Number(f[7]) + Number(f[9]),
    };
  } catch {
    return { cpu: NaN, faults: NaN };
  }
}
const cpuMs = (pid: number) => usage(pid).cpu;

/** The upstream program the core started (its child running `script`), from /proc (Linux). */
function childRunning(parent: number, script: string): number | null {
  try {
    for (const task of fs.readdirSync(`/proc/${parent}/task`)) {
      const kids = fs.readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8').trim();
      for (const kid of kids ? kids.split(' ').map(Number) : []) {
        if (fs.readFileSync(`/proc/${kid}/cmdline`, 'utf8').includes(script)) return kid;
      }
    }
  } catch {
    // not Linux, or it went away: the figure is left out
  }
  return null;
}

/** Starts the bare TCP relay in front of `upstreamPort`. */
async function startRelay(upstreamPort: number) {
  const port = await freePort();
  const child = spawn(process.execPath, [relayScript, String(port), String(upstreamPort)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
  return {
    port,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

function rssMB(pid: number): number {
  try {
    return (
      Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024
    );
  } catch {
    return NaN;
  }
}

/** fake VibeVoice alone: spawn → port open → speech answered (its own start + load + answer). */
async function vibevoiceAlone(): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [fakeVibevoice, '--host', '127.0.0.1', '--port', String(port), '--device', 'cpu'],
    { stdio: 'ignore' },
  );
  try {
    for (;;) {
      const r = await timed(
        port,
        '/v1/audio/speech',
        false,
        'POST',
        JSON.stringify({ model: 'tts-1', input: 'Hello.', voice: 'nova', response_format: 'wav' }),
      ).catch(() => null);
      if (r?.status === 200) return performance.now() - t0 - r.totalMs + r.firstByteMs;
      await sleep(5);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/**
 * The pass-through code alone (proxy.ts), upstream and client in this process: what the front door
 * costs in CPU, apart from the core process being scheduled (the machine's load shows in the
 * cross-process figures above it).
 */
async function inProcess(): Promise<BenchRow[]> {
  const up = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  const upPort = (up.address() as import('node:net').AddressInfo).port;
  const agent = upstreamAgent();
  const fd = http.createServer({ noDelay: true }, (req, res) =>
    forward(req, res, { host: '127.0.0.1', port: upPort }, agent),
  );
  await new Promise<void>((r) => fd.listen(0, '127.0.0.1', r));
  const fdPort = (fd.address() as import('node:net').AddressInfo).port;
  const client = {
    direct: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    frontdoor: new http.Agent({ keepAlive: true, maxSockets: 1 }),
  };
  const lat: Record<'direct' | 'frontdoor', number[]> = { direct: [], frontdoor: [] };
  for (let round = 0; round < 20; round++) {
    for (const k of ['direct', 'frontdoor'] as const) {
      for (let i = 0; i < 100; i++) {
        const r = await timed(k === 'direct' ? upPort : fdPort, '/small', client[k]);
        if (round > 1) lat[k].push(r.totalMs);
      }
    }
  }
  agent.destroy();
  client.direct.destroy();
  client.frontdoor.destroy();
  await Promise.all(
    [up, fd].map((s) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())))),
  );
  const p50 = pct(lat.frontdoor, 50) - pct(lat.direct, 50);
  const p99 = pct(lat.frontdoor, 99) - pct(lat.direct, 99);
  return [
    {
      name: 'pass-through code alone (one process): added p50 / p99',
      value: p50,
      unit: 'ms',
      goal: '≤ 0.3 ms',
      pass: p50 <= 0.3,
      note: `p99 ${p99.toFixed(3)} ms`,
    },
  ];
}

export async function bench(): Promise<BenchRow[]> {
  const publicPort = await freePort();
  const vvPort = await freePort();
  const h = await startHeadless({
    entry: 'dist',
    settings: {
      discovery: { advertise: false, interfaces: [] },
      gpu: { activeIntervalSeconds: 3600, warmIntervalSeconds: 3600, coldIntervalSeconds: 3600 },
      hibernation: {
        enabled: true,
        warmAfterSeconds: 3600,
        coolAfterSeconds: 7200,
        coldAfterSeconds: 10_800,
        dormantAfterSeconds: 14_400,
      },
      frontDoor: { maxHeldRequests: 2000, maxHoldSeconds: 120 },
      services: {
        ollama: { enabled: false },
        piper: { enabled: false },
        vibevoice: {
          command: process.execPath,
          args: [fakeVibevoice, '--host', '{host}', '--port', '{port}', '--device', 'cpu'],
          port: vvPort,
        },
        bench: {
          command: process.execPath,
          args: [upstreamScript, '{host}', '{port}'],
          port: publicPort,
          healthPath: '/small',
          env: { START_DELAY_MS: '2500' },
        },
      },
    },
  });
  const rows: BenchRow[] = [];
  let relay: Awaited<ReturnType<typeof startRelay>> | null = null;
  try {
    await until(
      'bench upstream and VibeVoice running',
      async () =>
        (await status<ServiceEntry[]>(h, 'services'))
          .filter((s) => s.id === 'bench' || s.id === 'vibevoice')
          .every((s) => s.status === 'running'),
      30_000,
    );
    const door = (await status<FrontDoorSection>(h, 'frontDoor')).ports.find(
      (p) => p.id === 'bench',
    )!;
    const internal = Number(door.upstream!.split(':')[1]);
    await sleep(1000);
    const rssIdle = rssMB(h.child.pid!);
    relay = await startRelay(internal);
    const ports = { direct: internal, frontdoor: publicPort, relay: relay.port };
    const kinds = ['direct', 'frontdoor', 'relay'] as const;
    type Kind = (typeof kinds)[number];

    // 1. Small request latency: sequential, one kept connection each, interleaved in batches.
    const lat: Record<Kind, number[]> = { direct: [], frontdoor: [], relay: [] };
    let coreCpu = 0;
    const agents: Record<Kind, http.Agent> = {
      direct: new http.Agent({ keepAlive: true, maxSockets: 1 }),
      frontdoor: new http.Agent({ keepAlive: true, maxSockets: 1 }),
      relay: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    };
    for (let round = 0; round < 20; round++) {
      for (const k of kinds) {
        const cpu0 = cpuMs(h.child.pid!);
        for (let i = 0; i < 100; i++) {
          const r = await timed(ports[k], '/small', agents[k]);
          if (round > 1) lat[k].push(r.totalMs);
        }
        if (k === 'frontdoor' && round > 1) coreCpu += cpuMs(h.child.pid!) - cpu0;
      }
    }
    const addP50 = pct(lat.frontdoor, 50) - pct(lat.direct, 50);
    const addP99 = pct(lat.frontdoor, 99) - pct(lat.direct, 99);
    rows.push({
      name: 'small request: direct p50 / p99',
      value: pct(lat.direct, 50),
      unit: 'ms',
      note: `p99 ${pct(lat.direct, 99).toFixed(3)} ms`,
    });
    rows.push({
      name: 'small request: front door p50 / p99',
      value: pct(lat.frontdoor, 50),
      unit: 'ms',
      note: `p99 ${pct(lat.frontdoor, 99).toFixed(3)} ms`,
    });
    rows.push({
      name: 'small request: bare TCP relay p50 / p99 (reference)',
      value: pct(lat.relay, 50),
      unit: 'ms',
      note: `p99 ${pct(lat.relay, 99).toFixed(3)} ms; added p50 ${(pct(lat.relay, 50) - pct(lat.direct, 50)).toFixed(3)}, p99 ${(pct(lat.relay, 99) - pct(lat.direct, 99)).toFixed(3)} ms`,
    });
    rows.push({
      name: 'small request: the core’s CPU per proxied request',
      value: coreCpu / lat.frontdoor.length,
      unit: 'ms',
      note: 'user + system time of the core over the front-door batches (its background work included)',
    });
    rows.push({
      name: 'small request: added latency p50',
      value: addP50,
      unit: 'ms',
      goal: '≤ 0.3 ms',
      pass: addP50 <= 0.3,
    });
    rows.push({
      name: 'small request: added latency p99',
      value: addP99,
      unit: 'ms',
      goal: '≤ 2 ms',
      pass: addP99 <= 2,
    });

    // 2. Time to the first streamed event.
    const ttft: Record<'direct' | 'frontdoor', number[]> = { direct: [], frontdoor: [] };
    for (let i = 0; i < 200; i++) {
      for (const k of ['direct', 'frontdoor'] as const)
        ttft[k].push(
          (await timed(ports[k], '/stream?n=3&ms=1', agents[k], 'POST', '{"stream":true}'))
            .firstByteMs,
        );
    }
    const addTtft = median(ttft.frontdoor) - median(ttft.direct);
    rows.push({
      name: 'first streamed event: added (median of 200)',
      value: addTtft,
      unit: 'ms',
      goal: '≤ 1 ms',
      pass: addTtft <= 1,
      note: `direct ${median(ttft.direct).toFixed(3)} ms`,
    });

    // 3. A 5 MB WAV, interleaved. Then the CPU each process spends on it, per MB, over a block of
    // transfers per kind (/proc counts in 10 ms ticks: one transfer is too short to time alone).
    const mbps: Record<Kind, number[]> = { direct: [], frontdoor: [], relay: [] };
    for (let i = 0; i < 40; i++) {
      for (const k of kinds) {
        const r = await timed(ports[k], '/wav', agents[k]);
        if (i >= 3) mbps[k].push(r.bytes / 1024 / 1024 / (r.totalMs / 1000));
      }
    }
    const upstreamPid = childRunning(h.child.pid!, upstreamScript) ?? 0;
    const cpuPerMB = (k: Kind) => {
      const pids = { core: h.child.pid!, relay: relay!.pid, upstream: upstreamPid };
      return async () => {
        const before = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, usage(pid)]));
        const s0 = process.cpuUsage();
        let mb = 0;
        for (let i = 0; i < 30; i++)
          mb += (await timed(ports[k], '/wav', agents[k])).bytes / 1024 / 1024;
        const s1 = process.cpuUsage(s0);
        const per = (n: keyof typeof pids) => (usage(pids[n]).cpu - before[n]!.cpu) / mb;
        const faults = (n: keyof typeof pids) => (usage(pids[n]).faults - before[n]!.faults) / mb;
        return {
          core: per('core'),
          relay: per('relay'),
          upstream: per('upstream'),
          client: (s1.user + s1.system) / 1000 / mb,
          coreFaults: faults('core'),
          relayFaults: faults('relay'),
        };
      };
    };
    const cpu = {
      direct: await cpuPerMB('direct')(),
      frontdoor: await cpuPerMB('frontdoor')(),
      relay: await cpuPerMB('relay')(),
    };
    const share = (median(mbps.frontdoor) / median(mbps.direct)) * 100;
    const relayShare = (median(mbps.relay) / median(mbps.direct)) * 100;
    rows.push({
      name: '5 MB WAV: throughput through the front door',
      value: share,
      unit: '% of direct',
      goal: '≥ 90 %',
      pass: share >= 90,
      note: `${median(mbps.frontdoor).toFixed(0)} vs ${median(mbps.direct).toFixed(0)} MB/s (median of 37 each)`,
    });
    rows.push({
      name: '5 MB WAV: bare TCP relay (reference)',
      value: relayShare,
      unit: '% of direct',
      note: `${median(mbps.relay).toFixed(0)} MB/s`,
    });
    // What the CPU allows: the stages of a transfer overlap at best, so it takes at least its
    // busiest stage's CPU, and at least the sum of all stages spread over every core.
    const cores = os.cpus().length;
    const u = cpu.direct.upstream;
    const c = cpu.direct.client;
    const d = cpu.frontdoor.core;
    const ceiling =
      (Math.max(u, c, (u + c) / cores) / Math.max(u, c, d, (u + c + d) / cores)) * 100;
    rows.push({
      name: '5 MB WAV: the core’s CPU per MB passed',
      value: d,
      unit: 'ms',
      note:
        `bare relay ${cpu.relay.relay.toFixed(3)} ms; direct: upstream ${u.toFixed(3)} + client ${c.toFixed(3)} ms ` +
        `(through the door: upstream ${cpu.frontdoor.upstream.toFixed(3)}, client ${cpu.frontdoor.client.toFixed(3)}); ` +
        `CPU-bound ceiling on ${cores} cores with these costs: ${ceiling.toFixed(0)} % of direct`,
    });
    rows.push({
      name: '5 MB WAV: the core’s page faults per MB passed',
      value: cpu.frontdoor.coreFaults,
      unit: '',
      note: `bare relay ${cpu.relay.relayFaults.toFixed(1)}; minor + major (/proc/PID/stat), over the CPU-per-MB block`,
    });
    const rssAfter = rssMB(h.child.pid!);
    rows.push({
      name: 'the core’s RSS: idle → after the small-request and WAV rows',
      value: rssAfter,
      unit: 'MB',
      note: `idle ${rssIdle.toFixed(1)} MB (services running, before any request); after ${rssAfter.toFixed(1)} MB`,
    });

    // 4. 200 concurrent streams (each 20 events 25 ms apart), new connections.
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        timed(publicPort, '/stream?n=20&ms=25', false, 'POST', '{"stream":true}'),
      ),
    );
    const errors = results.filter(
      (r) => r.status === 'rejected' || r.value.status !== 200 || !r.value.bytes,
    ).length;
    rows.push({
      name: '200 concurrent streams: errors',
      value: errors,
      unit: '',
      goal: '0',
      pass: errors === 0,
    });

    // 5. RSS per held connection: dormant, then 500 requests held while the upstream takes 2.5 s to start.
    await hibernate(h, 'dormant');
    await until(
      'bench upstream stopped',
      async () =>
        (await status<ServiceEntry[]>(h, 'services')).find((s) => s.id === 'bench')!.status ===
        'stopped',
      20_000,
    );
    await sleep(500);
    const before = rssMB(h.child.pid!);
    const N = 500;
    const held = Array.from({ length: N }, () =>
      timed(publicPort, '/small', false).catch(() => null),
    );
    await sleep(1500);
    const during = rssMB(h.child.pid!);
    const answered = (await Promise.all(held)).filter((r) => r?.status === 200).length;
    rows.push({
      name: `RSS per held connection (${N} held)`,
      value: ((during - before) * 1024) / N,
      unit: 'KB',
      note: `${before.toFixed(0)} → ${during.toFixed(0)} MB; ${answered}/${N} answered 200 after the start`,
    });

    // 6. Wake on use: dormant host → first byte of a speech request, minus fake VibeVoice's own.
    const wake: number[] = [];
    const alone: number[] = [];
    for (let i = 0; i < 5; i++) {
      await hibernate(h, 'dormant');
      await until(
        'VibeVoice stopped',
        async () =>
          (await status<ServiceEntry[]>(h, 'services')).find((s) => s.id === 'vibevoice')!
            .status === 'stopped',
        20_000,
      );
      await sleep(300);
      const r = await timed(
        vvPort,
        '/v1/audio/speech',
        false,
        'POST',
        JSON.stringify({ model: 'tts-1', input: 'Hello.', voice: 'nova', response_format: 'wav' }),
      );
      if (r.status !== 200) throw new Error(`wake on use answered ${r.status}`);
      wake.push(r.firstByteMs);
      alone.push(await vibevoiceAlone());
    }
    const overhead = median(wake) - median(alone);
    rows.push({
      name: 'wake on use: dormant → first byte (median of 5)',
      value: median(wake),
      unit: 'ms',
      note: `fake VibeVoice alone: ${median(alone).toFixed(0)} ms`,
    });
    rows.push({
      name: 'wake on use: added by the core',
      value: overhead,
      unit: 'ms',
      goal: '≤ 100 ms',
      pass: overhead <= 100,
    });
    for (const a of Object.values(agents)) a.destroy();
  } finally {
    await relay?.stop();
    await h.stop();
  }
  rows.push(...(await inProcess()));
  return rows;
}
