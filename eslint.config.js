// Lint, including the layer rules of spec §2: core never imports Electron, React or the DOM;
// the renderer reaches core only through the contract (`@contract`). Inside core/src, the layer
// order is written once in core/layers.js and enforced here by `layers/allowed-imports`.
import tseslint from 'typescript-eslint';
import { layersPlugin } from './core/layers.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', '.switchyard/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-empty-function': 'off',
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'react', 'react-dom', 'zustand', 'recharts'].map((name) => ({
            name,
            message: 'core is the engine: it never imports Electron, React or the DOM (spec §2).',
          })),
          patterns: [{ group: ['**/electron/**', '**/renderer/**'], message: 'core must not depend on the shell or the workbench.' }],
        },
      ],
    },
  },
  {
    // Production code only: a test may assemble its subject from any layer.
    files: ['core/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.test-d.ts'],
    plugins: { layers: layersPlugin },
    rules: { 'layers/allowed-imports': 'error' },
  },
  {
    files: ['renderer/src/**/*.ts', 'renderer/src/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/core/**', '!**/core/src/contract', '!**/core/src/contract/**', '!**/core/src/shared', '!**/core/src/shared/**'],
              message: 'The renderer imports core only through @contract and the pure modules of @shared (spec §2).',
            },
            { group: ['electron', 'node:*'], message: 'The renderer runs in a browser page: no Electron or Node modules.' },
          ],
        },
      ],
    },
  },
  {
    // core/src/shared: the pure modules the renderer imports too (@shared), so they run in a browser
    // page as well as in Node: no Node or Electron module, no package, and from core only the contract.
    files: ['core/src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'electron', 'react', 'zod', 'yaml', 'fastify', 'better-sqlite3', 'onnxruntime-node'], message: 'core/src/shared runs in the renderer too: plain TypeScript only.' },
            { group: ['../*', '!../contract', '!../contract/**'], message: 'core/src/shared imports only itself and the contract.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.cjs', '**/*.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
