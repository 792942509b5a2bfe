// What to type in the app (Settings → Self-Hosted Server), from the snapshot. Pure.
//
// First choice: the pair's shared name (`unamentis.local`), which follows whichever host serves.
// Second: this host's IPv4 address. The QR code carries the app's own format
// `{"host", "port", "name"}` (read by the app's QR scanner, reference/unamentis-app.md).

import type { Snapshot } from '../../main/core/contract.js';

export interface SetupAdvice {
  /** The shared name, e.g. `unamentis.local`. */
  name: string;
  /** This host's address on the LAN (the first advertised IPv4), or null when none is known. */
  ip: string | null;
  /** The control port the app's QR format carries (11400 unless api.port was changed). */
  port: number;
  /** The QR code's text. */
  qrText: string;
  /** Things that stop `.local` from working now, with what to do. */
  warnings: string[];
}

export function setupAdvice(s: Snapshot): SetupAdvice {
  const name = s.host.sharedName?.name ?? 'unamentis.local';
  const ip = (s.host.addresses ?? []).find((a) => !a.startsWith('127.')) ?? null;
  const port = s.host.port ?? 11400;
  const warnings: string[] = [];
  const paired = s.peers.some((p) => p.paired && p.alive);
  const someoneHolds =
    s.host.sharedName?.held || s.peers.some((p) => p.paired && p.alive && p.serving);
  if (!s.host.sharedName) {
    warnings.push(
      `This computer does not announce ${name} on the network (mDNS is off or no network interface is up). Type the IP address in the app instead.`,
    );
  } else if (s.host.sharedName.conflict) {
    warnings.push(
      `Another device (${s.host.sharedName.conflict}) also answers for ${name}. Give this pair its own name in Settings (discovery.sharedName), or type the IP address.`,
    );
  } else if (!someoneHolds) {
    warnings.push(
      `No computer of the pair answers for ${name} right now (none is serving). Type the IP address meanwhile.`,
    );
  }
  if (ip && paired) {
    warnings.push(
      `With the IP address the phone always talks to this computer, which passes requests on to whichever computer serves; if this computer is off, the phone cannot connect. The name follows the serving computer.`,
    );
  }
  return {
    name,
    ip,
    port,
    qrText: JSON.stringify({ host: name, port, name: s.host.name }),
    warnings,
  };
}

/** When a phone cannot use `.local` names, whatever this computer does. */
export const LOCAL_NAME_HELP =
  '.local names work only when the phone is on the same network as this computer. They fail on a guest Wi-Fi or one with "client isolation" (AP isolation), across routers or VLANs, and while the phone uses a VPN or cellular data. Then type the IP address, and reserve that address for this computer in the router (DHCP reservation) so it does not change.';
