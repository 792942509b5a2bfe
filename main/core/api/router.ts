// A small router: method + path pattern (`/api/services/:id/start`), per-route auth and rate class.

import type { IncomingMessage, ServerResponse } from 'node:http';

export type RateClass = 'default' | 'wake' | 'activity' | 'pairing';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** The peer's address as seen by the socket. */
  client: string;
  /** Parsed JSON body (size-capped). Rejects with a 400/413 HttpError. */
  body(): Promise<unknown>;
}

/** What a handler returns: a JSON reply, or `undefined` when it wrote the response itself (SSE). */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Needs `Authorization: Bearer <token>`. */
  auth: boolean;
  rate?: RateClass;
  /** No rate limit (the gateway: a streaming session must never be cut by a limit). */
  unlimited?: boolean;
  handler: (ctx: RequestContext) => Promise<Reply | undefined> | Reply | undefined;
}

interface Compiled {
  route: Route;
  regex: RegExp;
  keys: string[];
}

export class Router {
  readonly #routes: Compiled[] = [];

  add(...routes: Route[]): this {
    for (const route of routes) {
      const keys: string[] = [];
      const pattern = route.path
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/:(\w+)/g, (_m, k: string) => {
          keys.push(k);
          return '([^/]+)';
        });
      this.#routes.push({ route, regex: new RegExp(`^${pattern}$`), keys });
    }
    return this;
  }

  /** `route` is null with `allowed` listing methods when only the method is wrong. */
  match(
    method: string,
    pathname: string,
  ): { route: Route; params: Record<string, string> } | { route: null; allowed: string[] } {
    const allowed: string[] = [];
    for (const c of this.#routes) {
      const m = c.regex.exec(pathname);
      if (!m) continue;
      if (c.route.method !== method && !(method === 'HEAD' && c.route.method === 'GET')) {
        allowed.push(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      c.keys.forEach((k, i) => {
        params[k] = safeDecode(m[i + 1] ?? '');
      });
      return { route: c.route, params };
    }
    return { route: null, allowed };
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
