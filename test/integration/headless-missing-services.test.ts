// A newcomer's first `npm run headless` on a machine without Ollama, VibeVoice or Piper: the terminal
// (default log level) says each missing service once, plainly, with what to do.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHeadless, tempDir, type Headless } from '../helpers/headless.js';

let h: Headless;
let empty: string;

beforeAll(async () => {
  empty = tempDir('unamentis-missing-');
  // Commands that cannot exist, so the test does not depend on what this machine has installed.
  const missing = (name: string) => ({ command: path.join(empty, name) });
  h = await startHeadless({
    bind: '127.0.0.1',
    env: { UNAMENTIS_LOG_LEVEL: 'info' },
    settings: {
      serveOnLan: false,
      discovery: { advertise: false, interfaces: [] },
      services: {
        ollama: missing('ollama'),
        vibevoice: missing('python-vibevoice'),
        piper: missing('python-piper'),
      },
    },
  });
});

afterAll(async () => {
  await h?.stop();
  fs.rmSync(empty, { recursive: true, force: true });
});

it('says each missing service once, at the default level, naming what to do', async () => {
  const lines = () =>
    h
      .output()
      .split('\n')
      .filter((l) => /^\S+ (WARN |ERROR) \[core:supervisor\]/.test(l));
  const end = Date.now() + 30_000;
  const names = ['Ollama', 'VibeVoice', 'Piper'];
  while (!names.every((n) => lines().some((l) => l.includes(n))) && Date.now() < end)
    await new Promise((r) => setTimeout(r, 100));
  // Long enough for a restart attempt or a health round to repeat a message.
  await new Promise((r) => setTimeout(r, 6_000));
  const seen = lines();
  for (const n of names) {
    const about = seen.filter((l) => l.includes(`] ${n}`));
    expect(about, `${n} in:\n${seen.join('\n')}`).toHaveLength(1);
    expect(about[0]).toMatch(/was not found|not installed|cannot start/);
    expect(about[0]).toMatch(/Install|Set|set |Fix/);
  }
  expect(h.output()).not.toMatch(/ DEBUG /);
});
