// The settings at run time: the types and the field definitions are in definition.ts (TypeBox); here
// are the JSON Schema the validator compiles (json-schema.ts, written from the definition), the
// defaults read from it, and the rules about which fields the API may see and change.
// Headless keeps the settings in DATA_DIR/settings.json; the Electron app in userData.

import type { Role } from '../contract.js';
import type { Settings } from './definition.js';
import { settingsJsonSchema, type JsonSchema } from './json-schema.js';

export type { HibernationPolicy, PairedPeer, ServiceSettings, Settings } from './definition.js';
export { settingsJsonSchema, type JsonSchema };

const ROLE_DEFAULT_PRIO: Record<Role, number> = { primary: 200, fallback: 100 };

export function effectivePrio(s: Pick<Settings, 'prio' | 'role'>): number {
  return s.prio ?? ROLE_DEFAULT_PRIO[s.role];
}

export interface HostFacts {
  platform: NodeJS.Platform;
  hostname: string;
}

/**
 * The `default` of every field under `schema`, as a fresh object in the schema's key order;
 * `given` supplies the values that have no default (and wins over a default).
 */
export function schemaDefaults(schema: JsonSchema, given?: unknown): unknown {
  if (schema.type === 'object' && schema.properties && schema.default === undefined) {
    const from =
      given !== null && typeof given === 'object' ? (given as Record<string, unknown>) : {};
    const out: Record<string, unknown> = {};
    for (const [k, sub] of Object.entries(schema.properties)) {
      const v = schemaDefaults(sub, from[k]);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  return given !== undefined ? given : structuredClone(schema.default);
}

/**
 * Defaults for a new host: the schema's, plus what differs per host (its id, its token, and its
 * role: the Mac is the primary, everything else starts as the fallback).
 */
export function defaultSettings(
  facts: HostFacts,
  ids: { hostId: string; token: string },
): Settings {
  const perHost = {
    hostId: ids.hostId,
    role: facts.platform === 'darwin' ? 'primary' : 'fallback',
    api: { token: ids.token },
  };
  return schemaDefaults(settingsJsonSchema, perHost) as Settings;
}

/** Fields the API never returns. */
export const SECRET_FIELDS = ['api.token', 'pairing.peers[].key'] as const;
/** Fields the API refuses to change. */
export const READ_ONLY_FIELDS = ['schemaVersion', 'hostId', 'api.token', 'pairing'] as const;
