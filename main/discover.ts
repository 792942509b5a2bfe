// `npm run discover`: lists every UnaMentis server on the LAN as the iPhone would see it (name,
// address, ports, role, serving, state, /health), or says plainly that there is none and what to check.
// Usage: npm run discover -- [--timeout SECONDS] [--interface NAME]... [--json]
// Exit: 0 = at least one server found; 1 = none found; 2 = bad arguments or cannot listen.

import { parseArgs } from 'node:util';
import { HostBrowser } from './core/discovery/browser.js';
import { chooseInterfaces, interfaceOverride, readInterfaces } from './core/discovery/interfaces.js';
import { formatReport } from './core/discovery/report.js';
import { phoneChoice } from './core/discovery/peers.js';
import { nullLogger } from './core/util/logger.js';
import { systemClock } from './core/util/clock.js';

const USAGE = `Usage: npm run discover -- [--timeout SECONDS] [--interface NAME]... [--json]
  --timeout    how long to listen (default 3, at most 60)
  --interface  listen on this interface only (repeatable; default: every up, non-loopback
               interface, or UNAMENTIS_MDNS_INTERFACES)
  --json       print the hosts as JSON
Exit status: 0 when a server was found, 1 when none was, 2 on bad arguments or when no interface can be used.`;

async function main(): Promise<number> {
  let values: { timeout?: string; interface?: string[]; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        timeout: { type: 'string' },
        interface: { type: 'string', multiple: true },
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
    console.error(`--timeout: "${values.timeout}" is not a number of seconds between 0 and 60.\n\n${USAGE}`);
    return 2;
  }

  const named = values.interface?.length ? values.interface : interfaceOverride();
  const choice = named ? chooseInterfaces(readInterfaces(), named, 'env') : chooseInterfaces(readInterfaces(), []);
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
  const started = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  // Give a /health check started just before the end its chance to answer.
  const deadline = Date.now() + 1_600;
  while (browser.list().some((h) => h.health.ok === null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const hosts = browser.list();
  const counters = browser.counters();
  await browser.stop();

  if (values.json) {
    const pick = phoneChoice(hosts);
    console.log(JSON.stringify({ interfaces: choice.interfaces.map((i) => i.name), hosts: hosts.map((h) => ({ ...h, phoneChoice: h === pick })), ignored: counters }, null, 2));
  } else {
    console.log(formatReport(hosts, { interfaces: choice.interfaces.map((i) => i.name), seconds: (Date.now() - started) / 1000 }));
    const ignored = Object.entries(counters).filter(([k]) => k !== 'socketError');
    if (ignored.length) console.log(`\nIgnored: ${ignored.map(([k, v]) => `${v} ${k}`).join(', ')}.`);
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
