// The discovery capability against in-memory fakes: no sockets (a fake advertiser records what
// would be announced; a fake transport delivers packets as if from the LAN; /health is a function).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StateStore } from '../../main/core/state/store.js';
import { SettingsStore } from '../../main/core/settings/store.js';
import { CommandBus } from '../../main/core/commands.js';
import { EventHub } from '../../main/core/api/sse.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { systemClock } from '../../main/core/util/clock.js';
import type { CoreContext } from '../../main/core/context.js';
import type { ServiceEntry } from '../../main/core/contract.js';
import { createDiscovery, type Discovery } from '../../main/core/discovery/index.js';
import type { Advertiser, AdvertiseSpec } from '../../main/core/discovery/advertiser.js';
import type { Question, TransportHandlers } from '../../main/core/discovery/browser.js';
import type { NetInterface } from '../../main/core/discovery/interfaces.js';
import type { HostChange } from '../../main/core/discovery/host-table.js';
import type { TxtRecord } from '../../main/core/discovery/txt.js';
import type { NameSocketFactory } from '../../main/core/discovery/name-responder.js';

const TYPE = '_unamentis._tcp.local';
const PEER = '11111111-2222-4333-8444-555555555555';
const LO: NetInterface = {
  name: 'lo',
  up: true,
  addresses: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', internal: true }],
};

