// Layering rules live here, as in VS Code's eslint config: do not relax them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test-output/**', 'bench-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The core runs in plain Node (headless, tests, CI): Electron's binary is not there.
    files: ['main/core/**', 'main/headless.ts', 'main/discover.ts', 'test/**', 'bench/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'main/core must run in plain Node: keep Electron in main/shell.' },
            { name: 'electron-store', message: 'electron-store imports electron: use main/core/settings (conf).' },
          ],
        },
      ],
    },
  },
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
            ...nodeBuiltins.map((name) => ({ name, message: 'The renderer must not use Node built-ins.' })),
            { name: 'electron', message: 'Use the preload API (window.unamentis).' },
          ],
          patterns: [{ regex: '(^|/)main/(?!core/contract\\.js$)', message: 'The renderer may import only main/core/**/types or shared contracts.' , allowTypeImports: true }],
        },
      ],
    },
  },
  {
    files: ['preload/**'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
);
