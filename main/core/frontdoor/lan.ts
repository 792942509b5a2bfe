// Who may use the public service ports: the programs behind them have no authentication (Ollama's
// own issue #1053 is about servers found exposed on the internet), so by default only the LAN gets
// in: loopback, RFC 1918 private IPv4 (10/8, 172.16/12, 192.168/16), link-local (169.254/16,
// fe80::/10) and IPv6 unique local addresses (fc00::/7, RFC 4193). Pure.

import { isIPv4, isIPv6 } from 'node:net';

export type AllowFrom = 'lan' | 'any';

export function isLanAddress(address: string): boolean {
  let a = address.trim().toLowerCase();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) a = mapped[1]!;
  if (isIPv4(a)) {
    const [p, q] = a.split('.').map(Number) as [number, number];
    return (
      p === 127 ||
      p === 10 ||
      (p === 172 && q >= 16 && q <= 31) ||
      (p === 192 && q === 168) ||
      (p === 169 && q === 254)
    );
  }
  if (isIPv6(a)) {
    if (a === '::1') return true;
    const first = parseInt(a.split(':')[0] || '0', 16);
    return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
  }
  return false;
}

export function allowed(address: string | undefined, allowFrom: AllowFrom): boolean {
  if (allowFrom === 'any') return true;
  return address !== undefined && isLanAddress(address);
}

/** `Authorization: Bearer <key>` matches `key` (constant time is the caller's job; see keyMatches). */
export function bearerOf(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1]! : null;
}
