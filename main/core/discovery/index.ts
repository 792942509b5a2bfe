// Discovery: announces this host as `_unamentis._tcp` (CONTRACT §1) and keeps the live list of the
// other UnaMentis hosts. The TXT record is a rendering of the snapshot: any change is re-announced
// at once (ciao sends it ~50 ms later); stop/quit/suspend and `discovery.advertise: false` send
// goodbyes; a name conflict renames per RFC 6762 §9 and the chosen name goes to `host.advertisedName`
// plus an info notice. See README.md beside this file for the library choice.

import type { CoreContext, StopReason } from '../context.js';
import type { Snapshot } from '../contract.js';
import type { Unsubscribe } from '../util/emitter.js';
import { ciaoAdvertiser, type Advertiser, type AdvertiserFactory } from './advertiser.js';
import { HostBrowser, type HealthCheck, type TransportFactory } from './browser.js';
import {
  chooseInterfaces,
  interfaceOverride,
  narrowToBind,
  readInterfaces,
  type InterfaceChoice,
  type NetInterface,
} from './interfaces.js';
import { ciaoGate } from './ciao.js';
import { toPeers } from './peers.js';
import { NameResponder, type NameSocketFactory } from './name-responder.js';
import { needsProbe, sharedFqdn } from './shared-name.js';
import { encodeTxt, instanceName, txtEqual, type TxtRecord } from './txt.js';
import type { Discovery } from './types.js';

export type { Discovery } from './types.js';

export interface DiscoveryOptions {
  advertiser?: AdvertiserFactory;
  transport?: TransportFactory;
  health?: HealthCheck;
  /** What the OS reports (tests pass a fixed list). */
  readInterfaces?: () => NetInterface[];
  env?: NodeJS.ProcessEnv;
  /** The control API's bind address: a specific one (loopback) narrows the interfaces (narrowToBind). */
  bind?: () => string;
  /**
   * Interim: write discovered hosts into the snapshot's `peers` (default true). The pairing capability
   * will own `peers`; it then passes false and merges `discovery.list()` with `toPeer()`.
   */
  publishPeers?: boolean;
  healthIntervalMs?: number;
  staleMs?: number;
  tickMs?: number;
  /** How often the interface list is re-read (default 10 s). */
  interfaceCheckMs?: number;
  /** Wait before retrying a failed announcement (default 15 s). */
  retryMs?: number;
  /** The shared name's sockets (tests pass fakes). */
  nameSocket?: NameSocketFactory;
}

interface Announced {
  advertiser: Advertiser;
  wanted: string;
  port: number;
  ifaceKey: string;
  ipv6: boolean;
  txt: TxtRecord;
  name: string | null;
  off: Unsubscribe;
}

