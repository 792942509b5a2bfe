// Shared by the mDNS interop test and bench: the phone (python3-zeroconf) and servers in a netns lab.

import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../helpers/netns.js';
import {
  repoRoot,
  startHeadless,
  tempDir,
  type Headless,
  type StartOptions,
} from '../helpers/headless.js';

export const PY = '/usr/bin/python3';
export const BROWSER = path.join(repoRoot, 'test/fixtures/zeroconf_browser.py');
export const HOSTILE = path.join(repoRoot, 'test/fixtures/mdns_hostile.py');
export const TXT_KEYS = [
  'v',
  'id',
  'role',
  'prio',
  'serving',
  'state',
  'llm',
  'tts',
  'tts2',
  'stt',
  'pair',
];

export interface BrowserEvent {
  event: 'ready' | 'add' | 'update' | 'remove' | 'error';
  t: number;
  instance?: string;
  port?: number;
  addresses?: string[];
  txt?: Record<string, string | null>;
  message?: string;
}

/** The phone: python3-zeroconf in its namespace, its events collected as they arrive. */
export class PhoneBrowser {
  readonly events: BrowserEvent[] = [];
  #buf = '';
  #err = '';
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      this.#buf += d.toString();
      let i: number;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 1);
        if (line.trim()) this.events.push(JSON.parse(line) as BrowserEvent);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.#err += d.toString()));
  }

  static start(lab: Lab, host: string): PhoneBrowser {
    return new PhoneBrowser(lab.spawn(host, [PY, BROWSER, '--interface', lab.host(host).address]));
  }

  /** Resolves with the first event (at index ≥ `from`) matching, or rejects after `ms`. */
  async waitFor(pred: (e: BrowserEvent) => boolean, ms = 10_000, from = 0): Promise<BrowserEvent> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.events.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > end) {
        throw new Error(
          `browser event not seen in ${ms} ms; events:\n${this.events.map((e) => JSON.stringify(e)).join('\n')}\nstderr: ${this.#err}`,
        );
      }
      if (this.child.exitCode !== null)
        throw new Error(`browser exited ${this.child.exitCode}: ${this.#err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** A headless server inside a lab host's namespace, announcing on the lab LAN. */
export async function startInLab(
  lab: Lab,
  host: string,
  settings: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
  entry?: StartOptions['entry'],
): Promise<Headless & { address: string }> {
  const h = await startHeadless({
    ...(entry ? { entry } : {}),
    prefix: lab.host(host).prefix,
    dataDir: tempDir('unamentis-mdns-'),
    settings,
    // `*`: use the settings (all up, non-loopback interfaces: the namespace's eth0, a veth).
    env: { UNAMENTIS_MDNS_INTERFACES: '*', UNAMENTIS_LOG_LEVEL: 'info', ...env },
  });
  return Object.assign(h, { address: lab.host(host).address });
}

export function hostId(h: Headless): string {
  return (
    JSON.parse(fs.readFileSync(path.join(h.dataDir, 'settings.json'), 'utf8')) as { hostId: string }
  ).hostId;
}

export interface Status {
  host: { advertisedName?: string; name: string };
  peers: { id: string; name: string; ready?: boolean }[];
  notices: { code: string; message: string }[];
}

export async function status(lab: Lab, host: string, h: Headless): Promise<Status> {
  const r = await lab.fetch(host, `http://127.0.0.1:${h.port}/api/status`);
  return r.body as Status;
}

export async function until<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not true within ${ms} ms; last: ${JSON.stringify(last)}`);
}
