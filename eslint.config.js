// Layering rules live here, as in VS Code's eslint config: do not relax them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

// Node-only code may not load Electron (the core runs in plain Node: headless, tests, CI).
const noElectron = [
  { name: 'electron', message: 'main/core must run in plain Node: keep Electron in main/shell.' },
  {
    name: 'electron-store',
    message: 'electron-store imports electron: use main/core/settings (conf).',
  },
];

// What a kernel path looks like from main/core/ itself: the root files and the kernel folders.
const KERNEL = '(?:(?:contract|commands|context|errors)\\.js$|(?:state|settings|util|services)/)';

function restrict(files, patterns, ignores = []) {
  return {
    files,
    ignores,
    rules: { 'no-restricted-imports': ['error', { paths: noElectron, patterns }] },
  };
}

function coreLayers() {
  const kernelDirs = ['state', 'settings', 'util', 'services'].map((d) => `main/core/${d}/**`);
  const kernelOnly =
    'The kernel imports only the kernel (contract, commands, context, errors, state, settings, util, services).';
  const capability =
    'A capability imports the kernel and its own folder only: put what it needs of another capability (or of the API) in the kernel as a narrow interface (main/core/context.ts), and let createCore wire it.';
  const upward =
    'main/core may not import main/shell, main/headless.ts or other code above the core.';
  return [
    // Everything the core's layers do not cover, and the tools beside it: only no Electron.
    restrict(
      ['main/headless.ts', 'main/discover.ts', 'main/setup-cli.ts', 'test/**', 'bench/**'],
      [],
    ),
    // Kernel files at the root of main/core (any root file but index.ts).
    restrict(
      ['main/core/*.ts'],
      [
        { regex: `^\\./(?!${KERNEL})`, message: kernelOnly },
        { regex: '^\\.\\./', message: upward },
      ],
      ['main/core/index.ts'],
    ),
    // One level down: kernel folders and capability folders alike reach only the kernel above them.
    restrict(
      ['main/core/*/*.ts'],
      [
        { regex: `^\\.\\./(?!${KERNEL})`, message: capability },
        { regex: '^\\.\\./\\.\\./', message: upward },
      ],
      ['main/core/api/**'],
    ),
    // Two levels down (frontdoor/audio/): the same, seen from one folder deeper.
    restrict(
      ['main/core/*/*/*.ts'],
      [
        { regex: `^\\.\\./\\.\\./(?!${KERNEL})`, message: capability },
        { regex: '^\\.\\./\\.\\./\\.\\./', message: upward },
      ],
      ['main/core/api/**'],
    ),
    // The kernel folders: the same paths, with the kernel's message (they are flat).
    restrict(kernelDirs, [
      { regex: `^\\.\\./(?!${KERNEL})`, message: kernelOnly },
      { regex: '^\\.\\./\\.\\./', message: upward },
    ]),
    // The API layer: kernel and capabilities, never the composition above it.
    restrict(
      ['main/core/api/*.ts'],
      [
        {
          regex: '^\\.\\./index\\.js$',
          message: 'The API layer may not import createCore (main/core/index.ts).',
        },
        { regex: '^\\.\\./\\.\\./', message: upward },
      ],
    ),
    restrict(
      ['main/core/api/*/**/*.ts'],
      [
        {
          regex: '^\\.\\./\\.\\./index\\.js$',
          message: 'The API layer may not import createCore (main/core/index.ts).',
        },
        { regex: '^\\.\\./\\.\\./\\.\\./', message: upward },
      ],
    ),
    // The composition: anything in the core, nothing above it.
    restrict(['main/core/index.ts'], [{ regex: '^\\.\\./', message: upward }]),
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test-output/**', 'bench-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  // The core's layers (README, "Parts"): kernel < capabilities < API < composition < shell/headless.
  // - kernel: contract.ts, commands.ts, context.ts, errors.ts and state/, settings/, util/,
  //   services/ (what every capability may use). It imports only itself.
  // - a capability: any other folder under main/core (gpu/, supervisor/, a new one too). It imports
  //   the kernel and its own folder, never another capability's files: what one needs of another
  //   is a narrow interface in the kernel, handed over by the composition.
  // - api/: the HTTP layer over them; it may import capabilities, never the composition.
  // - index.ts (createCore): wires everything; main/shell and main/headless.ts sit above it.
  // Rules match import paths by pattern, so a new capability folder needs no entry here.
  ...coreLayers(),
  {
    // The renderer is a web page: it talks to the core over HTTP or the preload API only.
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'The renderer must not use Node built-ins.',
            })),
            { name: 'electron', message: 'Use the preload API (window.unamentis).' },
          ],
          patterns: [
            {
              regex: '(^|/)main/(?!core/contract\\.js$)',
              message:
                'The renderer imports only the contract (main/core/contract.ts): put a shared type there.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['preload/**'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
);
