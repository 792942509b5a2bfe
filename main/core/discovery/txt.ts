// The DNS-SD TXT record of CONTRACT.md §1: encoding ours from the snapshot + settings, and parsing
// other hosts' records defensively. Pure: no sockets, no clock.

import {
  HIBERNATION_STATES,
  SERVICE_PORT_TXT_KEYS,
  type HibernationState,
  type Role,
  type Snapshot,
} from '../contract.js';
import type { Settings } from '../settings/schema.js';
import type { DeepReadonly } from '../settings/store.js';

/** `_unamentis._tcp` in `local.` */
export const SERVICE_TYPE = 'unamentis';
export const SERVICE_DOMAIN = `_${SERVICE_TYPE}._tcp.local`;
const TXT_VERSION = 1;

/** TXT key for each supervised service's port (present only while the service is enabled). */
export const PORT_KEYS = SERVICE_PORT_TXT_KEYS;
type PortKey = (typeof PORT_KEYS)[keyof typeof PORT_KEYS];

export type TxtKey = 'v' | 'id' | 'role' | 'prio' | 'serving' | 'state' | PortKey | 'pair';
/** Every key of the contract, in the order we write them. */
export const TXT_KEYS: readonly TxtKey[] = [
  'v',
  'id',
  'role',
  'prio',
  'serving',
  'state',
  'llm',
  'tts',
  'tts2',
  'stt',
  'pair',
];

/** Our TXT record: key → value, in TXT_KEYS order. */
export type TxtRecord = Partial<Record<TxtKey, string>>;

/** RFC 6763 §6.1: one `key=value` string is at most 255 bytes. */
const MAX_TXT_STRING_BYTES = 255;
/** A whole record larger than this is not one of ours: ours is ~150 bytes (RFC 6763 §6.2 suggests ≤ 1300). */
const MAX_TXT_RECORD_BYTES = 1300;
const MAX_TXT_STRINGS = 64;

export type TxtInput = Pick<Snapshot, 'host' | 'hibernation' | 'services'> &
  Partial<Pick<Snapshot, 'frontDoor'>>;

/**
 * The TXT record for this host. Ports come from the supervisor's `services` section (the effective
 * port, presets included); a service the supervisor does not list yet falls back to settings, where
 * it counts only when explicitly enabled with a port.
 */
export function encodeTxt(
  s: TxtInput,
  settings: DeepReadonly<Pick<Settings, 'services' | 'pairing'>>,
): TxtRecord {
  const txt: TxtRecord = {
    v: String(TXT_VERSION),
    id: s.host.id,
    role: s.host.role,
    prio: String(Math.max(0, Math.min(255, Math.round(s.host.prio)))),
    // Only a host that can serve says so (a host alone keeps serving, and the name, with nothing up).
    serving: s.host.serving && !s.host.cannotServe ? '1' : '0',
    state: s.hibernation.state,
  };
  for (const [service, key] of Object.entries(PORT_KEYS) as [keyof typeof PORT_KEYS, PortKey][]) {
    const entry = s.services.find((e) => e.id === service);
    const conf = settings.services[service];
    const port = entry
      ? entry.enabled
        ? entry.port
        : null
      : conf?.enabled === true
        ? (conf.port ?? null)
        : null;
    // Never advertise a port the LAN cannot reach (the front door says which it can).
    if (s.frontDoor?.ports.find((p) => p.id === service)?.lan === false) continue;
    if (port !== null && Number.isInteger(port) && port > 0 && port < 65536)
      txt[key] = String(port);
  }
  const pair = settings.pairing.pairId;
  if (pair) txt.pair = pair;
  // Never emit a string the wire format cannot carry (a pair id is ≤ 64 chars by schema; belt and braces).
  for (const key of Object.keys(txt) as TxtKey[]) {
    if (Buffer.byteLength(`${key}=${txt[key]}`) > MAX_TXT_STRING_BYTES) delete txt[key];
  }
  return txt;
}

export function txtEqual(a: TxtRecord | null, b: TxtRecord | null): boolean {
  if (!a || !b) return a === b;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k as TxtKey] === b[k as TxtKey]);
}

/** What another host says about itself, validated. */
export interface HostTxt {
  v: number;
  id: string;
  role: Role;
  prio: number;
  serving: boolean;
  state: HibernationState;
  ports: Partial<Record<PortKey, number>>;
  pair: string | null;
}

/** Why (part of) a record was ignored; each occurrence is counted. */
export type TxtProblem =
  | 'oversized'
  | 'malformed'
  | 'missingKey'
  | 'wrongType'
  | 'nonUtf8'
  | 'duplicateKey'
  | 'unsupportedVersion';

