// The layer rules of eslint.config.js, tested on small in-memory files placed in each layer: every
// broken boundary is reported, every allowed import passes. (README, "Parts".)

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// [the file the import sits in, the import statement, broken?]
const CASES: [string, string, boolean][] = [
  // The kernel imports only the kernel.
  ['main/core/contract.ts', "import { x } from './util/clock.js';", false],
  ['main/core/contract.ts', "import { x } from './gpu/index.js';", true],
  ['main/core/context.ts', "import type { EventHub } from './api/sse.js';", true],
  ['main/core/errors.ts', "import type { X } from './supervisor/types.js';", true],
  ['main/core/util/a.ts', "import type { Settings } from '../settings/schema.js';", false],
  ['main/core/util/a.ts', "import { x } from '../contract.js';", false],
  ['main/core/util/a.ts', "import type { Supervisor } from '../supervisor/types.js';", true],
  ['main/core/settings/a.ts', "import { x } from '../api/errors.js';", true],
  ['main/core/services/a.ts', "import { x } from '../gpu/fit.js';", true],
  ['main/core/contract.ts', "import { x } from '../shell/main.js';", true],
  // A capability imports the kernel and its own folder, never another capability or the API.
  ['main/core/gpu/a.ts', "import { x } from './fit.js';", false],
  ['main/core/gpu/a.ts', "import type { CoreContext } from '../context.js';", false],
  ['main/core/gpu/a.ts', "import { listLoaded } from '../services/ollama.js';", false],
  ['main/core/gpu/a.ts', "import { CoreError } from '../errors.js';", false],
  ['main/core/gpu/sampler.ts', "import type { Supervisor } from '../supervisor/types.js';", true],
  [
    'main/core/hibernation/services.ts',
    "import type { Supervisor } from '../supervisor/types.js';",
    true,
  ],
  ['main/core/pairing/a.ts', "import { toPeer } from '../discovery/peers.js';", true],
  ['main/core/models/a.ts', "import { HttpError } from '../api/errors.js';", true],
  ['main/core/latency/a.ts', "import type { Route } from '../api/router.js';", true],
  ['main/core/gpu/a.ts', "import { createCore } from '../index.js';", true],
  ['main/core/gpu/a.ts', "import { x } from '../../shell/main.js';", true],
  ['main/core/gpu/a.ts', "export { x } from '../supervisor/index.js';", true],
  // A folder nobody listed (a new capability) gets the same rule.
  ['main/core/newcap/a.ts', "import { x } from '../util/clock.js';", false],
  ['main/core/newcap/a.ts', "import { x } from '../frontdoor/index.js';", true],
  ['main/core/frontdoor/a.ts', "import { x } from '../newcap/index.js';", true],
  // Two levels down, seen from one folder deeper.
  ['main/core/frontdoor/audio/a.ts', "import { x } from '../proxy.js';", false],
  ['main/core/frontdoor/audio/a.ts', "import { x } from '../../util/clock.js';", false],
  ['main/core/frontdoor/audio/a.ts', "import { x } from '../../supervisor/command.js';", true],
  ['main/core/frontdoor/audio/a.ts', "import { x } from '../../../shell/main.js';", true],
  // The API layer: kernel and capabilities, not the composition.
  ['main/core/api/a.ts', "import { x } from '../gpu/index.js';", false],
  ['main/core/api/a.ts', "import { createCore } from '../index.js';", true],
  ['main/core/api/routes/a.ts', "import { x } from '../../pairing/index.js';", false],
  ['main/core/api/routes/a.ts', "import { x } from '../errors.js';", false],
  ['main/core/api/routes/a.ts', "import { createCore } from '../../index.js';", true],
  // The composition wires everything in the core, nothing above it.
  ['main/core/index.ts', "import { x } from './gpu/index.js';", false],
  ['main/core/index.ts', "import { x } from '../shell/main.js';", true],
  // The core runs in plain Node.
  ['main/core/gpu/a.ts', "import { app } from 'electron';", true],
  ['main/core/util/a.ts', "import Store from 'electron-store';", true],
  ['main/headless.ts', "import { app } from 'electron';", true],
  // The renderer imports only the contract (types and its pure values), and no Node built-in.
  ['renderer/src/a.ts', "import type { Snapshot } from '../../main/core/contract.js';", false],
  ['renderer/src/a.ts', "import { ANSWERING_STATUSES } from '../../main/core/contract.js';", false],
  [
    'renderer/src/a.ts',
    "import type { Settings } from '../../main/core/settings/schema.js';",
    true,
  ],
  [
    'renderer/src/a.ts',
    "import type { LatencyReport } from '../../main/core/latency/types.js';",
    true,
  ],
  ['renderer/src/a.ts', "import { x } from '../../main/core/index.js';", true],
  ['renderer/src/a.ts', "import fs from 'node:fs';", true],
];

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

async function restricted(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(`${code}\nexport const _keep = 1;\n`, {
    filePath: path.join(root, file),
  });
  return r!.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.fatal)
    .map((m) => m.message);
}

describe('layer rules (eslint.config.js)', () => {
  for (const [file, code, broken] of CASES) {
    it(`${broken ? 'refuses' : 'allows'} in ${file}: ${code}`, async () => {
      const messages = await restricted(file, code);
      if (broken) expect(messages.length, `expected a report for ${code}`).toBeGreaterThan(0);
      else expect(messages).toEqual([]);
    });
  }

  it('says what to do instead', async () => {
    const [msg] = await restricted(
      'main/core/gpu/a.ts',
      "import type { Supervisor } from '../supervisor/types.js';",
    );
    expect(msg).toMatch(/narrow interface/);
  });
});
