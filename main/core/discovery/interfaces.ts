// Which network interfaces mDNS may use. The choice is pure (a function of what the OS reports and
// what the user allowed); reading the OS is the thin part at the bottom.
//
// Why we choose ourselves instead of letting the libraries do it: ciao parses `ip -o link show` and
// drops veth interfaces (`eth0@if12`, as in containers and network namespaces), and multicast-dns
// (under bonjour-service) sends on one interface only. Announcements leaving on the wrong interface
// are the top complaint about Home Assistant's zeroconf, so the list is explicit and shown to the user.

import fs from 'node:fs';
import os from 'node:os';

interface NetAddress {
  address: string;
  netmask: string;
  family: 'IPv4' | 'IPv6';
  internal: boolean;
}

export interface NetInterface {
  name: string;
  addresses: NetAddress[];
  /** Link is up (Linux: operstate not `down`); true where the OS does not say. */
  up: boolean;
}

export interface SelectedInterface {
  name: string;
  /** The IPv4 address mDNS uses on it (multicast group membership and sending). */
  ipv4: string;
  netmask: string;
  ipv6: string[];
  loopback: boolean;
}

export interface InterfaceChoice {
  interfaces: SelectedInterface[];
  /** Names the user asked for that cannot be used, with why (for a notice). */
  unusable: { name: string; why: string }[];
  /** Where the list came from, for logs and the README: `settings`, `env` or `all`. */
  /** 'bind': narrowed to the control API's address (a loopback bind keeps mDNS off the LAN). */
  source: 'settings' | 'env' | 'all' | 'bind';
}

/**
 * Virtual interfaces skipped when the user has not named interfaces: container bridges, VM host-only
 * networks and VPN tunnels. The iPhone is never there, and announcing there is what users complain about.
 */
const VIRTUAL_INTERFACE =
  /^(docker\d*|br-|veth|virbr|vboxnet|vmnet|utun|awdl|llw|tun|tap|wg|zt|tailscale|ham|cni|flannel|podman|lxc|lxd)/i;

/**
 * Chooses the interfaces. `allowed` (settings `discovery.interfaces`, or the env override) empty means
 * every up, non-loopback, non-virtual interface with an IPv4 address; otherwise exactly the named
 * interfaces (loopback included when named: tests use `lo`).
 */
export function chooseInterfaces(
  all: NetInterface[],
  allowed: string[],
  source: InterfaceChoice['source'] = 'settings',
): InterfaceChoice {
  const unusable: InterfaceChoice['unusable'] = [];
  const pick = (ni: NetInterface): SelectedInterface | null => {
    const v4 = ni.addresses.find((a) => a.family === 'IPv4');
    if (!v4) return null;
    return {
      name: ni.name,
      ipv4: v4.address,
      netmask: v4.netmask,
      ipv6: ni.addresses.filter((a) => a.family === 'IPv6').map((a) => a.address),
      loopback: ni.addresses.some((a) => a.internal),
    };
  };
  if (allowed.length === 0) {
    const interfaces = all
      .filter(
        (ni) => ni.up && !ni.addresses.some((a) => a.internal) && !VIRTUAL_INTERFACE.test(ni.name),
      )
      .map(pick)
      .filter((s): s is SelectedInterface => s !== null);
    return { interfaces, unusable, source: source === 'env' ? 'env' : 'all' };
  }
  const interfaces: SelectedInterface[] = [];
  for (const name of [...new Set(allowed)]) {
    const ni = all.find((n) => n.name === name);
    if (!ni) unusable.push({ name, why: 'no such interface on this machine' });
    else if (!ni.up) unusable.push({ name, why: 'the interface is down' });
    else {
      const s = pick(ni);
      if (s) interfaces.push(s);
      else unusable.push({ name, why: 'the interface has no IPv4 address' });
    }
  }
  return { interfaces, unusable, source };
}

/**
 * The control API bound to one address (`--bind`, UNAMENTIS_BIND, api.bind) is reachable only there,
 * so announcing it elsewhere sends the iPhone to a closed door: keep the interfaces that hold that
 * address (127.x: the loopback interface). A wildcard bind changes nothing.
 */
export function narrowToBind(
  choice: InterfaceChoice,
  all: NetInterface[],
  bind: string,
): InterfaceChoice {
  const b = bind.trim().replace(/^\[|\]$/g, '');
  if (b === '' || b === '0.0.0.0' || b === '::') return choice;
  const loopback = /^127\./.test(b) || b === '::1' || b === 'localhost';
  const holds = (ni: NetInterface) =>
    loopback
      ? ni.addresses.some((a) => a.internal)
      : ni.addresses.some((a) => a.address === b || a.address === b.replace(/^::ffff:/, ''));
  const pool = loopback
    ? all.filter((ni) => ni.up && holds(ni))
    : choice.interfaces
        .map((i) => all.find((ni) => ni.name === i.name))
        .filter((ni): ni is NetInterface => !!ni && holds(ni));
  const interfaces = pool
    .map((ni) => chooseInterfaces([ni], [ni.name]).interfaces[0])
    .filter((s): s is SelectedInterface => s !== undefined);
  return { interfaces, unusable: choice.unusable, source: 'bind' };
}

/**
 * The override that keeps tests off real networks: `UNAMENTIS_MDNS_INTERFACES=lo` (comma-separated
 * names). Unset or `*` means "use the settings". Under vitest it defaults to `lo`, so a test that
 * forgets cannot announce on the machine's LAN.
 */
export function interfaceOverride(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const raw = env.UNAMENTIS_MDNS_INTERFACES ?? (env.VITEST ? 'lo' : undefined);
  if (raw === undefined || raw.trim() === '*') return null;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** IPv4 `address` is inside `iface`'s subnet. */
export function onSubnet(
  address: string,
  iface: Pick<SelectedInterface, 'ipv4' | 'netmask'>,
): boolean {
  const a = ipv4ToInt(address.replace(/^::ffff:/, ''));
  const b = ipv4ToInt(iface.ipv4);
  const m = ipv4ToInt(iface.netmask);
  return a !== null && b !== null && m !== null && (a & m) === (b & m);
}

function ipv4ToInt(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** What the OS reports now. */
export function readInterfaces(): NetInterface[] {
  return Object.entries(os.networkInterfaces()).map(([name, addrs]) => ({
    name,
    addresses: (addrs ?? []).map((a) => ({
      address: a.address,
      netmask: a.netmask,
      family: a.family === 'IPv4' ? ('IPv4' as const) : ('IPv6' as const),
      internal: a.internal,
    })),
    up: linkUp(name),
  }));
}

function linkUp(name: string): boolean {
  if (process.platform !== 'linux') return true;
  try {
    // `unknown` is what lo, tun and some drivers report while working.
    return fs.readFileSync(`/sys/class/net/${name}/operstate`, 'utf8').trim() !== 'down';
  } catch {
    return true;
  }
}