class FakeAdvertiser implements Advertiser {
  starts: AdvertiseSpec[] = [];
  updates: { txt: TxtRecord; at: number }[] = [];
  stops = 0;
  running = false;
  /** Set to make the next start rename (as ciao does on a conflict). */
  renameTo: string | null = null;
  failWith: Error | null = null;
  #listeners = new Set<(n: string) => void>();
  async start(spec: AdvertiseSpec): Promise<string> {
    this.starts.push(structuredClone(spec));
    await new Promise((r) => setTimeout(r, 20)); // probing
    if (this.failWith) throw this.failWith;
    this.running = true;
    if (this.renameTo) {
      for (const l of this.#listeners) l(this.renameTo);
      return this.renameTo;
    }
    return spec.name;
  }
  updateTxt(txt: TxtRecord): void {
    this.updates.push({ txt: { ...txt }, at: Date.now() });
  }
  async stop(): Promise<void> {
    this.stops++;
    this.running = false;
  }
  onNameChange(l: (n: string) => void) {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
}

interface Rig {
  ctx: CoreContext;
  discovery: Discovery;
  adv: FakeAdvertiser;
  made: FakeAdvertiser[];
  handlers: TransportHandlers[];
  queries: Question[][];
  closed: number;
  health: Map<string, { id: string; ready: boolean } | null>;
  deliver(records: unknown[], from?: string): void;
  /** What the shared name's sockets sent. */
  nameSent: { packet: Record<string, unknown>; to: unknown }[];
  nameDeliver(packet: Record<string, unknown>, from?: { address: string; port: number }): void;
}

const dirs: string[] = [];
const running: Discovery[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('quit');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function rig(
  opts: {
    interfaces?: NetInterface[];
    env?: NodeJS.ProcessEnv;
    settings?: Record<string, unknown>;
    advertiser?: FakeAdvertiser;
  } = {},
): Rig {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'discovery-unit-'));
  dirs.push(dataDir);
  if (opts.settings)
    fs.writeFileSync(path.join(dataDir, 'settings.json'), JSON.stringify(opts.settings));
  const { store: settings } = SettingsStore.open({
    dataDir,
    facts: { platform: 'darwin', hostname: 'Studio' },
  });
  const s = settings.get();
  const store = new StateStore({
    host: {
      id: s.hostId,
      name: s.displayName || 'Studio',
      platform: 'darwin',
      role: s.role,
      prio: 200,
      serving: true,
      port: 11400,
      pairId: null,
    },
    hibernation: { state: 'active', idleSeconds: 0, next: null },
    services: [],
    gpu: { sampledAt: null, gpus: [], models: [] },
    peers: [],
  });
  settings.onChange(({ next }) =>
    store.update('host', (h) => ({ ...h, name: next.displayName || 'Studio' })),
  );
  const ctx: CoreContext = {
    store,
    settings,
    commands: new CommandBus(),
    events: new EventHub(),
    logger: nullLogger,
    clock: systemClock,
    dataDir,
    isReady: () => true,
  };
  const made: FakeAdvertiser[] = [];
  const handlers: TransportHandlers[] = [];
  const queries: Question[][] = [];
  const health = new Map<string, { id: string; ready: boolean } | null>();
  const r: Rig = {
    ctx,
    adv: opts.advertiser ?? new FakeAdvertiser(),
    made,
    handlers,
    queries,
    closed: 0,
    health,
    discovery: null as unknown as Discovery,
    deliver(records, from = '127.0.0.1') {
      for (const h of handlers) h.response({ answers: records }, { address: from, port: 5353 });
    },
    nameSent: [],
    nameDeliver(packet, from = { address: '127.0.0.1', port: 5353 }) {
      for (const h of nameHandlers) h.packet(packet as never, from);
    },
  };
  const nameHandlers: Parameters<NameSocketFactory>[1][] = [];
  r.discovery = createDiscovery(ctx, {
    advertiser: () => {
      made.push(r.adv);
      return r.adv;
    },
    transport: (_iface, h) => {
      handlers.push(h);
      return {
        query: (q) => void queries.push(q),
        close: async () => {
          r.closed++;
        },
      };
    },
    health: async (url) => {
      const a = health.get(url);
      if (a === undefined) throw new Error('connection refused');
      return a;
    },
    nameSocket: (_iface, h) => {
      nameHandlers.push(h);
      return {
        send: (packet, to) =>
          void r.nameSent.push({
            packet: structuredClone(packet) as Record<string, unknown>,
            to: to ?? null,
          }),
        close: async () => {},
      };
    },
    readInterfaces: () => opts.interfaces ?? [LO],
    env: opts.env ?? { UNAMENTIS_MDNS_INTERFACES: 'lo' },
    healthIntervalMs: 100,
    staleMs: 600,
    tickMs: 50,
    retryMs: 100,
  });
  running.push(r.discovery);
  return r;
}

function announce(name: string, txt: Record<string, string>, port = 12000, ttl = 4500): unknown[] {
  const fqdn = `${name}.${TYPE}`;
  const host = `${name.replace(/\W/g, '-')}.local`;
  return [
    { name: TYPE, type: 'PTR', ttl, data: fqdn },
    { name: fqdn, type: 'SRV', ttl, data: { target: host, port } },
    {
      name: fqdn,
      type: 'TXT',
      ttl,
      data: Object.entries(txt).map(([k, v]) => Buffer.from(`${k}=${v}`)),
    },
    { name: host, type: 'A', ttl, data: '127.0.0.1' },
  ];
}

const PEER_TXT = { v: '1', id: PEER, role: 'fallback', prio: '100', serving: '0', state: 'cold' };

function svc(id: string, port: number): ServiceEntry {
  return {
    id,
    name: id,
    enabled: true,
    status: 'running',
    port,
    pid: 1,
    restarts: 0,
    uptimeSeconds: 1,
    health: { ok: true, latencyMs: 1 },
    lastError: null,
  };
}

describe('discovery: advertising', () => {
  it('announces the contract TXT on the chosen interfaces and shows the name', async () => {
    const r = rig();
    await r.discovery.start();
    await vi.waitFor(() => expect(r.adv.running).toBe(true));
    const id = r.ctx.store.get('host').id;
    expect(r.adv.starts).toEqual([
      {
        name: 'Studio',
        port: 11400,
        interfaces: ['lo'],
        ipv6: false,
        txt: { v: '1', id, role: 'primary', prio: '200', serving: '1', state: 'active' },
      },
    ]);
    await vi.waitFor(() => expect(r.ctx.store.get('host').advertisedName).toBe('Studio'));
    expect(r.discovery.advertisedName()).toBe('Studio');
    expect(r.discovery.interfaces()).toEqual(['lo']);
  });

  it('re-announces within 1 s of any TXT change: state, services, serving, pair', async () => {
    const r = rig();
    await r.discovery.start();
    await vi.waitFor(() => expect(r.adv.running).toBe(true));
    await new Promise((res) => setTimeout(res, 30));

    const t0 = Date.now();
    r.ctx.store.update('hibernation', (h) => ({ ...h, state: 'cool' }));
    await vi.waitFor(() => expect(r.adv.updates.at(-1)?.txt.state).toBe('cool'), {
      timeout: 1_000,
    });
    expect(r.adv.updates.at(-1)!.at - t0).toBeLessThan(1_000);

    r.ctx.store.set('services', [svc('ollama', 11434), svc('piper', 11402)]);
    await vi.waitFor(
      () => expect(r.adv.updates.at(-1)?.txt).toMatchObject({ llm: '11434', tts2: '11402' }),
      { timeout: 1_000 },
    );

    r.ctx.store.update('host', (h) => ({ ...h, serving: false }));
    await vi.waitFor(() => expect(r.adv.updates.at(-1)?.txt.serving).toBe('0'), { timeout: 1_000 });

    const s = r.ctx.settings.get();
    expect(r.ctx.settings.replace({ ...s, pairing: { ...s.pairing, pairId: 'pair-42' } }).ok).toBe(
      true,
    );
    await vi.waitFor(() => expect(r.adv.updates.at(-1)?.txt.pair).toBe('pair-42'), {
      timeout: 1_000,
    });

    // A change elsewhere in the snapshot is not a TXT change: nothing is re-announced.
    const n = r.adv.updates.length;
    r.ctx.store.set('gpu', { sampledAt: 'now', gpus: [], models: [] });
    await new Promise((res) => setTimeout(res, 50));
    expect(r.adv.updates).toHaveLength(n);
    expect(r.adv.starts).toHaveLength(1); // all of that without a goodbye/re-probe
    expect(r.discovery.txt()).toMatchObject({
      pair: 'pair-42',
      serving: '0',
      state: 'cool',
      llm: '11434',
    });
  });

  it('on a name conflict shows the chosen name (host.advertisedName) and raises an info notice', async () => {
    const adv = new FakeAdvertiser();
    adv.renameTo = 'Studio (2)';
    const r = rig({ advertiser: adv });
    await r.discovery.start();
    await vi.waitFor(() => expect(r.ctx.store.get('host').advertisedName).toBe('Studio (2)'));
    const notices = r.ctx.store.snapshot().notices.filter((n) => n.code === 'mdns_renamed');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ level: 'info' });
    expect(notices[0]!.message).toContain('"Studio (2)"');
  });

