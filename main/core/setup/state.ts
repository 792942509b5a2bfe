// What setup has done, kept in `<dataDir>/setup/state.json` so a crash or a quit loses nothing:
// the phases each step finished (skipped on the next run), what it found or installed, and the
// last error with its manual command. Written atomically; a step found `running` at load was
// cut off by a quit or a crash and becomes `interrupted`.

import fs from 'node:fs';
import path from 'node:path';
import { STEP_IDS, type PhoneSeen, type StepId, type StepRecord } from '../contract.js';

export { STEP_IDS };
export type { StepId, StepRecord } from '../contract.js';

export interface SetupFile {
  v: 1;
  steps: Record<StepId, StepRecord>;
  phone: PhoneSeen | null;
  /** The user closed the first-run setup (or it finished): it opens again only for a missing service. */
  dismissed: boolean;
}

export const OUTPUT_LINES = 60;

function emptyRecord(id: StepId): StepRecord {
  return {
    id,
    state: 'todo',
    phase: null,
    done: [],
    progress: null,
    error: null,
    manual: null,
    output: [],
    facts: {},
    updatedAt: null,
  };
}

function emptyFile(): SetupFile {
  return {
    v: 1,
    steps: {
      ollama: emptyRecord('ollama'),
      piper: emptyRecord('piper'),
      vibevoice: emptyRecord('vibevoice'),
    },
    phone: null,
    dismissed: false,
  };
}

export class SetupStateFile {
  readonly file: string;
  #data: SetupFile;
  /** True when no state file existed: this is the app's first start with setup. */
  readonly fresh: boolean;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'setup', 'state.json');
    const loaded = load(this.file);
    this.fresh = loaded === null;
    this.#data = loaded ?? emptyFile();
    for (const id of STEP_IDS) {
      const r = this.#data.steps[id];
      if (r.state === 'running') {
        r.state = 'interrupted';
        r.progress = null;
        r.error =
          'Stopped when the app quit or crashed. Press Resume: it continues where it stopped.';
      }
    }
  }

  get(): SetupFile {
    return this.#data;
  }

  step(id: StepId): StepRecord {
    return this.#data.steps[id];
  }

  save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.#data, null, 2));
    fs.renameSync(tmp, this.file);
  }
}

function load(file: string): SetupFile | null {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const d = JSON.parse(raw) as Partial<SetupFile>;
    const base = emptyFile();
    for (const id of STEP_IDS) {
      const r = d.steps?.[id];
      if (r && typeof r === 'object')
        base.steps[id] = {
          ...emptyRecord(id),
          ...r,
          id,
          done: Array.isArray(r.done) ? r.done : [],
          facts: r.facts ?? {},
          output: Array.isArray(r.output) ? r.output : [],
        };
    }
    base.phone = d.phone ?? null;
    base.dismissed = d.dismissed === true;
    return base;
  } catch {
    // Unreadable: keep it for a look, start over (every phase re-checks what is already there).
    fs.renameSync(file, `${file}.corrupt-${Date.now()}`);
    return emptyFile();
  }
}