export function createDiscovery(ctx: CoreContext, opts: DiscoveryOptions = {}): Discovery {
  const log = ctx.logger.child('discovery');
  const clock = ctx.clock;
  const makeAdvertiser = opts.advertiser ?? ciaoAdvertiser;
  const publishPeers = opts.publishPeers ?? true;

  let running = false;
  let choice: InterfaceChoice = { interfaces: [], unusable: [], source: 'all' };
  let browser: HostBrowser | null = null;
  let current: Announced | null = null;
  let chain: Promise<void> = Promise.resolve();
  let pending = false;
  let retryTimer: unknown = null;
  let ifaceTimer: unknown = null;
  let peersTimer: unknown = null;
  let lastProblem = '';
  let lastPort: number | undefined;
  let lastCounters = '';
  const advertisedNames = new Set<string>();
  const offs: Unsubscribe[] = [];
  const browserListeners = new Set<Parameters<Discovery['onChange']>[0]>();
  let names: NameResponder | null = null;
  let nameKey = '';
  let nameConflict: string | null = null;

  const ifaceKey = () => choice.interfaces.map((i) => `${i.name}=${i.ipv4}`).join(',');

  function choose(): InterfaceChoice {
    const override = interfaceOverride(opts.env ?? process.env);
    const all = (opts.readInterfaces ?? readInterfaces)();
    const chosen = override
      ? chooseInterfaces(all, override, 'env')
      : chooseInterfaces(all, ctx.settings.get().discovery.interfaces, 'settings');
    return opts.bind ? narrowToBind(chosen, all, opts.bind()) : chosen;
  }

  function desiredTxt(s: Snapshot = ctx.store.snapshot()): TxtRecord {
    return encodeTxt(s, ctx.settings.view());
  }

  /** A TXT change goes out at once, outside the chain: re-announcing must not wait behind a restart. */
  function pushTxt(s?: Snapshot): void {
    if (!current) return;
    const txt = desiredTxt(s);
    if (txtEqual(txt, current.txt)) return;
    current.txt = txt;
    current.advertiser.updateTxt(txt);
    log.debug('TXT re-announced', { txt });
  }

  function setAdvertisedName(name: string | null): void {
    ctx.store.update('host', (h) => {
      const { advertisedName: _old, ...rest } = h;
      return name === null ? rest : { ...rest, advertisedName: name };
    });
  }

  function problem(code: string, message: string | null): void {
    if (message === null) {
      lastProblem = '';
      return;
    }
    if (message === lastProblem) return;
    lastProblem = message;
    log.warn(message);
    ctx.store.notify({ level: 'warning', code, message });
  }

  /** Brings the announcement in line with settings + snapshot. Serialized; calls coalesce. */
  function reconcile(): Promise<void> {
    if (pending) return chain;
    pending = true;
    chain = chain
      .then(async () => {
        pending = false;
        await reconcileNow();
      })
      .catch((err: unknown) => log.error('discovery reconcile failed', { err }));
    return chain;
  }

  async function reconcileNow(): Promise<void> {
    const s = ctx.store.snapshot();
    const settings = ctx.settings.get();
    const port = s.host.port;
    const want =
      running && settings.discovery.advertise && port !== undefined && choice.interfaces.length > 0;
    if (
      current &&
      (!want ||
        current.wanted !== instanceName(s.host.name) ||
        current.port !== port ||
        current.ifaceKey !== ifaceKey() ||
        current.ipv6 !== settings.discovery.ipv6)
    ) {
      await withdraw();
    }
    if (!want) {
      if (
        running &&
        settings.discovery.advertise &&
        port !== undefined &&
        choice.interfaces.length === 0
      ) {
        const named = choice.unusable.map((u) => `${u.name} (${u.why})`).join(', ');
        problem(
          'mdns_no_interface',
          named
            ? `Not announced on the network: none of the interfaces in discovery.interfaces can be used: ${named}. The iPhone will not find this server.`
            : 'Not announced on the network: no network interface is up. The iPhone will find this server once Wi-Fi or Ethernet is connected.',
        );
      }
      return;
    }
    if (current) {
      pushTxt(s);
      return;
    }
    const advertiser = makeAdvertiser(log);
    const txt = desiredTxt(s);
    const wanted = instanceName(s.host.name);
    const entry: Announced = {
      advertiser,
      wanted,
      port: port!,
      ifaceKey: ifaceKey(),
      ipv6: settings.discovery.ipv6,
      txt,
      name: null,
      off: () => {},
    };
    entry.off = advertiser.onNameChange((name) => onRenamed(entry, name));
    current = entry;
    try {
      const name = await advertiser.start({
        name: wanted,
        port: port!,
        txt,
        interfaces: choice.interfaces.map((i) => i.name),
        ipv6: settings.discovery.ipv6,
      });
      if (current !== entry) return; // withdrawn while probing
      if (entry.name !== name) onRenamed(entry, name);
      problem('', null);
      log.info('announced on the network', {
        name,
        port,
        interfaces: choice.interfaces.map((i) => i.name),
      });
      pushTxt(); // anything that changed while probing
    } catch (err) {
      if (current === entry) {
        current = null;
        entry.off();
        await advertiser.stop().catch(() => {});
      }
      problem(
        'mdns_failed',
        `Could not announce this server on the network (${(err as Error).message}); the iPhone may not find it. Retrying.`,
      );
      clock.clearTimeout(retryTimer);
      retryTimer = clock.setTimeout(() => void reconcile(), opts.retryMs ?? 15_000);
    }
  }

  function onRenamed(entry: Announced, name: string): void {
    if (current !== entry) return;
    entry.name = name;
    advertisedNames.add(name);
    browser?.setSelf(ctx.store.get('host').id, [...advertisedNames]);
    setAdvertisedName(name);
    if (name !== entry.wanted) {
      ctx.store.notify({
        level: 'info',
        code: 'mdns_renamed',
        message: `Another host on the network is already called "${entry.wanted}", so this one is announced as "${name}". Change the display name in settings to choose another.`,
      });
    }
  }

  /** Goodbye (TTL 0) for what we announced. */
  async function withdraw(): Promise<void> {
    const entry = current;
    if (!entry) return;
    current = null;
    entry.off();
    await entry.advertiser.stop();
    setAdvertisedName(null);
    log.info('announcement withdrawn (goodbye sent)', { name: entry.name });
  }

  // ── The shared name (shared-name.ts, name-responder.ts): held by the host that serves ───────────

  /** Rebuilds the responder when the name, the IPv6 choice or the interfaces change (goodbye first). */
  async function reconcileName(): Promise<void> {
    const settings = ctx.settings.view();
    const want = running && settings.discovery.advertise && choice.interfaces.length > 0;
    const key = want
      ? `${sharedFqdn(settings.discovery.sharedName)}|${settings.discovery.ipv6}|${ifaceKey()}`
      : '';
    if (key !== nameKey) {
      const old = names;
      names = null;
      nameKey = key;
      nameConflict = null;
      if (old) await old.stop();
      if (want) {
        names = new NameResponder({
          name: sharedFqdn(settings.discovery.sharedName),
          interfaces: choice.interfaces,
          ipv6: settings.discovery.ipv6,
          logger: log,
          ...(opts.nameSocket ? { socket: opts.nameSocket } : {}),
          onConflict: (by) => {
            nameConflict = by;
            ctx.store.notify({
              level: 'warning',
              code: 'mdns_shared_name_conflict',
              message: `Another device on the network (${by}) answers for ${sharedFqdn(settings.discovery.sharedName)}, so phones may reach it instead of this server. If it is this pair's other computer, pair them (Pairing) and the name moves with whichever serves. If it is another UnaMentis pair, give each pair its own name (settings: discovery.sharedName). Meanwhile, type this computer's IP address in the app.`,
            });
            writeSharedName();
          },
          onCleared: () => {
            nameConflict = null;
            writeSharedName();
          },
          onPhase: (phase) => {
            log.info(phase === 'holding' ? 'holding the shared name' : `shared name: ${phase}`, {
              name: sharedFqdn(settings.discovery.sharedName),
            });
            writeSharedName();
          },
        });
      }
    }
    updateName();
  }

  /** Serving = holding the name. A paired host heard in this run vouches for it: no probe then. */
  function updateName(s: Snapshot = ctx.store.snapshot()): void {
    if (names) {
      const paired = s.peers.filter((p) => p.paired);
      const friends = paired.flatMap((p) => [
        ...(p.addresses ?? []),
        ...(browser?.list().find((d) => d.id === p.id)?.addresses ?? []),
      ]);
      names.setFriends(friends);
      const hold = running && s.host.serving;
      names.want(
        hold,
        needsProbe({
          paired: paired.length > 0,
          heardPeer: paired.some((p) => p.lastSeenSeconds >= 0),
        }),
      );
    }
    writeSharedName(s);
  }

  function writeSharedName(s: Snapshot = ctx.store.snapshot()): void {
    const settings = ctx.settings.view();
    const sharedName = {
      name: sharedFqdn(settings.discovery.sharedName),
      held: !!names?.holding,
      conflict: nameConflict,
    };
    const addresses = choice.interfaces
      .filter((i) => !i.loopback || choice.interfaces.length === 1)
      .map((i) => i.ipv4);
    const h = s.host;
    if (
      h.sharedName?.name === sharedName.name &&
      h.sharedName.held === sharedName.held &&
      h.sharedName.conflict === sharedName.conflict &&
      (h.addresses ?? []).join(',') === addresses.join(',')
    ) {
      return;
    }
    ctx.store.update('host', (x) => ({ ...x, sharedName, addresses }));
  }

  function startBrowser(): void {
    browser = new HostBrowser({
      interfaces: choice.interfaces,
      clock,
      logger: log,
      ...(opts.transport ? { transport: opts.transport } : {}),
      ...(opts.health ? { health: opts.health } : {}),
      ...(opts.healthIntervalMs ? { healthIntervalMs: opts.healthIntervalMs } : {}),
      ...(opts.staleMs ? { staleMs: opts.staleMs } : {}),
      ...(opts.tickMs ? { tickMs: opts.tickMs } : {}),
    });
    browser.setSelf(ctx.store.get('host').id, [...advertisedNames]);
    browser.onChange((c) => {
      for (const l of browserListeners) {
        try {
          l(c);
        } catch (err) {
          log.error('discovery listener failed', { err });
        }
      }
      writePeers();
    });
    browser.start();
  }

  function writePeers(): void {
    if (!publishPeers) return;
    ctx.store.set('peers', toPeers(browser?.list() ?? [], clock.now()));
  }

  function schedulePeers(): void {
    // lastSeenSeconds moves on its own: refresh it while anyone is listed.
    peersTimer = clock.setTimeout(() => {
      if (!running) return;
      if (browser?.list().length) writePeers();
      reportIgnored();
      schedulePeers();
    }, 2_000);
  }

  /** The browser's counters, plus the packets ciao's sockets refused before decoding (mdns-guard.ts). */
  function allCounters(): ReturnType<Discovery['counters']> {
    const out: ReturnType<Discovery['counters']> = { ...browser?.counters() };
    const dropped = Object.values(ciaoGate.counters).reduce((a, b) => a + b, 0);
    if (dropped) out.responderDropped = dropped;
    return out;
  }

  /** Ignored input is counted; the log gets the totals when they move, the user a notice for an id clash. */
  function reportIgnored(): void {
    const now = allCounters();
    const key = JSON.stringify(now);
    if (key === lastCounters) return;
    const before = JSON.parse(lastCounters || '{}') as Record<string, number>;
    lastCounters = key;
    log.info('ignored mDNS input (totals)', now);
    if ((now.claimsOurId ?? 0) > (before.claimsOurId ?? 0)) {
      ctx.store.notify({
        level: 'warning',
        code: 'mdns_id_conflict',
        message:
          "Another device on the network announces this server's id. It is ignored; if this app's settings folder was copied to another computer, remove settings.json there so it gets an id of its own.",
      });
    }
  }

  function scheduleInterfaceCheck(): void {
    ifaceTimer = clock.setTimeout(() => {
      if (!running) return;
      checkInterfaces();
      scheduleInterfaceCheck();
    }, opts.interfaceCheckMs ?? 10_000);
  }

  function checkInterfaces(): void {
    const before = ifaceKey();
    choice = choose();
    for (const u of choice.unusable) log.warn('mDNS interface unusable', u);
    if (ifaceKey() === before) return;
    log.info('network interfaces changed', { interfaces: choice.interfaces.map((i) => i.name) });
    void browser?.stop();
    startBrowser();
    void reconcile();
    void reconcileName();
  }

  const discovery: Discovery = {
    name: 'discovery',
    async start() {
      if (running) return;
      running = true;
      choice = choose();
      lastPort = ctx.store.get('host').port;
      log.info('mDNS interfaces', {
        interfaces: choice.interfaces.map((i) => i.name),
        source: choice.source,
      });
      if (choice.source === 'bind' && choice.interfaces.every((i) => i.loopback)) {
        log.warn(
          `the control API listens on ${opts.bind?.()} only, so mDNS stays on loopback: the iPhone will not find this server (bind 0.0.0.0 to serve the LAN)`,
        );
      }
      if (choice.unusable.length) {
        problem(
          'mdns_interfaces',
          `discovery.interfaces: ${choice.unusable.map((u) => `${u.name}: ${u.why}`).join('; ')}.`,
        );
      }
      startBrowser();
      offs.push(
        ctx.store.onChange((s) => {
          if (!running) return;
          if (
            current &&
            (current.wanted !== instanceName(s.host.name) || current.port !== s.host.port)
          )
            void reconcile();
          else if (current) pushTxt(s);
          else if (s.host.port !== lastPort) void reconcile(); // the control port became known
          lastPort = s.host.port;
          updateName(s);
        }),
        ctx.settings.onChange(({ next, prev }) => {
          if (!running) return;
          if (
            JSON.stringify(next.discovery.interfaces) !== JSON.stringify(prev.discovery.interfaces)
          ) {
            lastProblem = '';
            checkInterfaces();
          }
          if (next.discovery.advertise !== prev.discovery.advertise) {
            log.info(
              next.discovery.advertise
                ? 'advertising turned on'
                : 'advertising turned off: sending goodbye',
            );
          }
          void reconcile();
          void reconcileName();
          pushTxt();
        }),
      );
      scheduleInterfaceCheck();
      schedulePeers();
      // Not awaited: probing takes ~1 s and must not hold up the core's start.
      void reconcile();
      void reconcileName();
    },
    async stop(reason?: StopReason) {
      if (!running) return;
      running = false;
      for (const off of offs.splice(0)) off();
      clock.clearTimeout(retryTimer);
      clock.clearTimeout(ifaceTimer);
      clock.clearTimeout(peersTimer);
      log.info('stopping', { reason: reason ?? 'quit' });
      await chain;
      await reconcileName(); // running is false: goodbye for the shared name if held
      await withdraw();
      await browser?.stop();
      browser = null;
      lastCounters = '';
      if (publishPeers) ctx.store.set('peers', []);
    },
    list: () => browser?.list() ?? [],
    get hosts() {
      return browser?.list() ?? [];
    },
    onChange(listener) {
      browserListeners.add(listener);
      return () => browserListeners.delete(listener);
    },
    advertisedName: () => current?.name ?? null,
    txt: () => (current ? { ...current.txt } : null),
    interfaces: () => choice.interfaces.map((i) => i.name),
    counters: allCounters,
  };
  return discovery;
}