  it('sends goodbye when advertising is turned off, and announces again when turned on', async () => {
    const r = rig();
    await r.discovery.start();
    await vi.waitFor(() => expect(r.adv.running).toBe(true));
    const s = r.ctx.settings.get();
    r.ctx.settings.replace({ ...s, discovery: { ...s.discovery, advertise: false } });
    await vi.waitFor(() => expect(r.adv.stops).toBe(1));
    await vi.waitFor(() => expect(r.ctx.store.get('host').advertisedName).toBeUndefined());
    expect(r.discovery.advertisedName()).toBeNull();
    r.ctx.settings.replace({
      ...r.ctx.settings.get(),
      discovery: { ...s.discovery, advertise: true },
    });
    await vi.waitFor(() => expect(r.adv.starts).toHaveLength(2));
    await vi.waitFor(() => expect(r.adv.running).toBe(true));
  });

  it.each(['quit', 'suspend'] as const)(
    'sends goodbye and closes its sockets on stop(%s)',
    async (reason) => {
      const r = rig();
      await r.discovery.start();
      await vi.waitFor(() => expect(r.adv.running).toBe(true));
      await r.discovery.stop(reason);
      expect(r.adv.stops).toBe(1);
      expect(r.closed).toBe(1);
      expect(r.ctx.store.get('host').advertisedName).toBeUndefined();
      // A stop during probing still ends with a goodbye.
      const r2 = rig();
      await r2.discovery.start();
      await r2.discovery.stop(reason);
      expect(r2.adv.stops).toBe(1);
    },
  );

