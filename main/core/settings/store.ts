// Settings on disk: validated on load and on every change, written atomically by `conf`
// (the library electron-store is built on). A corrupt or invalid file is never fatal and never
// silently lost: it is moved aside, defaults are used, and the caller gets a notice to show.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import Conf from 'conf';
import { Ajv, type ErrorObject } from 'ajv';
import {
  defaultSettings,
  READ_ONLY_FIELDS,
  settingsJsonSchema,
  type HostFacts,
  type PairedPeer,
  type Settings,
} from './schema.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import { unconfirmedProgramChanges } from './programs.js';
import { ensurePrivateDir, untrusted } from '../util/private-fs.js';

const SETTINGS_FILE = 'settings.json';

export interface SettingsProblem {
  /** Dotted path of the offending field, e.g. `api.port`. */
  field: string;
  message: string;
  /** The change is well-formed but the caller may not make it (a program change over the API). */
  forbidden?: true;
}

/** How long a path the local user picked in the app's file dialog counts as confirmed. */
const CONFIRM_MS = 30 * 60_000;

// optimize: false: the validator runs on a settings change, not in a loop; compiling it unoptimized
// takes a third less of the server's start-up CPU (bench/headless.bench.ts).
const ajv = new Ajv({ allErrors: true, strict: false, code: { optimize: false } });
const validateSchema = ajv.compile(settingsJsonSchema);

/** Schema plus the rules JSON Schema cannot say. Returns the first problem, or null. */
export function validateSettings(candidate: unknown): SettingsProblem | null {
  if (!validateSchema(candidate)) return describeAjvError(validateSchema.errors?.[0]);
  const s = candidate as Settings;
  const h = s.hibernation;
  const order: [keyof Settings['hibernation'], number][] = [
    ['warmAfterSeconds', h.warmAfterSeconds],
    ['coolAfterSeconds', h.coolAfterSeconds],
    ['coldAfterSeconds', h.coldAfterSeconds],
    ['dormantAfterSeconds', h.dormantAfterSeconds],
  ];
  for (let i = 1; i < order.length; i++) {
    const [name, value] = order[i]!;
    const [prevName, prevValue] = order[i - 1]!;
    if (value <= prevValue) {
      return {
        field: `hibernation.${name}`,
        message: `must be greater than ${prevName} (${prevValue})`,
      };
    }
  }
  return null;
}

function describeAjvError(e: ErrorObject | undefined): SettingsProblem {
  if (!e) return { field: '', message: 'is invalid' };
  let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    field = field ? `${field}.${extra}` : extra;
    message = 'is not a known setting';
  } else if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    field = field ? `${field}.${missing}` : missing;
    message = 'is required';
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  } else {
    message = expectedInWords(e) ?? message;
  }
  return { field: field || '(root)', message };
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'a group of settings',
  null: 'empty',
};

