// What the front door does with a request for one service, as a pure function of what it knows
// now: forward it, hold it until the service is ready (waking the host), or refuse it at once with
// the reason. The caller (hold.ts) re-asks on every change of the services and at each deadline;
// time comes in as numbers (`now`, `heldSince`), never from a clock.

import {
  ANSWERING_STATUSES,
  COMING_STATUSES,
  type ServiceEntry,
  type ServiceStatus,
} from '../contract.js';

export interface ServiceView {
  id: string;
  name: string;
  enabled: boolean;
  status: ServiceStatus;
  /** The last health check passed. */
  healthOk: boolean;
  lastError: string | null;
}

export function serviceView(e: ServiceEntry): ServiceView {
  return {
    id: e.id,
    name: e.name,
    enabled: e.enabled,
    status: e.status,
    healthOk: e.health?.ok === true || (e.status === 'running' && e.port === null),
    lastError: e.lastError,
  };
}

interface HoldLimits {
  /** Requests held at once per service; one more is refused with 503. */
  maxHeld: number;
  /** How long one request may be held (ms) before it is answered 503. */
  maxHoldMs: number;
}

export interface VerdictInput {
  service: ServiceView;
  /** Hibernation stopped this service (it will start again on activity). */
  stoppedByHibernation: boolean;
  /** A wake was already asked for this request (activity from the front door or anyone else). */
  wakeIssued: boolean;
  /** Requests held for this service now, this one excluded. */
  held: number;
  limits: HoldLimits;
  now: number;
  /** When this request started being held; null for a request that just arrived. */
  heldSince: number | null;
  /**
   * This request already takes one of the `maxHeld` places (a held request asking again). False
   * for a new request, and for one held again after its connection was refused: that one takes a
   * place again, so the bound holds however a request came to wait. Default: `heldSince !== null`.
   */
  queued?: boolean;
  /**
   * Hibernation is stopping it: it may still answer its health check, but its process can go away
   * under the request. Held like a start (the wake brings it back).
   */
  draining?: boolean;
}

export type Verdict =
  | { type: 'forward' }
  | { type: 'hold'; why: string; until: number }
  | {
      type: 'refuse';
      status: 503;
      code: 'service_unavailable';
      message: string;
      retryAfterSeconds: number | null;
    };

/** Statuses from which the service comes up by itself (or by our start): worth waiting for. */
const COMING = COMING_STATUSES;

export function verdict(i: VerdictInput): Verdict {
  const s = i.service;
  if (!s.enabled || s.status === 'disabled') {
    return refuse(`${s.name} is disabled on this server (services.${s.id}.enabled).`, null);
  }
  if (s.status === 'failed') {
    return refuse(`${s.name} cannot start: ${s.lastError ?? 'it failed'}`, null);
  }
  if (ANSWERING_STATUSES.has(s.status) && s.healthOk && !i.draining) return { type: 'forward' };

  let why: string;
  if (i.draining) {
    why = `${s.name} is waking up`;
  } else if (COMING.has(s.status) || ANSWERING_STATUSES.has(s.status)) {
    why = `${s.name} is starting`;
  } else if (s.status === 'stopped' && (i.stoppedByHibernation || i.wakeIssued)) {
    why = `${s.name} is waking up`;
  } else {
    // Stopped by the user: not ours to start behind their back.
    return refuse(
      `${s.name} is stopped on this server; start it from the dashboard or the tray.`,
      null,
    );
  }

  if (!(i.queued ?? i.heldSince !== null) && i.held >= i.limits.maxHeld) {
    return refuse(
      `${why}; ${i.held} requests are already waiting for it. Retry in a few seconds.`,
      5,
    );
  }
  const since = i.heldSince ?? i.now;
  const until = since + i.limits.maxHoldMs;
  if (i.now >= until) {
    return refuse(
      `${why} and was not ready within ${Math.round(i.limits.maxHoldMs / 1000)} s. Retry in a few seconds.`,
      5,
    );
  }
  return { type: 'hold', why, until };
}

function refuse(message: string, retryAfterSeconds: number | null): Verdict {
  return { type: 'refuse', status: 503, code: 'service_unavailable', message, retryAfterSeconds };
}

/**
 * For `POST /api/wake?wait=1`: every enabled service is ready, some are still coming, or none is
 * coming and some never will (failed, stopped by the user): then waiting longer changes nothing.
 */
export type Readiness =
  | { type: 'ready' }
  | { type: 'pending'; ids: string[] }
  | { type: 'stuck'; problems: { id: string; message: string }[] };

export function readiness(
  services: ServiceView[],
  stoppedByHibernation: (id: string) => boolean,
  wakeIssued: boolean,
): Readiness {
  const pending: string[] = [];
  const problems: { id: string; message: string }[] = [];
  for (const s of services) {
    if (!s.enabled || s.status === 'disabled') continue;
    const v = verdict({
      service: s,
      stoppedByHibernation: stoppedByHibernation(s.id),
      wakeIssued,
      held: 0,
      limits: { maxHeld: 1, maxHoldMs: 1 },
      now: 0,
      heldSince: null,
    });
    if (v.type === 'hold') pending.push(s.id);
    else if (v.type === 'refuse') problems.push({ id: s.id, message: v.message });
  }
  if (pending.length) return { type: 'pending', ids: pending };
  if (problems.length) return { type: 'stuck', problems };
  return { type: 'ready' };
}

/**
 * A request that does work (generation, synthesis, transcription, a model load) counts as use; a
 * look (GET/HEAD: /api/ps, /api/tags, /health, /voices …) does not, so a monitor polling a port
 * never keeps the GPU awake. A look at a sleeping service still wakes it: nothing else can answer.
 * Old Piper's `GET /?text=` speaks, so it is work.
 */
export function isWork(method: string | undefined, url: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') return true;
  return /[?&]text=/.test(url ?? '');
}
