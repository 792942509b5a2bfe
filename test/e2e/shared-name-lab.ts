// The phone's resolver for the pair's shared name: python3-zeroconf (an independent mDNS stack), used
// the way the iPhone's resolver is used by the app: before each request, look the name up; a record in
// the cache (not expired) answers at once, otherwise a query goes out and the first answer is taken.
// When the cache holds two addresses (the new holder's cache-flush announcement marks the old one to
// expire 1 s later, RFC 6762 §10.2), the one that lives longest is used (the old one is going away;
// zeroconf also restamps its creation time when it marks it, so "newest" would pick the old one).

import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../helpers/netns.js';
import { PY } from './mdns-lab.js';
import { startHeadless } from '../helpers/headless.js';
import { fakeOllama } from '../integration/hibernation-fakes.js';
import type { LabServer, Timing } from './failover-lab.js';

export const RESOLVER_PY = `
import json, sys, time
from zeroconf import DNSOutgoing, DNSQuestion, IPVersion, Zeroconf, current_time_millis
from zeroconf.const import _CLASS_IN, _FLAGS_QR_QUERY, _TYPE_A
import socket
zc = Zeroconf(interfaces=[sys.argv[1]], ip_version=IPVersion.V4Only)
def cached(name):
    now = current_time_millis()
    recs = [r for r in zc.cache.get_all_by_details(name, _TYPE_A, _CLASS_IN) if not r.is_expired(now)]
    # Longest-lived first: a record flushed by another's cache-flush announcement has 1 s left.
    recs.sort(key=lambda r: -(r.created + r.ttl * 1000))
    return [socket.inet_ntoa(r.address) for r in recs]
def resolve(name, timeout):
    t0 = time.time()
    got = cached(name)
    if got:
        return got, 'cache', t0
    out = DNSOutgoing(_FLAGS_QR_QUERY)
    out.add_question(DNSQuestion(name, _TYPE_A, _CLASS_IN))
    zc.send(out)
    sent = time.time()
    while time.time() - t0 < timeout:
        got = cached(name)
        if got:
            return got, 'query', t0
        if time.time() - sent > 0.25:
            zc.send(out)
            sent = time.time()
        time.sleep(0.01)
    return [], 'none', t0
print(json.dumps({'event': 'ready'}), flush=True)
for line in sys.stdin:
    cmd = line.split()
    if not cmd:
        continue
    name = cmd[1] if len(cmd) > 1 else 'unamentis.local.'
    addrs, source, t0 = resolve(name, float(cmd[2]) if len(cmd) > 2 else 1.0)
    print(json.dumps({'event': 'resolved', 'addresses': addrs, 'source': source, 'ms': int((time.time() - t0) * 1000), 't': int(time.time() * 1000)}), flush=True)
zc.close()
`;

export interface Resolution {
  addresses: string[];
  source: 'cache' | 'query' | 'none';
  ms: number;
  t: number;
}

/** The phone's resolver, kept running (its cache is the phone's cache). */
export class PhoneResolver {
  #buf = '';
  #err = '';
  #waiting: ((line: Record<string, unknown>) => void)[] = [];
  #lines: Record<string, unknown>[] = [];
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      this.#buf += d.toString();
      let i: number;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(this.#buf.slice(0, i)) as Record<string, unknown>;
        this.#buf = this.#buf.slice(i + 1);
        const w = this.#waiting.shift();
        if (w) w(line);
        else this.#lines.push(line);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.#err += d.toString()));
  }

  static start(lab: Lab, host = 'phone'): PhoneResolver {
    return new PhoneResolver(
      lab.spawn(host, [PY, '-u', '-c', RESOLVER_PY, lab.host(host).address], {
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
  }

  #next(ms: number): Promise<Record<string, unknown>> {
    const queued = this.#lines.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`resolver silent for ${ms} ms; stderr: ${this.#err}`)),
        ms,
      );
      this.#waiting.push((l) => {
        clearTimeout(t);
        resolve(l);
      });
    });
  }

  async ready(): Promise<void> {
    await this.#next(15_000);
  }

  /** Looks the name up as the phone would before a request. */
  async resolve(name = 'unamentis.local.', timeoutS = 1): Promise<Resolution> {
    this.child.stdin!.write(`resolve ${name} ${timeoutS}\n`);
    return (await this.#next(timeoutS * 1000 + 5_000)) as unknown as Resolution;
  }

  stop(): void {
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
  }
}

/**
 * The phone with the app open: every `gap` seconds a streamed chat request (the app's own: POST
 * /v1/chat/completions, stream true) to the address it uses: `name` resolved before each request
 * through the same python3-zeroconf cache, or a fixed IP (a user who typed the PC's address). Each
 * request may take `timeout` seconds (connect included); one JSON line per request.
 */
