// What the dashboard's settings form needs of the definition (definition.ts, as json-schema.ts): the
// tree of fields with each one's type, allowed values, whether it may be absent, and its
// description (the help text).
// Limits, patterns and defaults stay the server's business: it validates and names the field.
// Vite bakes this into the renderer at build time (vite.config.ts), so the page gets the help text
// without TypeBox, the validator or the whole schema in its bundle.

import type { SettingsFieldSchema } from '../contract.js';
import { settingsJsonSchema, type JsonSchema } from './schema.js';

const KEEP = ['type', 'enum', 'description', 'required'] as const;

/** `schema` trimmed to what the form reads. */
export function formSchema(schema: JsonSchema = settingsJsonSchema): SettingsFieldSchema {
  const out: Record<string, unknown> = {};
  for (const k of KEEP) if (schema[k] !== undefined) out[k] = schema[k];
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, formSchema(v)]),
    );
  }
  if (typeof schema.additionalProperties === 'object')
    out.additionalProperties = formSchema(schema.additionalProperties);
  if (schema.items) out.items = formSchema(schema.items);
  return out as SettingsFieldSchema;
}
