// The settings form's pure part: reading and writing nested values by path, turning text inputs
// into values, and computing the smallest patch for PUT /api/settings (objects merge on the
// server; arrays and scalars replace), and the kind of input a field gets from its schema.

import type { SettingsFieldSchema } from '../../main/core/contract.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function getPath(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** A copy of `obj` with `value` at `path` (missing objects on the way are created). */
export function setPath<T>(obj: T, path: readonly string[], value: unknown): T {
  if (path.length === 0) return value as T;
  const [head, ...rest] = path as [string, ...string[]];
  const base =
    obj !== null && typeof obj === 'object' && !Array.isArray(obj)
      ? (obj as Record<string, unknown>)
      : {};
  const next = { ...base };
  if (value === undefined && rest.length === 0) delete next[head];
  else next[head] = setPath(base[head], rest, value);
  return next as T;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What changed from `before` to `after`, as a deep-merge patch; undefined when nothing did. */
export function diffPatch(before: unknown, after: unknown): unknown {
  if (isObject(before) && isObject(after)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(after)) {
      if (after[k] === undefined) continue;
      const d = k in before ? diffPatch(before[k], after[k]) : after[k];
      if (d !== undefined) out[k] = d;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return same(before, after) ? undefined : after;
}

/** One item per line (or comma-separated on one line); blanks dropped. */
export function parseList(text: string): string[] {
  const parts = text.includes('\n') ? text.split('\n') : text.split(',');
  return parts.map((s) => s.trim()).filter(Boolean);
}

export function formatList(v: unknown, sep = '\n'): string {
  return Array.isArray(v) ? v.join(sep) : '';
}

/** `KEY=value` lines into an object. A line without `=` becomes a key with an empty value. */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const i = line.indexOf('=');
    if (i < 0) out[line] = '';
    else out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export function formatKeyValues(v: unknown): string {
  if (!isObject(v)) return '';
  return Object.entries(v)
    .map(([k, val]) => `${k}=${String(val)}`)
    .join('\n');
}

/** Options values keep their JSON type: `true`, `3`, else a string. */
export function typedValues(o: Record<string, string>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(o)) {
    out[k] =
      v === 'true'
        ? true
        : v === 'false'
          ? false
          : v !== '' && Number.isFinite(Number(v))
            ? Number(v)
            : v;
  }
  return out;
}

/**
 * A number input's text as a settings value: blank means null where null is allowed, and
 * otherwise stays the text (the API then names the field); a number otherwise.
 */
export function parseNumber(text: string, nullable: boolean): number | string | null {
  const t = text.trim();
  if (t === '') return nullable ? null : '';
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

/** Whether a field path is the one an API 400 names (or contains it, e.g. a list item). */
export function fieldMatches(errorField: string | null, path: readonly string[]): boolean {
  if (!errorField) return false;
  const p = path.join('.');
  return errorField === p || errorField.startsWith(`${p}.`);
}

/** The input a settings field gets, worked out from its schema (settings-form.ts adds only labels). */
export type FieldKind =
  | { type: 'bool' }
  | { type: 'select'; values: string[]; optional: boolean }
  | { type: 'number'; nullable: boolean; seconds: boolean }
  | { type: 'text' }
  | { type: 'list' }
  | { type: 'kv'; typed: boolean };

/**
 * The schema of the field at `path` (a map's entries use its `additionalProperties`), and whether
 * the field may be absent (not `required` by its parent). null: the schema has no such field.
 */
export function fieldSchema(
  root: SettingsFieldSchema,
  path: readonly string[],
): { schema: SettingsFieldSchema; optional: boolean } | null {
  let node: SettingsFieldSchema | undefined = root;
  let optional = false;
  for (const k of path) {
    if (!node) return null;
    const named: SettingsFieldSchema | undefined = node.properties?.[k];
    optional = named ? !(node.required ?? []).includes(k) : true;
    node = named ?? node.additionalProperties;
  }
  return node ? { schema: node, optional } : null;
}

export function fieldKind(
  schema: SettingsFieldSchema,
  optional: boolean,
  path: readonly string[],
): FieldKind {
  const types = ([] as string[]).concat(schema.type ?? []);
  if (schema.enum) return { type: 'select', values: schema.enum.map(String), optional };
  if (types.includes('boolean')) return { type: 'bool' };
  if (types.includes('integer') || types.includes('number')) {
    return {
      type: 'number',
      nullable: types.includes('null'),
      seconds: /Seconds$/.test(path.at(-1) ?? ''),
    };
  }
  if (types.includes('array')) return { type: 'list' };
  if (types.includes('object')) {
    const value = ([] as string[]).concat(schema.additionalProperties?.type ?? []);
    return { type: 'kv', typed: value.length > 1 };
  }
  return { type: 'text' };
}
