// What a pass-through keeps of a message's headers: shared by the plain pass-through (proxy.ts)
// and the audio adapters (audio/http.ts), so both drop the same ones.

/** RFC 9110 §7.6.1: meaningful for one connection only, never forwarded. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The header names a `Connection` header lists (RFC 9110 §7.6.1), null when it lists none. */
export function connectionTokens(value: string | string[] | undefined): Set<string> | null {
  // The usual `keep-alive` or `close` names no header (both are hop-by-hop anyway).
  if (value === undefined || /^\s*(keep-alive|close)\s*$/i.test(String(value))) return null;
  return new Set(
    String(value)
      .toLowerCase()
      .split(',')
      .map((t) => t.trim()),
  );
}

/**
 * The Host header for a program on loopback (an IPv6 address in brackets). The program binds
 * loopback and is addressed as such: Ollama refuses unknown Host names on a loopback bind
 * (allowedHostsMiddleware in server/routes.go).
 */
export function hostHeader(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
