// Writes main/core/settings/json-schema.ts from the settings definition (definition.ts): the JSON
// Schema the core validates with, as plain data, so the server never loads TypeBox at run time.
// Run after changing definition.ts: `npm run settings:schema` (test/unit/settings-form.test.ts fails
// until the two agree).

import fs from 'node:fs';
import * as prettier from 'prettier';
import { SettingsSchema } from '../main/core/settings/definition.js';

const file = new URL('../main/core/settings/json-schema.ts', import.meta.url);

const source = `// Written by \`npm run settings:schema\` from definition.ts: do not edit (change definition.ts).
// The settings JSON Schema as plain data: what ajv compiles (store.ts) and the defaults come from.

/** A JSON Schema node, as far as the settings code reads one. */
export interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  [keyword: string]: unknown;
}

export const settingsJsonSchema: JsonSchema = ${JSON.stringify(SettingsSchema)};
`;

const path = file.pathname;
const options = { ...(await prettier.resolveConfig(path)), filepath: path };
fs.writeFileSync(file, await prettier.format(source, options));
console.log(`wrote ${path}`);