export const APP_PY = `
import json, socket, sys, time, urllib.request
from zeroconf import DNSOutgoing, DNSQuestion, IPVersion, Zeroconf, current_time_millis
from zeroconf.const import _CLASS_IN, _FLAGS_QR_QUERY, _TYPE_A
iface, target, port, gap, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
zc = Zeroconf(interfaces=[iface], ip_version=IPVersion.V4Only) if target.endswith('.local.') else None
def resolve(name):
    t0 = time.time()
    out = None
    while time.time() - t0 < 1.0:
        now = current_time_millis()
        recs = [r for r in zc.cache.get_all_by_details(name, _TYPE_A, _CLASS_IN) if not r.is_expired(now)]
        if recs:
            recs.sort(key=lambda r: -(r.created + r.ttl * 1000))
            return socket.inet_ntoa(recs[0].address)
        if out is None or time.time() - sent > 0.25:
            out = DNSOutgoing(_FLAGS_QR_QUERY)
            out.add_question(DNSQuestion(name, _TYPE_A, _CLASS_IN))
            zc.send(out)
            sent = time.time()
        time.sleep(0.01)
    return None
body = json.dumps({'model': 'mistral:7b', 'messages': [{'role': 'user', 'content': 'hi'}], 'max_tokens': 1024, 'temperature': 0.7, 'stream': True}).encode()
print(json.dumps({'event': 'ready'}), flush=True)
while True:
    t0 = time.time()
    addr = resolve(target) if zc else target
    rec = {'event': 'request', 't': int(t0 * 1000), 'addr': addr}
    if addr is None:
        rec.update(ok=False, err='name not resolved')
    else:
        try:
            req = urllib.request.Request('http://%s:%d/v1/chat/completions' % (addr, port), data=body, headers={'content-type': 'application/json'})
            text, done = '', False
            with urllib.request.urlopen(req, timeout=timeout) as r:
                for line in r:
                    line = line.decode().strip()
                    if line == 'data: [DONE]':
                        done = True
                    elif line.startswith('data: '):
                        text += json.loads(line[6:])['choices'][0]['delta'].get('content') or ''
            rec.update(ok=done and len(text) > 0, status=200, text=text)
            if not done:
                rec['err'] = 'stream ended without [DONE]'
        except Exception as e:
            rec.update(ok=False, err=repr(e)[:200])
    rec['ms'] = int((time.time() - t0) * 1000)
    print(json.dumps(rec), flush=True)
    time.sleep(max(0, gap - (time.time() - t0)))
`;

export interface AppRequest {
  t: number;
  addr: string | null;
  ok: boolean;
  ms: number;
  err?: string;
}

/** The app's request loop in the phone's namespace; its results collected as they arrive. */
export class PhoneApp {
  readonly requests: AppRequest[] = [];
  #buf = '';
  #err = '';
  #ready: Promise<void>;
  constructor(readonly child: ChildProcess) {
    let ready!: () => void;
    this.#ready = new Promise((r) => (ready = r));
    child.stdout!.on('data', (d: Buffer) => {
      this.#buf += d.toString();
      let i: number;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(this.#buf.slice(0, i)) as { event: string } & AppRequest;
        this.#buf = this.#buf.slice(i + 1);
        if (line.event === 'ready') ready();
        else this.requests.push(line);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.#err += d.toString()));
  }

  static start(
    lab: Lab,
    target: string,
    port: number,
    host = 'phone',
    gapS = 0.5,
    timeoutS = 2,
  ): PhoneApp {
    return new PhoneApp(
      lab.spawn(host, [
        PY,
        '-u',
        '-c',
        APP_PY,
        lab.host(host).address,
        target,
        String(port),
        String(gapS),
        String(timeoutS),
      ]),
    );
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  stderr(): string {
    return this.#err;
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }

  /** Requests started at or after `t0`: failures, and when the first success after the last failure started. */
  since(t0: number): { all: AppRequest[]; failed: AppRequest[]; recoveredAt: number | null } {
    const all = this.requests.filter((r) => r.t >= t0);
    const failed = all.filter((r) => !r.ok);
    const lastFail = failed.at(-1);
    const after = lastFail ? all.find((r) => r.ok && r.t > lastFail.t) : all.find((r) => r.ok);
    return { all, failed, recoveredAt: after ? after.t + after.ms : null };
  }
}

/** The public LLM port (the app's fixed 11434). */
export const LLM = 11434;

/** A headless server in a lab host with the fake Ollama behind its front door on 11434. */
export async function startWithOllama(
  lab: Lab,
  host: string,
  name: string,
  role: 'primary' | 'fallback',
  timing: Timing,
  dataDir?: string,
): Promise<LabServer> {
  for (let attempt = 0; ; attempt++) {
    try {
      const h = await startHeadless({
        prefix: lab.host(host).prefix,
        ...(dataDir ? { dataDir } : {}),
        ...(dataDir
          ? {}
          : {
              settings: {
                displayName: name,
                role,
                models: { preload: [] },
                hibernation: { preventSleep: false },
                pairing: { ...timing },
                services: {
                  ollama: {
                    enabled: true,
                    command: process.execPath,
                    args: [fakeOllama, 'serve'],
                    port: LLM,
                  },
                  vibevoice: { enabled: false },
                  piper: { enabled: false },
                  whisper: { enabled: false },
                },
              },
            }),
        env: {
          UNAMENTIS_MDNS_INTERFACES: '*',
          UNAMENTIS_LOG_LEVEL: 'info',
          FAKE_TOKEN_DELAY_MS: '20',
        },
      });
      return Object.assign(h, { address: lab.host(host).address, labHost: host });
    } catch (err) {
      if (attempt >= 20 || !/already using/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
