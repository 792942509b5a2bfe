// Starts a real headless server (`tsx main/headless.ts`, or the compiled `dist/main/headless.js`) in a
// temp data dir on a free port, as a child process, and waits for /health. Several can run side by side.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsxCli = path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');

export interface Headless {
  url: string;
  port: number;
  dataDir: string;
  token: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM, then wait for exit (SIGKILL after `ms`). */
  stop(ms?: number): Promise<number | null>;
}

export function tempDir(prefix = 'unamentis-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * The node flags in a script's `#!/usr/bin/env -S node …` line (the V8 heap flags the installed
 * command runs with), so a process started as `node <file>` runs the way the shipped program does.
 */
export function shebangFlags(file: string): string[] {
  const first = fs.readFileSync(file, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node((?:\s+\S+)*)\s*$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

export interface StartOptions {
  dataDir?: string;
  /** Written to settings.json before start (merged over defaults by the server). */
  settings?: Record<string, unknown>;
  /**
   * Extra environment. mDNS stays on loopback unless this sets UNAMENTIS_MDNS_INTERFACES (e.g. `*` =
   * use the settings, as in a network-namespace test): a test must never announce on the machine's LAN.
   */
  env?: NodeJS.ProcessEnv;
  bind?: string;
  /** Run the command under a prefix, e.g. ['ip', 'netns', 'exec', 'ns1']. */
  prefix?: string[];
  timeoutMs?: number;
  /**
   * 'dist': run the compiled core as it ships (build first), with its shebang's node flags, e.g. to
   * measure what ships.
   * `{ command }`: an installed `unamentis-server` (bench/installed.ts), run as an admin runs it.
   */
  entry?: 'source' | 'dist' | { command: string };
  /** With `entry: 'dist'`: node's flags instead of the shebang's (a bench comparing settings). */
  nodeFlags?: string[];
}

export async function startHeadless(opts: StartOptions = {}): Promise<Headless> {
  const dataDir = opts.dataDir ?? tempDir();
  if (opts.settings)
    fs.writeFileSync(path.join(dataDir, 'settings.json'), JSON.stringify(opts.settings));
  const entry = opts.entry ?? 'source';
  const dist = path.join(repoRoot, 'dist/main/headless.js');
  const main =
    typeof entry === 'object'
      ? [entry.command]
      : entry === 'dist'
        ? [process.execPath, ...(opts.nodeFlags ?? shebangFlags(dist)), dist]
        : [process.execPath, tsxCli, path.join(repoRoot, 'main/headless.ts')];
  const args = [...main, '--data-dir', dataDir, '--port', '0'];
  if (opts.bind) args.push('--bind', opts.bind);
  const [cmd, ...argv] = [...(opts.prefix ?? []), ...args];
  const env = { UNAMENTIS_MDNS_INTERFACES: 'lo', ...process.env, ...opts.env };
  const child = spawn(cmd!, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let url = '';
  while (Date.now() < deadline) {
    const m = /Dashboard: (http:\/\/[^/]+\/)#token=(\S+)/.exec(out);
    if (m) {
      url = m[1]!;
      break;
    }
    if (child.exitCode !== null) throw new Error(`headless exited with ${child.exitCode}:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!url) {
    child.kill('SIGKILL');
    throw new Error(`headless did not start in time:\n${out}`);
  }
  const token = fs.readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    token,
    child,
    output: () => out,
    async stop(ms = 10_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export async function getJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
