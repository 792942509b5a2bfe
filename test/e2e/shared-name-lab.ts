// The phone's resolver for the pair's shared name: python3-zeroconf (an independent mDNS stack), used
// the way the iPhone's resolver is used by the app: before each request, look the name up; a record in
// the cache (not expired) answers at once, otherwise a query goes out and the first answer is taken.
// When the cache holds two addresses (the new holder's cache-flush announcement marks the old one to
// expire 1 s later, RFC 6762 §10.2), the one that lives longest is used (the old one is going away;
// zeroconf also restamps its creation time when it marks it, so "newest" would pick the old one).

import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../helpers/netns.js';
import { PY } from './mdns-lab.js';

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
