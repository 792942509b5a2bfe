// `npm run setup`: the setup view's steps from a terminal, for a headless server (a Linux GPU box
// over SSH). It drives the running server's own API (the same steps, state and resume as the
// dashboard), so there is one implementation; it installs only the steps named on the command line.
// Usage: npm run setup -- [--data-dir DIR] [--port N] [ollama|piper|vibevoice|all]...
// Exit: 0 = every named step finished (or, with none named, the status was printed); 1 = a step
// failed or was cancelled; 2 = bad arguments or no server to talk to.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SetupView, StepView } from './core/contract.js';

const STEPS = ['ollama', 'piper', 'vibevoice'] as const;
const USAGE = `Usage: npm run setup -- [--data-dir DIR] [--port N] [ollama|piper|vibevoice|all]...
  With no step: shows the chosen model tier, each step's state, and the dashboard address.
  With steps: runs them (installing into the data folder), with progress; Ctrl-C cancels, and
  running it again resumes where it stopped. The server must be running (npm run headless).`;

/** As main/headless.ts (importing it would start a server). */
function defaultDataDir(env = process.env): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'unamentis-server');
}

function bar(received: number, total: number | null): string {
  if (!total) return `${(received / 1e6).toFixed(1)} MB`;
  const pct = Math.min(100, Math.floor((received / total) * 100));
  return `[${'#'.repeat(Math.floor(pct / 5)).padEnd(20, '.')}] ${pct}% of ${(total / 1e6).toFixed(1)} MB`;
}

function line(s: StepView): string {
  const state = s.ready ? 'ready' : s.missing && s.state === 'todo' ? 'not installed' : s.state;
  return `  ${s.name.padEnd(10)} ${state}${s.optional ? ` (${s.optional})` : ''}`;
}

async function main(): Promise<number> {
  let values: { 'data-dir'?: string; port?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const wanted = positionals.flatMap((p) => (p === 'all' ? [...STEPS] : [p]));
  const bad = wanted.filter((p) => !(STEPS as readonly string[]).includes(p));
  if (bad.length) {
    console.error(`Unknown step: ${bad.join(', ')}.\n\n${USAGE}`);
    return 2;
  }
  const dataDir = path.resolve(
    values['data-dir'] ?? process.env.UNAMENTIS_DATA_DIR ?? defaultDataDir(),
  );
  let token: string;
  let port = Number(values.port ?? process.env.UNAMENTIS_PORT ?? NaN);
  try {
    token = fs.readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
    if (!Number.isInteger(port)) {
      const s = JSON.parse(fs.readFileSync(path.join(dataDir, 'settings.json'), 'utf8')) as {
        api?: { port?: number };
      };
      port = s.api?.port ?? 11400;
    }
  } catch {
    console.error(
      `No server has run with the data folder ${dataDir} yet. Start it first: npm run headless -- --data-dir ${dataDir}`,
    );
    return 2;
  }
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, p: string): Promise<SetupView> => {
    const res = await fetch(base + p, { method, headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as SetupView & { error?: { message: string } };
    if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
    return body;
  };

  let view: SetupView;
  try {
    view = await call('GET', '/api/setup');
  } catch (err) {
    console.error(
      `Cannot reach the server at ${base} (${(err as Error).message}). Start it first: npm run headless -- --data-dir ${dataDir}`,
    );
    return 2;
  }
  const t = view.tier;
  console.log(
    t
      ? `Model tier for ${t.gpu}: ${t.model}${t.vibevoice ? ' with VibeVoice' : ', with Piper as the voice'}`
      : 'The GPU has not been looked at yet.',
  );
  for (const w of t?.why ?? []) console.log(`  - ${w}`);
  console.log('Steps:');
  for (const s of view.steps) console.log(line(s));
  if (!wanted.length) {
    const todo = view.steps.filter((s) => !s.ready && !s.optional).map((s) => s.id);
    console.log(
      todo.length ? `\nTo set up: npm run setup -- ${todo.join(' ')}` : '\nEverything is set up.',
    );
    console.log(
      `Or in a browser: ${base}/ (the access token is in ${path.join(dataDir, 'token')})`,
    );
    printPhone(view);
    return 0;
  }

  let cancelled = false;
  process.on('SIGINT', () => {
    cancelled = true;
    console.log('\nCancelling (run it again to resume)…');
    for (const id of wanted) void call('POST', `/api/setup/${id}/cancel`).catch(() => {});
  });
  let failed = false;
  for (const id of wanted) {
    if (cancelled) break;
    view = await call('POST', `/api/setup/${id}/run`).catch(async (err: Error) => {
      if (/already/.test(err.message)) return call('GET', '/api/setup');
      throw err;
    });
    let last = '';
    for (;;) {
      const s = view.steps.find((x) => x.id === id)!;
      const now =
        s.state === 'running'
          ? `${s.name}: ${s.progress ? `${s.progress.label} ${bar(s.progress.received, s.progress.total)}` : s.phase}`
          : '';
      if (now && now !== last) {
        // A progress bar redraws in place on a terminal, a line at a time elsewhere.
        if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K${now}`);
        else if (now.split(' [')[0] !== last.split(' [')[0]) console.log(now);
        last = now;
      }
      if (s.state !== 'running') {
        if (process.stdout.isTTY && last) process.stdout.write('\n');
        if (s.state === 'done') console.log(`${s.name}: done${s.ready ? ', running' : ''}.`);
        else {
          failed = true;
          console.log(`${s.name}: ${s.state}. ${s.error ?? ''}`);
          if (s.manual) console.log(`  To do it by hand: ${s.manual}`);
        }
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
      view = await call('GET', '/api/setup');
    }
  }
  printPhone(view);
  return failed || cancelled ? 1 : 0;
}

function printPhone(v: SetupView): void {
  const p = v.phone;
  console.log(
    `\nOn the phone: UnaMentis → Settings → Self-Hosted Server → ${p.sharedName ?? p.addresses[0] ?? p.hostname}` +
      (p.model ? `; model ${p.model}` : ''),
  );
  console.log(
    p.seen
      ? `The phone has connected (${p.seen.from}, ${p.seen.at}).`
      : 'The phone has not connected yet.',
  );
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
