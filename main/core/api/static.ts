// Serves the built dashboard (dist/renderer) from the control port, so a browser on the LAN and
// the Electron window load the same page from the same origin.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { ServerResponse } from 'node:http';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/** The dashboard's Content-Security-Policy: its own scripts and styles, API calls to its own origin. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** Writes the file for `pathname` and returns true, or returns false when there is none. */
export async function serveStatic(
  root: string,
  pathname: string,
  res: ServerResponse,
  head = false,
): Promise<boolean> {
  const rel = pathname === '/' || pathname === '' ? 'index.html' : pathname.replace(/^\/+/, '');
  const file = path.resolve(root, rel);
  // Refuse anything that resolves outside the dashboard folder (../, encoded slashes, …).
  if (file !== root && !file.startsWith(root + path.sep)) return false;
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch {
    return false;
  }
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  res.writeHead(200, {
    'content-type': type,
    'content-length': data.length,
    'cache-control': rel === 'index.html' ? 'no-store' : 'public, max-age=31536000, immutable',
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(head ? undefined : data);
  return true;
}
