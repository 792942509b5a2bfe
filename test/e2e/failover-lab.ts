// Shared by the failover e2e test and bench: a mac (primary), a pc (fallback), a phone (the
// independent python3-zeroconf browser) and an attacker, in network namespaces. Reuses the netns
// helper and the mDNS lab's phone browser and server start-up.

import fs from 'node:fs';
import path from 'node:path';
import type { Lab } from '../helpers/netns.js';
import { startHeadless, type Headless } from '../helpers/headless.js';
import { PhoneBrowser, PY } from './mdns-lab.js';

export { PY };

export const NO_SERVICES = {
  ollama: { enabled: false },
  vibevoice: { enabled: false },
  piper: { enabled: false },
  whisper: { enabled: false },
};

export interface Timing {
  heartbeatIntervalMs: number;
  failbackHoldDownSeconds: number;
  sessionIdleSeconds: number;
}

export type LabServer = Headless & { address: string; labHost: string };

/** A headless server in a lab host, announcing on the lab LAN. Reuses `dataDir` for a restart. */
export async function startServer(
  lab: Lab,
  host: string,
  opts: { name: string; role: 'primary' | 'fallback'; timing: Timing; dataDir?: string },
): Promise<LabServer> {
  const fresh = !opts.dataDir;
  // After a kill -9 the old server may linger a moment as a zombie still holding the data dir lock.
  for (let attempt = 0; ; attempt++) {
    try {
      return await startOnce(lab, host, opts, fresh);
    } catch (err) {
      if (attempt >= 20 || !/already using/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function startOnce(
  lab: Lab,
  host: string,
  opts: { name: string; role: 'primary' | 'fallback'; timing: Timing; dataDir?: string },
  fresh: boolean,
): Promise<LabServer> {
  const h = await startHeadless({
    prefix: lab.host(host).prefix,
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    // A restart keeps the settings it has (the pair's key is in them).
    ...(fresh
      ? {
          settings: {
            displayName: opts.name,
            role: opts.role,
            services: NO_SERVICES,
            models: { preload: [] },
            pairing: { ...opts.timing },
          },
        }
      : {}),
    env: { UNAMENTIS_MDNS_INTERFACES: '*', UNAMENTIS_LOG_LEVEL: 'info' },
  });
  return Object.assign(h, { address: lab.host(host).address, labHost: host });
}

export function hostIdOf(h: Headless): string {
  return (
    JSON.parse(fs.readFileSync(path.join(h.dataDir, 'settings.json'), 'utf8')) as { hostId: string }
  ).hostId;
}

/** An API call made from inside the server's own namespace (loopback), with its token. */
export async function api(
  lab: Lab,
  h: LabServer,
  method: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  return lab.fetch(h.labHost, `http://127.0.0.1:${h.port}${p}`, {
    method,
    headers: {
      authorization: `Bearer ${h.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

export interface PairingView {
  incoming: { code: string } | null;
  lockedForSeconds: number;
  servingId: string | null;
  reason: string;
  heartbeats: Record<string, number>;
  peers: { id: string; alive: boolean }[];
}

export async function pairingOf(lab: Lab, h: LabServer): Promise<PairingView> {
  const r = await api(lab, h, 'GET', '/api/pairing');
  if (r.status !== 200) throw new Error(`GET /api/pairing: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as PairingView;
}

/** Pairs `a` with `b` the way a user does: pick `b` among a's discovered hosts, type b's code on a. */
export async function pairViaDiscovery(lab: Lab, a: LabServer, b: LabServer): Promise<void> {
  const bId = hostIdOf(b);
  const end = Date.now() + 15_000;
  for (;;) {
    const s = (await lab.fetch(a.labHost, `http://127.0.0.1:${a.port}/api/status`)).body as {
      peers: { id: string; paired?: boolean }[];
    };
    if (s.peers.some((p) => p.id === bId && p.paired === false)) break;
    if (Date.now() > end)
      throw new Error(`${a.labHost} never discovered ${b.labHost}: ${JSON.stringify(s.peers)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const start = await api(lab, a, 'POST', '/api/pairing/start', { id: bId });
  if (start.status !== 202)
    throw new Error(`pairing start: ${start.status} ${JSON.stringify(start.body)}`);
  const code = (await pairingOf(lab, b)).incoming?.code;
  if (!code) throw new Error('no code shown on the other host');
  const done = await api(lab, a, 'POST', '/api/pairing/confirm', { code });
  if (done.status !== 200)
    throw new Error(`pairing confirm: ${done.status} ${JSON.stringify(done.body)}`);
}

/**
 * The phone: python3-zeroconf (an independent mDNS stack) that reports every TXT record it receives
 * for `_unamentis._tcp`, in arrival order; the latest one is what it acts on. Its ServiceBrowser runs
 * too (it queries, like a phone with the app open), but its `Updated` events are not used: after two
 * TXT values arrive within one second of each other, RFC 6762 §10.2 keeps both in the cache, and a later
 * change back to a value still cached is only a TTL refresh to the browser, with no event (measured:
 * the fixture's ServiceBrowser missed every serving flip after the first). The record listener sees
 * every announcement as it arrives (cache expiries, which zeroconf also reports to listeners, are
 * skipped: a superseded TXT expiring is not news).
 */
export const PHONE_PY = `
import json, signal, sys, threading, time
from zeroconf import IPVersion, RecordUpdateListener, ServiceBrowser, Zeroconf
TYPE = '_unamentis._tcp.local.'
lock = threading.Lock()
def emit(o):
    o.setdefault('t', int(time.time() * 1000))
    with lock:
        sys.stdout.write(json.dumps(o) + '\\n')
        sys.stdout.flush()
def parse(text):
    out, i = {}, 0
    while i < len(text):
        n = text[i]
        k, _, v = text[i + 1:i + 1 + n].partition(b'=')
        i += 1 + n
        out.setdefault(k.decode('utf-8', 'replace').lower(), v.decode('utf-8', 'replace'))
    return out
class Txt(RecordUpdateListener):
    def async_update_records(self, zc, now, records):
        for u in records:
            r = u.new
            if r.type != 16 or not r.name.lower().endswith(TYPE.lower()):
                continue
            if u.old is r:
                continue  # the cache expiring a record it held (e.g. a superseded TXT), not a packet
            inst = r.name[:-len(TYPE) - 1]
            if r.ttl == 0 or r.is_expired(now):
                emit({'event': 'remove', 'instance': inst})
            else:
                emit({'event': 'update', 'instance': inst, 'txt': parse(r.text)})
    def async_update_records_complete(self):
        pass
zc = Zeroconf(interfaces=[sys.argv[1]], ip_version=IPVersion.V4Only)
zc.add_listener(Txt(), None)
browser = ServiceBrowser(zc, TYPE, handlers=[lambda **kw: None])
emit({'event': 'ready'})
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
stop.wait()
browser.cancel()
zc.close()
`;

export function startPhone(lab: Lab, host = 'phone'): PhoneBrowser {
  return new PhoneBrowser(lab.spawn(host, [PY, '-c', PHONE_PY, lab.host(host).address]));
}

/** The phone's current view: instance → TXT (from its add/update/remove events). */
export function phoneView(phone: PhoneBrowser): Map<string, Record<string, string | null>> {
  const view = new Map<string, Record<string, string | null>>();
  for (const e of phone.events) {
    if ((e.event === 'add' || e.event === 'update') && e.instance && e.txt)
      view.set(e.instance, e.txt);
    else if (e.event === 'remove' && e.instance) view.delete(e.instance);
  }
  return view;
}

/** Which instances the phone sees with serving=1 now. */
export function phoneServing(phone: PhoneBrowser): string[] {
  return [...phoneView(phone)]
    .filter(([, txt]) => txt.serving === '1')
    .map(([name]) => name)
    .sort();
}

/**
 * Waits until the phone's latest TXT of each named instance has the wanted `serving` value; resolves
 * with the wall time (ms, the browser's clock) of the event that completed it. Only the named
 * instances count: after a kill -9 the dead host's last record stays in the phone's cache (no
 * goodbye), just as it would on an iPhone until its TTL runs out.
 */
export async function phoneSees(
  phone: PhoneBrowser,
  want: Record<string, '0' | '1'>,
  ms = 15_000,
): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    const view = phoneView(phone);
    if (Object.entries(want).every(([name, v]) => view.get(name)?.serving === v)) {
      const names = Object.keys(want);
      return (
        phone.events.filter((e) => e.instance && names.includes(e.instance)).at(-1)?.t ?? Date.now()
      );
    }
    if (Date.now() > end) {
      const seen = Object.fromEntries(
        Object.keys(want).map((n) => [n, view.get(n)?.serving ?? 'absent']),
      );
      throw new Error(
        `phone did not see ${JSON.stringify(want)} within ${ms} ms; it sees ${JSON.stringify(seen)}; last events:\n${phone.events
          .slice(-8)
          .map((e) => JSON.stringify(e))
          .join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function until<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what}: not true within ${ms} ms; last: ${JSON.stringify(last)}`);
}

/**
 * The attacker's sniffer: the lab switch floods every frame (a hub, like shared Wi-Fi), the
 * attacker's interface is promiscuous, and an AF_PACKET socket keeps the UDP payloads sent to
 * `dst:port` that look like heartbeats. Prints each as hex on a line.
 */
export const SNIFF_PY = `
import socket, struct, sys
dst, port, count, iface = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
s.bind((iface, 0))
s.settimeout(20)
got = 0
while got < count:
    f = s.recv(65535)
    ip = f[14:]
    if len(ip) < 28 or ip[9] != 17: continue
    ihl = (ip[0] & 15) * 4
    if socket.inet_ntoa(ip[16:20]) != dst: continue
    udp = ip[ihl:]
    if struct.unpack('!H', udp[2:4])[0] != port: continue
    payload = udp[8:]
    if not payload.startswith(b'UMHB1'): continue
    print(payload.hex(), flush=True)
    got += 1
`;

/** Sends hex datagrams (one per argv item) to dst:port, `rounds` times, `gap` seconds apart. */
export const SEND_PY = `
import socket, sys, time
dst, port, rounds, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
data = [bytes.fromhex(h) for h in sys.argv[5:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(rounds):
    for d in data: s.sendto(d, (dst, port))
    time.sleep(gap)
`;
