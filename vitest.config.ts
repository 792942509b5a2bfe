import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.dirname(fileURLToPath(import.meta.url));

// Three projects: unit (pure, fast), integration (real child processes), e2e (Chromium, namespaces).
export default defineConfig({
  test: {
    // One temp folder per run, removed at the end (test/helpers/tmp-root.ts).
    globalSetup: ['test/helpers/tmp-root.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // The real shell (main/shell) against the Electron stand-in in test/shell: `electron` is aliased
        // to it. --expose-gc: the stand-in's Action Center holds notifications weakly, as Windows does.
        resolve: { alias: { electron: path.join(root, 'test/shell/electron.ts') } },
        test: {
          name: 'shell',
          include: ['test/shell/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          execArgv: ['--expose-gc'],
        },
      },
      {
        // The Electron app under Playwright's _electron: skips (saying why) where Electron's binary is absent.
        test: {
          name: 'electron',
          include: ['test/electron/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