  it('re-announces under the new name when the display name changes', async () => {
    const r = rig();
    await r.discovery.start();
    await vi.waitFor(() => expect(r.adv.running).toBe(true));
    r.ctx.settings.replace({ ...r.ctx.settings.get(), displayName: 'Gaming PC' });
    await vi.waitFor(() =>
      expect(r.adv.starts.map((s) => s.name)).toEqual(['Studio', 'Gaming PC']),
    );
    expect(r.adv.stops).toBe(1);
    await vi.waitFor(() => expect(r.ctx.store.get('host').advertisedName).toBe('Gaming PC'));
  });

  it('follows discovery.interfaces: a change re-announces (goodbye first) on the new interfaces only', async () => {
    const eth9: NetInterface = {
      name: 'eth9',
      up: true,
      addresses: [
        { address: '10.9.9.2', netmask: '255.255.255.0', family: 'IPv4', internal: false },
      ],
    };
    const docker: NetInterface = {
      name: 'docker0',
      up: true,
      addresses: [
        { address: '172.17.0.1', netmask: '255.255.0.0', family: 'IPv4', internal: false },
      ],
    };
    const r = rig({
      env: {},
      interfaces: [LO, eth9, docker],
      settings: { discovery: { advertise: true, interfaces: ['lo'] } },
    });
    await r.discovery.start();
    await vi.waitFor(() => expect(r.adv.running).toBe(true));
    expect(r.adv.starts[0]!.interfaces).toEqual(['lo']);
    r.ctx.settings.update({ discovery: { interfaces: [] } }); // all: not loopback, not docker0
    await vi.waitFor(() => expect(r.adv.starts).toHaveLength(2));
    expect(r.adv.stops).toBe(1);
    expect(r.adv.starts[1]!.interfaces).toEqual(['eth9']);
    expect(r.discovery.interfaces()).toEqual(['eth9']);
    expect(r.handlers).toHaveLength(2); // the browser moved too
    expect(r.closed).toBe(1);
  });

  it('does not announce anywhere when no allowed interface can be used, and says why', async () => {
    const r = rig({ env: {}, settings: { discovery: { advertise: true, interfaces: ['wlan7'] } } });
    await r.discovery.start();
    await vi.waitFor(() =>
      expect(r.ctx.store.snapshot().notices.map((n) => n.code)).toContain('mdns_no_interface'),
    );
    expect(r.adv.starts).toEqual([]);
    const msg = r.ctx.store.snapshot().notices.find((n) => n.code === 'mdns_no_interface')!.message;
    expect(msg).toContain('wlan7 (no such interface on this machine)');
  });

  it('reports a failed announcement and retries', async () => {
    const adv = new FakeAdvertiser();
    adv.failWith = new Error('EADDRINUSE 5353');
    const r = rig({ advertiser: adv });
    await r.discovery.start();
    await vi.waitFor(() =>
      expect(r.ctx.store.snapshot().notices.map((n) => n.code)).toContain('mdns_failed'),
    );
    adv.failWith = null;
    await vi.waitFor(() => expect(adv.running).toBe(true), { timeout: 2_000 });
    expect(adv.starts.length).toBeGreaterThanOrEqual(2);
  });
});

