// Requests from this host to another host's control port (the pairing handshake and the
// authenticated peer operations). JSON in and out, with a timeout; errors in the contract's form
// come back as PairingError (`peer`) with the other host's code, status and message.

import { isIPv6 } from 'node:net';
import { PairingError } from './errors.js';
import type { ErrorCode } from '../contract.js';

export type PostJson = (
  address: string,
  port: number,
  path: string,
  body: unknown,
  timeoutMs?: number,
) => Promise<unknown>;

function urlFor(address: string, port: number, path: string): string {
  return `http://${isIPv6(address) ? `[${address}]` : address}:${port}${path}`;
}

export const postJson: PostJson = async (address, port, path, body, timeoutMs = 5_000) => {
  let res: Response;
  try {
    res = await fetch(urlFor(address, port, path), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const why =
      (err as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000} s`
        : ((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message);
    throw new PairingError(
      'unreachable',
      `Could not reach ${address}:${port} (${why}). Is the other host on and on the same network?`,
    );
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new PairingError(
      'failed',
      `${address}:${port} answered with something that is not JSON (is it an UnaMentis server?).`,
    );
  }
  if (!res.ok) {
    const e = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    const code = (typeof e?.code === 'string' ? e.code : 'internal') as ErrorCode;
    throw new PairingError(
      'peer',
      `${typeof e?.message === 'string' ? e.message : `HTTP ${res.status}`}`,
      undefined,
      { code, status: res.status },
    );
  }
  return parsed;
};
