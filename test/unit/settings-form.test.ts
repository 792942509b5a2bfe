// The dashboard's settings form against the one settings definition: every field a user may set is
// in the form (or in NOT_IN_FORM, read-only), each input's help is the schema's description, and
// the README's settings table names every field.

import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TSchema } from '@sinclair/typebox';
import { SettingsSchema } from '../../main/core/settings/definition.js';
import { READ_ONLY_FIELDS, settingsJsonSchema } from '../../main/core/settings/schema.js';
import { formSchema } from '../../main/core/settings/form.js';
import {
  GROUPS,
  NOT_IN_FORM,
  policyFields,
  serviceFields,
  type FieldSpec,
} from '../../renderer/src/settings-form.js';
import { fieldKind, fieldSchema } from '../../renderer/src/settings-model.js';

/** Leaf paths of the schema; a map of groups (services, hibernation.policy) is entered as `*`. */
function leaves(schema: TSchema, prefix: string[] = []): string[][] {
  if (schema.properties) {
    return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([k, v]) =>
      leaves(v, [...prefix, k]),
    );
  }
  const entry = schema.additionalProperties as TSchema | undefined;
  if (typeof entry === 'object' && entry.properties) return leaves(entry, [...prefix, '*']);
  return [prefix];
}

/** The schema node at a form path, walked in the full definition (not the trimmed copy the page gets). */
function definitionAt(path: readonly string[]): TSchema | undefined {
  let node: TSchema | undefined = SettingsSchema;
  for (const k of path)
    node =
      (node?.properties as Record<string, TSchema> | undefined)?.[k] ??
      (node?.additionalProperties as TSchema | undefined);
  return node;
}

const formFields: FieldSpec[] = [
  ...GROUPS.flatMap((g) => g.fields),
  ...serviceFields('*'),
  ...policyFields('*'),
];
const formPaths = new Set(formFields.map((f) => f.path.join('.')));
const excluded = (p: string) =>
  Object.keys(NOT_IN_FORM).some((x) => p === x || p.startsWith(`${x}.`));

describe('the JSON Schema the core runs with', () => {
  it('is the definition, as written by `npm run settings:schema` (run it after changing definition.ts)', () => {
    expect(JSON.stringify(settingsJsonSchema)).toBe(JSON.stringify(SettingsSchema));
  });
});

describe('the settings form covers the settings definition', () => {
  const all = leaves(SettingsSchema).map((p) => p.join('.'));

  it('finds the fields (the walk itself sees maps and nested groups)', () => {
    expect(all).toContain('api.port');
    expect(all).toContain('services.*.command');
    expect(all).toContain('hibernation.policy.*.unloadAt');
    expect(all).toContain('audio.piperVoices');
    expect(all.length).toBeGreaterThan(50);
  });

  it('every field a user may set is in the form, or excluded with a reason', () => {
    const missing = all.filter((p) => !formPaths.has(p) && !excluded(p));
    expect(
      missing,
      'add these to renderer/src/settings-form.ts (or NOT_IN_FORM, saying why)',
    ).toEqual([]);
  });

  it('only read-only fields are excluded, and each exclusion names a real field', () => {
    for (const [p, why] of Object.entries(NOT_IN_FORM)) {
      expect(READ_ONLY_FIELDS as readonly string[], p).toContain(p);
      expect(definitionAt(p.split('.')), p).toBeDefined();
      expect(why.length).toBeGreaterThan(5);
    }
  });

  it('the form shows no field twice and no field the definition lacks', () => {
    expect(formPaths.size).toBe(formFields.length);
    for (const f of formFields) expect(definitionAt(f.path), f.path.join('.')).toBeDefined();
  });

  it('a path the settings type lacks does not compile', () => {
    // @ts-expect-error: `prot` is not a field of `api` (tsc checks this line).
    const typo: FieldSpec = { path: ['api', 'prot'], label: 'Port' };
    // @ts-expect-error: a service's fields are checked through the map too.
    const nested: FieldSpec = { path: ['services', 'x', 'comand'], label: 'Program' };
    expect([typo.label, nested.label]).toEqual(['Port', 'Program']);
  });
});

describe('the form reads each field from the definition', () => {
  const page = formSchema();

  it('each field’s help text is the definition’s description, present for every field', () => {
    for (const f of formFields) {
      const found = fieldSchema(page, f.path);
      const description = definitionAt(f.path)?.description as string | undefined;
      expect(description, `${f.path.join('.')} needs a description in schema.ts`).toBeTruthy();
      expect(found?.schema.description, f.path.join('.')).toBe(description);
    }
  });

  it('the kind of input follows the type: checkbox, choice, number (blank allowed where null is), list, key=value', () => {
    const kind = (...path: string[]) => {
      const found = fieldSchema(page, path)!;
      return fieldKind(found.schema, found.optional, path);
    };
    expect(kind('serveOnLan')).toEqual({ type: 'bool' });
    expect(kind('role')).toEqual({
      type: 'select',
      values: ['primary', 'fallback'],
      optional: false,
    });
    expect(kind('hibernation', 'policy', 'ollama', 'stopAt')).toEqual({
      type: 'select',
      values: ['warm', 'cool', 'cold', 'dormant', 'never'],
      optional: true,
    });
    expect(kind('prio')).toEqual({ type: 'number', nullable: true, seconds: false });
    expect(kind('hibernation', 'coolAfterSeconds')).toEqual({
      type: 'number',
      nullable: false,
      seconds: true,
    });
    expect(kind('models', 'preload')).toEqual({ type: 'list' });
    expect(kind('services', 'my-stt', 'options')).toEqual({ type: 'kv', typed: true });
    expect(kind('services', 'my-stt', 'env')).toEqual({ type: 'kv', typed: false });
    expect(kind('displayName')).toEqual({ type: 'text' });
    expect(fieldSchema(page, ['api', 'nope'])).toBeNull();
  });

  it('every choice has words for each of the definition’s values', () => {
    for (const f of formFields) {
      const values = definitionAt(f.path)?.enum as string[] | undefined;
      if (!values) continue;
      expect(Object.keys(f.optionLabels ?? {}).sort(), f.path.join('.')).toEqual(
        [...values].sort(),
      );
    }
  });

  it('the page gets only what the form reads (no patterns, no TypeBox markers)', () => {
    const json = JSON.stringify(page);
    expect(json).not.toMatch(/"pattern"|"propertyNames"|"maxLength"|"default"/);
    expect(json.length).toBeLessThan(JSON.stringify(SettingsSchema).length);
  });
});

describe('the README settings table', () => {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## The parts'));
  const keys = [...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) =>
    [...m[1]!.matchAll(/`([^`]+)`/g)].map((k) => k[1]!),
  );

  // A row's key names one field (`api.port`), a group (`supervisor.*`), a family
  // (`hibernation.*AfterSeconds`) or every service's entry (`services.<id>`).
  const pattern = (k: string) =>
    new RegExp(
      `^${k
        .split('.')
        .map((seg) => (seg === '<id>' ? '\\*' : seg === '*' ? '.+' : seg.replace('*', '\\w*')))
        .join('\\.')}(\\..+)?$`,
    );

  it('names every field of the definition', () => {
    const missing = leaves(SettingsSchema)
      .map((p) => p.join('.'))
      .filter((p) => p !== 'schemaVersion' && !keys.some((k) => pattern(k).test(p)));
    expect(missing, 'add these to the README settings table').toEqual([]);
  });

  it('names no field the definition lacks', () => {
    for (const k of keys.filter((k) => !k.includes('*') && !k.includes('<')))
      expect(definitionAt(k.split('.')), k).toBeDefined();
  });
});