describe('discovery: browsing', () => {
  it('lists another host with its TXT, confirms it with /health, and puts it in peers (interim)', async () => {
    const r = rig();
    const seen: HostChange['type'][] = [];
    r.discovery.onChange((c) => seen.push(c.type));
    await r.discovery.start();
    r.health.set('http://127.0.0.1:12000/health', { id: PEER, ready: true });
    r.deliver(announce('Gaming PC', { ...PEER_TXT, llm: '11434' }));
    expect(r.discovery.list()).toMatchObject([
      {
        id: PEER,
        name: 'Gaming PC',
        port: 12000,
        addresses: ['127.0.0.1'],
        txt: { ports: { llm: 11434 } },
      },
    ]);
    await vi.waitFor(() => expect(r.discovery.hosts[0]?.health.ok).toBe(true));
    await vi.waitFor(() =>
      expect(r.ctx.store.get('peers')).toEqual([
        {
          id: PEER,
          name: 'Gaming PC',
          role: 'fallback',
          prio: 100,
          serving: false,
          state: 'cold',
          lastSeenSeconds: 0,
          ready: true,
          addresses: ['127.0.0.1'],
          port: 12000,
        },
      ]),
    );
    expect(seen.slice(0, 2)).toEqual(['up', 'update']);
    expect(r.queries[0]).toEqual([{ name: TYPE, type: 'PTR' }]);
  });

  it('drops a host that stops answering within a few seconds, after re-querying it', async () => {
    const r = rig();
    await r.discovery.start();
    r.deliver(announce('Gaming PC', PEER_TXT)); // no /health answer registered: every check fails
    expect(r.discovery.list()).toHaveLength(1);
    await vi.waitFor(() =>
      expect(r.queries.flat()).toContainEqual({ name: `gaming pc.${TYPE}`, type: 'SRV' }),
    );
    await vi.waitFor(() => expect(r.discovery.list()).toEqual([]), { timeout: 2_000 });
    expect(r.ctx.store.get('peers')).toEqual([]);
  });

  it('removes a host on its goodbye', async () => {
    const r = rig();
    await r.discovery.start();
    r.deliver(announce('Gaming PC', PEER_TXT));
    r.deliver(announce('Gaming PC', PEER_TXT, 12000, 0));
    expect(r.discovery.list()).toEqual([]);
  });

  it('ignores and counts hostile input: bad TXT, our own id, foreign subnets, undecodable packets', async () => {
    const r = rig();
    await r.discovery.start();
    await vi.waitFor(() => expect(r.adv.running).toBe(true));
    const ourId = r.ctx.store.get('host').id;
    r.deliver(announce('Studio', { ...PEER_TXT, id: ourId })); // our own announcement, looped back
    r.deliver(announce('Impostor', { ...PEER_TXT, id: ourId }));
    r.deliver(
      announce('Huge', {
        ...PEER_TXT,
        junk: 'x'.repeat(250),
        junk2: 'x'.repeat(250),
        junk3: 'x'.repeat(250),
        junk4: 'x'.repeat(250),
        junk5: 'x'.repeat(250),
        junk6: 'x'.repeat(250),
      }),
    );
    r.deliver([
      {
        name: `Bad.${TYPE}`,
        type: 'TXT',
        ttl: 10,
        data: [Buffer.from('v=1'), Buffer.from([0x69, 0x64, 0x3d, 0xff])],
      },
      { name: `Bad.${TYPE}`, type: 'SRV', ttl: 10, data: { target: 'b.local', port: 1 } },
    ]);
    r.deliver(announce('Far', PEER_TXT), '192.0.2.1');
    for (const h of r.handlers) h.warning(new Error('Cannot decode name (buffer overflow)'));
    r.deliver([null, 'garbage', { name: TYPE, type: 'PTR', ttl: 1, data: 7 }]);
    expect(r.discovery.list()).toEqual([]);
    expect(r.discovery.counters()).toMatchObject({
      claimsOurId: 1,
      oversized: 1,
      nonUtf8: 1,
      foreignSource: 1,
      malformedPacket: 1,
      badRecord: 3,
    });
    // The id clash is worth telling the user about (a copied settings folder); the rest only counts.
    await vi.waitFor(
      () => expect(r.ctx.store.snapshot().notices.map((n) => n.code)).toEqual(['mdns_id_conflict']),
      { timeout: 3_000 },
    );
    // Still alive and working after all that.
    r.deliver(announce('Gaming PC', PEER_TXT));
    expect(r.discovery.list().map((h) => h.name)).toEqual(['Gaming PC']);
  });
});

