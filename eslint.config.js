// ESLint flat config. The layer walls (SPEC §5) are enforced with no-restricted-imports.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

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
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'Electron is only imported in src/main/shell.' },
            { name: 'electron-store', message: 'electron-store is only imported in src/main/shell.' },
          ],
        },
      ],
    },
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
          paths: [{ name: 'electron', message: 'src/shared is imported by the renderer too.' }],
          patterns: [
            { group: ['**/main/**', '**/renderer/**'], message: 'src/shared depends on nothing of ours.' },
            { group: ['node:*'], message: 'src/shared runs in the renderer too.' },
          ],
        },
      ],
    },
  },
);
