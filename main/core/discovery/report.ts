// What `npm run discover` prints: the servers as the phone would see them, or, when there are
// none, what to check. Pure (hosts in, text out) so it is tested without a network.

import type { DiscoveredHost } from './host-table.js';
import { phoneChoice } from './peers.js';
import { PORT_KEYS } from './txt.js';

export interface ReportContext {
  interfaces: string[];
  seconds: number;
  /** The pair's shared name and the addresses that answered for it (empty: nobody did). */
  sharedName?: { name: string; addresses: string[] };
}

/**
 * What the real app picks (reference/unamentis-app.md): the first service whose resolve finishes
 * and whose /health answers 200. `hosts` are in the order they were first resolved.
 */
export function appChoice<T extends Pick<DiscoveredHost, 'health'>>(hosts: T[]): T | null {
  return hosts.find((h) => h.health.ok === true) ?? null;
}

/** Who answers for the shared name, in words. */
function sharedNameLine(
  hosts: DiscoveredHost[],
  shared: { name: string; addresses: string[] },
): string {
  if (shared.addresses.length === 0) {
    return `${shared.name}: nobody answered. The app cannot use this name now (no host of the pair serves, or mDNS is blocked).`;
  }
  const who = shared.addresses.map((a) => {
    const h = hosts.find((x) => x.via.address === a || x.addresses.includes(a));
    return h
      ? `${a} (${h.name}${h.txt.serving ? ', serving' : ''})`
      : `${a} (not an UnaMentis server seen here)`;
  });
  return `${shared.name} → ${who.join(', ')}${shared.addresses.length > 1 ? '  (more than one host answers: a conflict, or a handoff in progress)' : ''}`;
}

export function formatReport(hosts: DiscoveredHost[], ctx: ReportContext): string {
  const where = ctx.interfaces.length ? ctx.interfaces.join(', ') : '(no interface)';
  const secs = `${ctx.seconds.toFixed(1)} s`;
  if (hosts.length === 0) {
    return [
      `No UnaMentis server found (listened on ${where} for ${secs}).`,
      '',
      'Check that:',
      '  - the server app is running, and "Advertise on the network" (discovery.advertise) is on;',
      '  - this computer, the server and the iPhone are on the same Wi-Fi or LAN (not a guest network);',
      '  - no firewall blocks mDNS (UDP port 5353) or the control port (TCP 11400 by default) on the server;',
      '  - the router passes multicast between devices (turn off "AP/client isolation"; some mesh and',
      '    "multicast enhancement" settings drop mDNS);',
      '  - the right interface is used: npm run discover -- --interface <name> (see `ip addr` / `ipconfig`).',
    ].join('\n');
  }
  const pick = phoneChoice(hosts);
  const app = appChoice(hosts);
  const rows = [...hosts]
    .sort(
      (a, b) =>
        Number(b.txt.serving) - Number(a.txt.serving) ||
        b.txt.prio - a.txt.prio ||
        a.name.localeCompare(b.name),
    )
    .map((h) => [
      `${h === app ? '>' : ' '}${h === pick ? '*' : ' '}`,
      h.name,
      h.addresses.find((a) => !a.includes(':')) ?? h.addresses[0] ?? h.via.address,
      String(h.port),
      h.txt.role,
      String(h.txt.prio),
      h.txt.serving ? 'yes' : 'no',
      h.txt.state,
      health(h),
      services(h),
    ]);
  const head = [
    '  ',
    'NAME',
    'ADDRESS',
    'PORT',
    'ROLE',
    'PRIO',
    'SERVING',
    'STATE',
    'HEALTH',
    'SERVICES',
  ];
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const n = hosts.length;
  return [
    `Found ${n} UnaMentis server${n === 1 ? '' : 's'} (listened on ${where} for ${secs}):`,
    '',
    line(head),
    ...rows.map(line),
    '',
    pick
      ? '* = the serving host (serving=1; if none, the highest prio whose /health answers).'
      : 'No host serves now: none has serving=1 and none answered /health.',
    app
      ? `> = what the app's Bonjour discovery would pick: the first host resolved whose /health answers 200${app !== pick && pick ? ` (it passes requests on to ${pick.name})` : ''}.`
      : "The app's Bonjour discovery would find no server: no /health answered 200.",
    ...(ctx.sharedName
      ? ['', `Shared name (type this in the app): ${sharedNameLine(hosts, ctx.sharedName)}`]
      : []),
  ].join('\n');
}

function health(h: DiscoveredHost): string {
  if (h.health.ok === null) return 'unchecked';
  if (!h.health.ok) return 'no answer';
  const ms = h.health.latencyMs === null ? '' : ` ${h.health.latencyMs} ms`;
  return `${h.health.ready ? 'ready' : 'up, not ready'}${ms}`;
}

function services(h: DiscoveredHost): string {
  const names: Record<string, string> = { llm: 'llm', tts: 'tts', tts2: 'tts2', stt: 'stt' };
  const parts = Object.values(PORT_KEYS)
    .filter((k) => h.txt.ports[k] !== undefined)
    .map((k) => `${names[k]} ${h.txt.ports[k]}`);
  const s = parts.join(', ') || '-';
  return h.txt.pair ? `${s}; pair ${h.txt.pair}` : s;
}
