// `npm run discover`: lists every UnaMentis server on the LAN as the iPhone would see it (name,
// address, ports, role, serving, state, /health), or says plainly that there is none and what to check.
// Also asks who answers for the pair's shared name (`unamentis.local`, or --name).
// Usage: npm run discover -- [--timeout SECONDS] [--interface NAME]... [--name LABEL] [--json]
// Exit: 0 = at least one server found; 1 = none found; 2 = bad arguments or cannot listen.

import { parseArgs } from 'node:util';
import { HostBrowser } from './core/discovery/browser.js';
import {
  chooseInterfaces,
  interfaceOverride,
  readInterfaces,
} from './core/discovery/interfaces.js';
import { appChoice, formatReport } from './core/discovery/report.js';
import { bonjourNameSocket, type NameSocket } from './core/discovery/name-responder.js';
import { sameName, sharedFqdn } from './core/discovery/shared-name.js';
import { phoneChoice } from './core/discovery/peers.js';
import { nullLogger } from './core/util/logger.js';
import { systemClock } from './core/util/clock.js';

const USAGE = `Usage: npm run discover -- [--timeout SECONDS] [--interface NAME]... [--name LABEL] [--json]
  --timeout    how long to listen (default 3, at most 60)
  --interface  listen on this interface only (repeatable; default: every up, non-loopback
               interface, or UNAMENTIS_MDNS_INTERFACES)
  --name       the pair's shared name to look up (default unamentis, i.e. unamentis.local)
  --json       print the hosts as JSON
Exit status: 0 when a server was found, 1 when none was, 2 on bad arguments or when no interface can be used.`;

async function main(): Promise<number> {
  let values: {
    timeout?: string;
    interface?: string[];
    name?: string;
    json?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        timeout: { type: 'string' },
        interface: { type: 'string', multiple: true },
        name: { type: 'string' },
        json: { type: 'boolean' },
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
  const seconds = values.timeout === undefined ? 3 : Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60) {
    console.error(
      `--timeout: "${values.timeout}" is not a number of seconds between 0 and 60.\n\n${USAGE}`,
    );
    return 2;
  }

  const named = values.interface?.length ? values.interface : interfaceOverride();
  const choice = named
    ? chooseInterfaces(readInterfaces(), named, 'env')
    : chooseInterfaces(readInterfaces(), []);
  for (const u of choice.unusable) console.error(`Interface ${u.name} cannot be used: ${u.why}.`);
  if (choice.interfaces.length === 0) {
    console.error(
      named
        ? `None of the interfaces named (${named.join(', ')}) can be used; see \`ip addr\` (Linux), \`ifconfig\` (macOS) or \`ipconfig\` (Windows).`
        : 'No network interface to listen on: connect to Wi-Fi or Ethernet, or name one with --interface.',
    );
    return 2;
  }

  const browser = new HostBrowser({
    interfaces: choice.interfaces,
    clock: systemClock,
    logger: nullLogger,
    // A one-shot look: ask often, so a server whose announcement we missed still answers in time.
    queryBackoffMs: [250, 500, 1_000, 1_000, 1_000],
    queryEveryMs: 2_000,
    healthIntervalMs: 1_000,
    tickMs: 250,
  });
  browser.start();
  // Who answers for the shared name: an A query on each interface now and every second; every
  // answer (from any responder) is kept.
  const shared = sharedFqdn(values.name ?? 'unamentis');
  const answered = new Set<string>();
  const sockets: NameSocket[] = [];
  for (const iface of choice.interfaces) {
    try {
      sockets.push(
        bonjourNameSocket(iface, {
          packet: (p) => {
            if (p.type !== 'response') return;
            for (const r of [...(p.answers ?? []), ...(p.additionals ?? [])]) {
              if (r.type === 'A' && sameName(r.name, shared) && (r.ttl ?? 1) > 0)
                answered.add(String(r.data));
            }
          },
          error: () => {},
        }),
      );
    } catch {
      /* browsing still works without it */
    }
  }
  const ask = () => {
    for (const s of sockets)
      s.send({ type: 'query', id: 0, questions: [{ name: shared, type: 'A' }] });
  };
  ask();
  const asking = setInterval(ask, 1_000);
  const started = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  // Give a /health check started just before the end its chance to answer.
  const deadline = Date.now() + 1_600;
  while (browser.list().some((h) => h.health.ok === null) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const hosts = browser.list();
  const counters = browser.counters();
  clearInterval(asking);
  await Promise.all(sockets.map((s) => s.close()));
  await browser.stop();
  const sharedName = { name: shared, addresses: [...answered] };

  if (values.json) {
    const pick = phoneChoice(hosts);
    console.log(
      JSON.stringify(
        {
          interfaces: choice.interfaces.map((i) => i.name),
          hosts: hosts.map((h) => ({
            ...h,
            phoneChoice: h === pick,
            appChoice: h === appChoice(hosts),
          })),
          sharedName,
          ignored: counters,
        },
        null,
        2,
      ),
    );
  } else {
    console.log(
      formatReport(hosts, {
        interfaces: choice.interfaces.map((i) => i.name),
        seconds: (Date.now() - started) / 1000,
        sharedName,
      }),
    );
    const ignored = Object.entries(counters).filter(([k]) => k !== 'socketError');
    if (ignored.length)
      console.log(`\nIgnored: ${ignored.map(([k, v]) => `${v} ${k}`).join(', ')}.`);
  }
  return hosts.length > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`discover failed: ${(err as Error).message}`);
    process.exit(2);
  },
);