describe('discovery: the shared name', () => {
  const aRecords = (p: Record<string, unknown>) =>
    (
      (p.answers as
        { name: string; type: string; ttl: number; data: string; flush?: boolean }[] | undefined) ??
      []
    ).filter((a) => a.type === 'A');

  it('the serving host probes, then announces unamentis.local with its address and the cache-flush bit; no AAAA by default', async () => {
    const r = rig();
    await r.discovery.start();
    await vi.waitFor(() => expect(r.ctx.store.get('host').sharedName?.held).toBe(true), {
      timeout: 3_000,
    });
    const kinds = r.nameSent.map(({ packet }) =>
      packet.type === 'query' ? 'probe' : aRecords(packet)[0]?.ttl === 0 ? 'goodbye' : 'announce',
    );
    expect(kinds.slice(0, 4)).toEqual(['probe', 'probe', 'probe', 'announce']);
    const ann = r.nameSent[3]!.packet;
    expect(aRecords(ann)).toEqual([
      { name: 'unamentis.local', type: 'A', class: 'IN', ttl: 120, flush: true, data: '127.0.0.1' },
    ]);
    expect((ann.answers as { type: string }[]).some((a) => a.type === 'AAAA')).toBe(false);
    expect((ann.additionals as { type: string; data: { rrtypes: string[] } }[])[0]).toMatchObject({
      type: 'NSEC',
      data: { rrtypes: ['A'] },
    });
    expect(r.ctx.store.get('host').sharedName).toEqual({
      name: 'unamentis.local',
      held: true,
      conflict: null,
    });
    expect(r.ctx.store.get('host').addresses).toEqual(['127.0.0.1']);
  });

  it('answers a query for the name; stops serving → goodbye (TTL 0) and silence', async () => {
    const r = rig();
    await r.discovery.start();
    await vi.waitFor(() => expect(r.ctx.store.get('host').sharedName?.held).toBe(true), {
      timeout: 3_000,
    });
    const before = r.nameSent.length;
    r.nameDeliver(
      { type: 'query', id: 9, questions: [{ name: 'unamentis.local', type: 'A' }], answers: [] },
      { address: '127.0.0.1', port: 40000 },
    );
    expect(r.nameSent.length).toBe(before + 1);
    expect(r.nameSent.at(-1)!.to).toEqual({ address: '127.0.0.1', port: 40000 });
    expect(r.nameSent.at(-1)!.packet.id).toBe(9);
    r.ctx.store.update('host', (h) => ({ ...h, serving: false }));
    await vi.waitFor(() => expect(r.ctx.store.get('host').sharedName?.held).toBe(false));
    expect(aRecords(r.nameSent.at(-1)!.packet)[0]?.ttl).toBe(0);
    const n = r.nameSent.length;
    r.nameDeliver({
      type: 'query',
      id: 10,
      questions: [{ name: 'unamentis.local', type: 'A' }],
      answers: [],
    });
    expect(r.nameSent.length).toBe(n);
  });

  it('a stranger answering for the name raises a warning notice and shows the conflict', async () => {
    const r = rig({
      interfaces: [
        {
          name: 'eth0',
          up: true,
          addresses: [
            { address: '10.1.0.2', netmask: '255.255.255.0', family: 'IPv4', internal: false },
          ],
        },
      ],
      env: { UNAMENTIS_MDNS_INTERFACES: 'eth0' },
    });
    await r.discovery.start();
    await vi.waitFor(() => expect(r.ctx.store.get('host').sharedName?.held).toBe(true), {
      timeout: 3_000,
    });
    r.nameDeliver(
      {
        type: 'response',
        answers: [{ name: 'unamentis.local', type: 'A', ttl: 120, data: '10.1.0.77' }],
      },
      { address: '10.1.0.77', port: 5353 },
    );
    await vi.waitFor(() => expect(r.ctx.store.get('host').sharedName?.conflict).toBe('10.1.0.77'));
    expect(r.ctx.store.get('host').sharedName?.held).toBe(false);
    expect(r.ctx.store.snapshot().notices.map((x) => x.code)).toContain(
      'mdns_shared_name_conflict',
    );
  });

  it('discovery.sharedName and discovery.ipv6 are followed (goodbye under the old name first)', async () => {
    const r = rig({ settings: { discovery: { sharedName: 'kitchen', ipv6: true } } });
    await r.discovery.start();
    await vi.waitFor(
      () =>
        expect(r.ctx.store.get('host').sharedName).toEqual({
          name: 'kitchen.local',
          held: true,
          conflict: null,
        }),
      { timeout: 3_000 },
    );
    expect(r.adv.starts[0]!.ipv6).toBe(true);
    r.ctx.settings.update({ discovery: { sharedName: 'attic' } });
    await vi.waitFor(() => expect(r.ctx.store.get('host').sharedName?.name).toBe('attic.local'));
    const bye = r.nameSent.find(({ packet }) =>
      aRecords(packet).some((a) => a.name === 'kitchen.local' && a.ttl === 0),
    );
    expect(bye).toBeDefined();
  });
});
