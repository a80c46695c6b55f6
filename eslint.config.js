// ESLint flat config. The layer walls (SPEC §5, docs/architecture.md) are enforced with
// no-restricted-imports; test/unit/foundation/layers.test.ts checks the same walls on the files.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/** Electron is only imported by the shell (every other wall keeps this one: a later rule replaces an earlier one). */
const ELECTRON_PATHS = [
  { name: 'electron', message: 'Electron is only imported in src/main/shell.' },
  { name: 'electron-store', message: 'electron-store is only imported in src/main/shell.' },
  { name: 'electron-updater', message: 'electron-updater is only imported in src/main/shell (services/updates holds the decisions).' },
];

/** The rooms above the services: the composition root, the features, the IPC router, the shell and the entry points. */
const ABOVE_SERVICES = [
  '**/main/app.js',
  '../../app.js',
  '../../../app.js',
  '**/composition/**',
  '**/features/**',
  '**/ipc/**',
  '**/shell/**',
  '**/cli.js',
  '**/web-bridge.js',
  '**/bridge-main.js',
  '**/demo.js',
  '**/try.js',
];

const walls = (patterns, message) => ({
  'no-restricted-imports': ['error', { paths: ELECTRON_PATHS, patterns: [{ group: patterns, message }] }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'release/**', 'test-output/**', 'coverage/**', '.demo-data/**', '.try-data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Electron only in the shell.
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    ignores: ['src/main/shell/**'],
    rules: { 'no-restricted-imports': ['error', { paths: ELECTRON_PATHS }] },
  },
  {
    // Services are plain Node modules: they never reach up to the composition root, features, IPC or shell.
    files: ['src/main/services/**/*.ts'],
    rules: walls(ABOVE_SERVICES, 'src/main/services is plain Node: it imports shared code and other services only (docs/architecture.md).'),
  },
  {
    // Features get their services from ctx.services: they never build the app or reach into the shell.
    files: ['src/main/features/**/*.ts'],
    rules: walls(
      ['**/main/app.js', '../app.js', '../../app.js', '**/composition/**', '**/shell/**', '**/cli.js', '**/web-bridge.js', '**/bridge-main.js', '**/demo.js', '**/try.js'],
      'A feature uses ctx.services (src/main/features/types.ts), never the composition root or the shell.',
    ),
  },
  {
    // The IPC router validates and dispatches; it knows no feature, service factory or shell.
    files: ['src/main/ipc/**/*.ts'],
    rules: walls(['**/app.js', '**/composition/**', '**/features/**', '**/shell/**'], 'src/main/ipc depends on the contract only.'),
  },
  {
    // The vendor-side licence manager is its own program: nothing of the connector.
    files: ['src/license-manager/**/*.ts'],
    rules: walls(['**/main/**', '../main/*', '../renderer/*', '**/renderer/**'], 'src/license-manager is its own program: it imports src/shared at most.'),
  },
  {
    // The renderer talks only through the preload API: no main-process or Node imports.
    files: ['src/renderer/**/*.ts', 'src/renderer/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'The renderer uses the preload API only.' },
            { name: 'electron-store', message: 'The renderer uses the preload API only.' },
            { name: 'electron-updater', message: 'The renderer uses the preload API only.' },
          ],
          patterns: [
            { group: ['**/main/**', '../main/*', '../../main/*'], message: 'The renderer never imports src/main.' },
            { group: ['node:*', 'fs', 'path', 'child_process', 'pg', 'mssql'], message: 'No Node modules in the renderer.' },
          ],
        },
      ],
    },
  },
  {
    // Shared code is imported by both sides: no Node, no Electron, no main.
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'src/shared is imported by the renderer too.' },
            { name: 'electron-updater', message: 'src/shared is imported by the renderer too.' },
          ],
          patterns: [
            { group: ['**/main/**', '**/renderer/**'], message: 'src/shared depends on nothing of ours.' },
            { group: ['node:*'], message: 'src/shared runs in the renderer too.' },
          ],
        },
      ],
    },
  },
);