/** Ajv says "must be number" or "must be >= 1"; a person reads "must be a number" and "must be at least 1". */
function expectedInWords(e: ErrorObject): string | null {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      const types = String(p.type).split(',');
      return `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
    }
    case 'minimum':
      return `must be at least ${String(p.limit)}`;
    case 'maximum':
      return `must be at most ${String(p.limit)}`;
    case 'exclusiveMinimum':
      return `must be more than ${String(p.limit)}`;
    case 'exclusiveMaximum':
      return `must be less than ${String(p.limit)}`;
    case 'minLength':
      return p.limit === 1
        ? 'must not be empty'
        : `must be at least ${String(p.limit)} characters long`;
    case 'maxLength':
      return `must be at most ${String(p.limit)} characters long`;
    case 'minItems':
      return `must list at least ${String(p.limit)}`;
    case 'maxItems':
      return `must list at most ${String(p.limit)}`;
    case 'uniqueItems':
      return 'must not list the same entry twice';
    case 'pattern':
      return `is not in the expected form (${String(p.pattern)})`;
    case 'format':
      return `must be a valid ${String(p.format)}`;
    default:
      return null;
  }
}

/** Deep merge for settings patches: objects merge, arrays and scalars replace. */
export function mergeSettings<T>(base: T, patch: unknown): T {
  if (!isPlainObject(patch) || !isPlainObject(base)) return patch as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    out[k] = k in out ? mergeSettings(out[k], v) : v;
  }
  return out as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type RedactedSettings = Omit<Settings, 'api' | 'pairing'> & {
  api: Omit<Settings['api'], 'token'>;
  pairing: Omit<Settings['pairing'], 'peers'> & { peers: Omit<PairedPeer, 'key'>[] };
};

export interface OpenResult {
  store: SettingsStore;
  /** User-facing problems found while loading (e.g. a corrupt file was replaced). */
  problems: string[];
}

export interface OpenOptions {
  dataDir: string;
  facts: HostFacts;
  now?: () => Date;
}

/** A value and everything under it, read-only (what `SettingsStore.view()` returns). */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** Freezes `value` and everything under it, in place. */
function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value as DeepReadonly<T>;
}

export class SettingsStore {
  #current: Settings;
  /** A frozen copy of #current, made at most once per change (see `view()`). */
  #view: DeepReadonly<Settings> | null = null;
  /** null when the folder cannot be written: settings then live in memory only. */
  readonly #conf: Conf<Settings> | null;
  readonly #events = new Emitter<{ change: { next: Settings; prev: Settings } }>();
  /** Paths the local user picked in the app's native file dialog, until when they count (programs.ts). */
  readonly #confirmed = new Map<string, number>();
  readonly file: string;

  private constructor(conf: Conf<Settings> | null, initial: Settings, file: string) {
    this.#conf = conf;
    this.#current = initial;
    this.file = file;
  }

  /**
   * Loads DATA_DIR/settings.json. Missing: defaults. Unreadable, not JSON, or invalid: moved to
   * `settings.json.corrupt-<time>`, replaced by defaults (keeping the host id and token when
   * those parts were still valid), and reported in `problems`.
   */
  static open(opts: OpenOptions): OpenResult {
    const now = opts.now ?? (() => new Date());
    ensurePrivateDir(opts.dataDir);
    const file = path.join(opts.dataDir, SETTINGS_FILE);
    removeLeftovers(opts.dataDir);
    const problems: string[] = [];
    const fresh = defaultSettings(opts.facts, {
      hostId: randomUUID(),
      token: randomBytes(24).toString('base64url'),
    });

    let settings = fresh;
    let raw: string | null = null;
    try {
      // Another user could have written it (a world-writable folder, issue #20): its commands run as us.
      const why = untrusted(fs.lstatSync(file));
      if (why) {
        problems.push(
          `${file} ${why}: another user may have changed it, and the programs it names run as you. Check its services (command, args, env), then make it yours with mode 0600.`,
        );
      }
    } catch {
      /* missing: defaults */
    }
    try {
      raw = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        problems.push(`Could not read ${file} (${(err as Error).message}); using defaults.`);
      }
    }
    if (raw !== null) {
      let parsed: unknown;
      let problem: string | null = null;
      try {
        parsed = JSON.parse(raw);
      } catch (err) {
        problem = `it is not valid JSON (${(err as Error).message})`;
      }
      if (problem === null) {
        // A partial file (an admin wrote only the keys they care about) is completed with defaults.
        const merged = mergeSettings(fresh, parsed);
        const bad = isPlainObject(parsed)
          ? validateSettings(merged)
          : { field: '(root)', message: 'must be an object' };
        if (bad) problem = `${bad.field} ${bad.message}`;
        else settings = merged;
      }
      if (problem !== null) {
        const backup = `${file}.corrupt-${now().toISOString().replace(/[:.]/g, '-')}`;
        settings = salvageIdentity(fresh, parsed, raw);
        try {
          fs.renameSync(file, backup);
          problems.push(
            `Settings file ${file} was invalid: ${problem}. It was moved to ${backup} and defaults are in use.`,
          );
        } catch (err) {
          // Never overwrite what we could not back up: run on defaults in memory only.
          problems.push(
            `Settings file ${file} is invalid (${problem}) and could not be moved aside (${(err as Error).message}); defaults are in use and nothing will be saved until it is fixed.`,
          );
          return { store: new SettingsStore(null, settings, file), problems };
        }
      }
    }

    let conf: Conf<Settings> | null;
    try {
      // conf validates the file as it finds it, so hand it the normalized (completed) settings.
      if (
        raw === null ||
        settings !== fresh ||
        JSON.stringify(safeParse(raw)) !== JSON.stringify(settings)
      ) {
        writeAtomic(file, settings);
      }
      // No `schema` for conf: validateSettings() checks every value before it reaches conf, and a
      // second Ajv compile of the same schema was a third of the server's start-up CPU.
      conf = new Conf<Settings>({
        cwd: opts.dataDir,
        configName: path.basename(SETTINGS_FILE, '.json'),
        projectName: 'unamentis-server',
        configFileMode: 0o600,
        clearInvalidConfig: false,
        defaults: settings,
      });
    } catch (err) {
      conf = null;
      problems.push(
        `Settings cannot be saved in ${opts.dataDir} (${(err as Error).message}); changes will last only until the app quits. Check the folder's permissions and free space.`,
      );
    }
    return { store: new SettingsStore(conf, settings, file), problems };
  }

  /** The current settings (a copy). Contains secrets: use `redacted()` for anything sent out. */
  get(): Settings {
    return structuredClone(this.#current);
  }

  /**
   * The current settings without a copy: one shared, deep-frozen object (mutating it throws), replaced
   * on each change. For code that reads settings often (timers, per-sample paths), where `get()`'s
   * deep copy every call is most of the cost. Contains secrets, like `get()`.
   */
  view(): DeepReadonly<Settings> {
    return (this.#view ??= deepFreeze(structuredClone(this.#current)));
  }

  /** The settings with secrets removed, for the API and the dashboard. */
  redacted(): RedactedSettings {
    const { api, pairing, ...rest } = this.get();
    const { token: _token, ...publicApi } = api;
    return {
      ...rest,
      api: publicApi,
      pairing: { ...pairing, peers: pairing.peers.map(({ key: _key, ...peer }) => peer) },
    };
  }

  /**
   * Applies a user's patch (deep-merged). Refuses read-only fields. Nothing is written
   * unless the whole result is valid.
   */
  update(
    patch: unknown,
    origin: 'local' | 'api' = 'local',
  ): { ok: true; settings: Settings } | { ok: false; problem: SettingsProblem } {
    if (!isPlainObject(patch))
      return { ok: false, problem: { field: '(root)', message: 'must be an object' } };
    for (const field of READ_ONLY_FIELDS) {
      const [head, sub] = field.split('.') as [string, string | undefined];
      const value = patch[head];
      if (value === undefined) continue;
      if (sub === undefined || (isPlainObject(value) && sub in value)) {
        return { ok: false, problem: { field, message: 'is read-only' } };
      }
    }
    const next = mergeSettings(this.#current, patch);
    if (origin === 'api') {
      const fields = this.programChanges(next);
      if (fields.length) {
        return {
          ok: false,
          problem: {
            field: fields[0]!,
            forbidden: true,
            message: `changes which program runs (${fields.join(', ')}). The API token alone cannot do that: pick the program with the app's file dialog, confirm it in the app, or edit ${SETTINGS_FILE} on this computer.`,
          },
        };
      }
    }
    return this.replace(next);
  }

  /** The program fields `next` would change that the local user has not confirmed (see programs.ts). */
  programChanges(next: Settings): string[] {
    const now = Date.now();
    for (const [p, until] of this.#confirmed) if (until <= now) this.#confirmed.delete(p);
    return unconfirmedProgramChanges(this.#current, next, (p) => this.#confirmed.has(p));
  }

  /** The local user picked `path` in the app's native file dialog: the API may name it as a program for a while. */
  confirmProgram(path: string): void {
    if (this.#confirmed.size >= 64) this.#confirmed.delete(this.#confirmed.keys().next().value!);
    this.#confirmed.set(path, Date.now() + CONFIRM_MS);
  }

  /** The patch merged over the current settings (for a confirmation that lists what would change). */
  preview(patch: unknown): Settings | null {
    return isPlainObject(patch) ? mergeSettings(this.#current, patch) : null;
  }

  /** Replaces the settings wholesale (internal callers: pairing, token rotation). */
  replace(
    next: Settings,
  ): { ok: true; settings: Settings } | { ok: false; problem: SettingsProblem } {
    const problem = validateSettings(next);
    if (problem) return { ok: false, problem };
    if (isDeepStrictEqual(next, this.#current)) return { ok: true, settings: this.get() };
    const prev = this.#current;
    try {
      this.#write(next);
    } catch (err) {
      return {
        ok: false,
        problem: { field: '(file)', message: `could not be saved: ${(err as Error).message}` },
      };
    }
    this.#current = structuredClone(next);
    this.#view = null;
    this.#events.emit('change', { next: this.get(), prev: structuredClone(prev) });
    return { ok: true, settings: this.get() };
  }

  onChange(listener: (e: { next: Settings; prev: Settings }) => void): Unsubscribe {
    return this.#events.on('change', listener);
  }

  /** True when changes are persisted (false: the folder was not writable at start). */
  get persistent(): boolean {
    return this.#conf !== null;
  }

  #write(next: Settings): void {
    if (!this.#conf)
      throw new Error(`the settings folder is not writable (${path.dirname(this.file)})`);
    // Keep the previous good file as settings.json.bak: an admin's bad edit is one copy away.
    // Copied to a temp name first: a kill -9 mid-copy must not leave an empty or partial .bak.
    const bakTmp = `${this.file}.bak.${process.pid}.tmp`;
    try {
      if (fs.existsSync(this.file)) {
        fs.copyFileSync(this.file, bakTmp);
        fs.chmodSync(bakTmp, 0o600);
        fs.renameSync(bakTmp, `${this.file}.bak`);
      }
    } catch {
      fs.rmSync(bakTmp, { force: true }); // a missing backup must not block the write
    }
    this.#conf.store = next;
    try {
      fs.chmodSync(this.file, 0o600);
    } catch {
      /* not supported on this file system */
    }
  }
}

function safeParse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/**
 * Temp copies a killed run left behind (issue #20: kill -9 during writes left copies of the settings,
 * token and pair keys included, next to an empty .bak): ours (`settings.json.<pid>.tmp`,
 * `settings.json.bak.<pid>.tmp`) and conf's (`settings.json.tmp-<stamp>`). Called under the data
 * folder's lock, so no live writer owns them.
 */
function removeLeftovers(dataDir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dataDir);
  } catch {
    return;
  }
  const leftover =
    /^(settings\.json(\.bak)?\.(\d+\.tmp|tmp-\w+)|(heartbeat-epoch|token)\.\d+\.tmp)$/;
  for (const n of names) if (leftover.test(n)) fs.rmSync(path.join(dataDir, n), { force: true });
  const bak = path.join(dataDir, `${SETTINGS_FILE}.bak`);
  try {
    if (fs.statSync(bak).size === 0) fs.rmSync(bak, { force: true }); // an empty backup from before this fix
  } catch {
    /* none */
  }
}

function writeAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, '\t'), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * From an invalid file, keep the identity (host id, token) when those parts are still readable:
 * the iPhone and the paired host know this host by its id. Unparseable text is searched by pattern.
 */
function salvageIdentity(fresh: Settings, parsed: unknown, raw: string): Settings {
  const out = structuredClone(fresh);
  const obj = isPlainObject(parsed) ? parsed : {};
  const api = isPlainObject(obj.api) ? obj.api : {};
  const hostId =
    typeof obj.hostId === 'string' ? obj.hostId : /"hostId"\s*:\s*"([^"]*)"/.exec(raw)?.[1];
  const token =
    typeof api.token === 'string' ? api.token : /"token"\s*:\s*"([^"]*)"/.exec(raw)?.[1];
  if (hostId && /^[0-9a-fA-F-]{36}$/.test(hostId)) out.hostId = hostId;
  if (token && /^[A-Za-z0-9_-]{16,256}$/.test(token)) out.api.token = token;
  return out;
}