export type ParsedTxt =
  | { ok: true; txt: HostTxt; problems: TxtProblem[] }
  | { ok: false; reason: string; problems: TxtProblem[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KNOWN = new Set<string>(TXT_KEYS);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a TXT record (its character-strings, as the packet decoder gives them). Hostile input is
 * expected: anything that is not a Buffer array, oversized, without the required keys, or with a
 * required key of the wrong type rejects the record; a bad optional key (a port, `pair`) is dropped.
 * Duplicate keys: the first one wins (RFC 6763 §6.4). Unknown keys are ignored (additive changes).
 */
export function parseTxt(strings: unknown): ParsedTxt {
  const problems: TxtProblem[] = [];
  const fail = (problem: TxtProblem, reason: string): ParsedTxt => ({
    ok: false,
    reason,
    problems: [...problems, problem],
  });
  if (!Array.isArray(strings) || !strings.every((b) => Buffer.isBuffer(b)))
    return fail('malformed', 'TXT data is not a list of strings');
  const bufs = strings as Buffer[];
  const total = bufs.reduce((n, b) => n + 1 + b.length, 0);
  if (
    bufs.length > MAX_TXT_STRINGS ||
    total > MAX_TXT_RECORD_BYTES ||
    bufs.some((b) => b.length > MAX_TXT_STRING_BYTES)
  ) {
    return fail('oversized', `TXT record too large (${bufs.length} strings, ${total} bytes)`);
  }

  const values = new Map<string, string>();
  for (const b of bufs) {
    if (b.length === 0) continue; // RFC 6763 §6.1: an empty string is allowed and means nothing
    const eq = b.indexOf(0x3d); // '='
    const keyBytes = eq === -1 ? b : b.subarray(0, eq);
    if (keyBytes.length === 0 || keyBytes.some((c) => c < 0x20 || c > 0x7e)) {
      problems.push('malformed');
      continue;
    }
    const key = keyBytes.toString('latin1').toLowerCase();
    if (!KNOWN.has(key)) continue;
    if (values.has(key)) {
      problems.push('duplicateKey');
      continue;
    }
    if (eq === -1) {
      values.set(key, ''); // a boolean attribute: present without a value
      continue;
    }
    try {
      values.set(key, utf8.decode(b.subarray(eq + 1)));
    } catch {
      problems.push('nonUtf8');
      values.set(key, '\u0000'); // present but unusable: claims the key so a later duplicate cannot win
    }
  }

  const need = (key: TxtKey): string | null => values.get(key) ?? null;
  for (const key of ['v', 'id', 'role', 'prio', 'serving', 'state'] as const) {
    if (need(key) === null) return fail('missingKey', `TXT key "${key}" is missing`);
  }
  const v = need('v')!;
  if (!/^\d{1,3}$/.test(v)) return fail('wrongType', `v="${printable(v)}" is not a version number`);
  if (Number(v) !== TXT_VERSION)
    return fail(
      'unsupportedVersion',
      `TXT version ${v} is not supported (this app speaks ${TXT_VERSION})`,
    );
  const id = need('id')!;
  if (!UUID.test(id)) return fail('wrongType', `id="${printable(id)}" is not a UUID`);
  const role = need('role')!;
  if (role !== 'primary' && role !== 'fallback')
    return fail('wrongType', `role="${printable(role)}" is not primary or fallback`);
  const prio = need('prio')!;
  if (!/^\d{1,3}$/.test(prio) || Number(prio) > 255)
    return fail('wrongType', `prio="${printable(prio)}" is not 0-255`);
  const serving = need('serving')!;
  if (serving !== '0' && serving !== '1')
    return fail('wrongType', `serving="${printable(serving)}" is not 0 or 1`);
  const state = need('state')!;
  if (!(HIBERNATION_STATES as readonly string[]).includes(state))
    return fail('wrongType', `state="${printable(state)}" is not a hibernation state`);

  const ports: HostTxt['ports'] = {};
  for (const key of Object.values(PORT_KEYS)) {
    const raw = need(key);
    if (raw === null) continue;
    const n = Number(raw);
    if (/^\d{1,5}$/.test(raw) && n >= 1 && n <= 65535) ports[key] = n;
    else problems.push('wrongType');
  }
  let pair: string | null = null;
  const rawPair = need('pair');
  if (rawPair !== null) {
    if (/^[\x21-\x7e]{1,64}$/.test(rawPair)) pair = rawPair;
    else problems.push('wrongType');
  }
  return {
    ok: true,
    txt: {
      v: TXT_VERSION,
      id: id.toLowerCase(),
      role,
      prio: Number(prio),
      serving: serving === '1',
      state: state as HibernationState,
      ports,
      pair,
    },
    problems,
  };
}

/** For messages: at most 40 printable characters of a hostile value. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

/** Bytes kept for the instance name: a DNS label is ≤ 63 bytes, and a rename appends " (NN)". */
export const MAX_INSTANCE_BYTES = 57;

/**
 * The DNS-SD instance name for a display name: control characters dropped, whitespace collapsed,
 * cut (on a character boundary) to leave room for a conflict suffix. Never empty.
 */
export function instanceName(display: string): string {
  const clean = display
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  let out = '';
  for (const ch of clean) {
    if (Buffer.byteLength(out + ch) > MAX_INSTANCE_BYTES) break;
    out += ch;
  }
  return out.trim() || 'UnaMentis Server';
}
