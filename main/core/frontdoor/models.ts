// Learned preload: the models the phone actually asked Ollama for, newest first, kept in
// DATA_DIR/frontdoor/models.json. The app's default model is `qwen2.5:14b-instruct`, not our
// `models.preload` default (../../../../shared/reference/unamentis-app.md): preloading what was
// really used makes the first sentence after a wake fast.

import fs from 'node:fs';
import path from 'node:path';

export interface UsedModel {
  name: string;
  lastUsedAt: string;
  count: number;
}

const MAX_KEPT = 16;
/** Only the start of a body is looked at: `model` comes first in every client we know of. */
export const SNIFF_BYTES = 16 * 1024;

/** The `model` of an Ollama/OpenAI request body, from its first bytes (pure). */
export function modelInBody(prefix: string): string | null {
  const m = /"model"\s*:\s*"((?:[^"\\]|\\.){1,200})"/.exec(prefix);
  if (!m) return null;
  try {
    const name = JSON.parse(`"${m[1]}"`) as string;
    return /^[\w.:/-]{1,200}$/.test(name) ? name : null;
  } catch {
    return null;
  }
}

/** Records one use (pure): the model moves to the front. */
export function recordUse(list: readonly UsedModel[], name: string, at: string): UsedModel[] {
  const prev = list.find((m) => m.name === name);
  return [
    { name, lastUsedAt: at, count: (prev?.count ?? 0) + 1 },
    ...list.filter((m) => m.name !== name),
  ].slice(0, MAX_KEPT);
}

/** What to preload (pure): the `n` most recently used, else the configured list. */
export function preloadList(
  used: readonly UsedModel[],
  n: number,
  configured: readonly string[],
): string[] {
  const learned = used.slice(0, Math.max(0, n)).map((m) => m.name);
  return learned.length ? learned : [...configured];
}

export class ModelMemory {
  #used: UsedModel[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #file: string;

  constructor(dataDir: string) {
    this.#file = path.join(dataDir, 'frontdoor', 'models.json');
    try {
      const raw = JSON.parse(fs.readFileSync(this.#file, 'utf8')) as { models?: unknown };
      if (Array.isArray(raw.models)) {
        this.#used = raw.models
          .filter(
            (m): m is UsedModel =>
              !!m &&
              typeof m.name === 'string' &&
              typeof m.lastUsedAt === 'string' &&
              typeof m.count === 'number',
          )
          .slice(0, MAX_KEPT);
      }
    } catch {
      // None yet, or unreadable: start empty (the configured preload list applies).
    }
  }

  used(): readonly UsedModel[] {
    return this.#used;
  }

  record(name: string, at: Date): void {
    const wasFirst = this.#used[0]?.name === name;
    this.#used = recordUse(this.#used, name, at.toISOString());
    // Written at most once a second, and at once when the order changed.
    if (!wasFirst) this.flush();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), 1000);
      this.#timer.unref();
    }
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    try {
      fs.mkdirSync(path.dirname(this.#file), { recursive: true });
      const tmp = `${this.#file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ v: 1, models: this.#used }, null, 2), { mode: 0o600 });
      fs.renameSync(tmp, this.#file);
    } catch {
      // A read-only data dir loses only the learning, never a request.
    }
  }
}
