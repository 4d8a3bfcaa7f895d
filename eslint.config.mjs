// Lint rules that guard the two things easiest to get silently wrong here:
// un-awaited promises, and non-deterministic code sneaking into workflows.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'dist/**', '.data/**', '.tools/**', '.scratch/**', '.test-artifacts/**', 'web/**', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins,
    // no client/worker/activity SDK, no I/O libraries. Activities are imported
    // as types only.
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflows run in a deterministic sandbox; Node built-ins belong in activities.',
          })),
          patterns: [
            {
              group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing', '@temporalio/client/*', '@temporalio/worker/*', '@temporalio/activity/*', '@temporalio/testing/*'],
              message: 'Workflows may only use @temporalio/workflow and @temporalio/common.',
            },
            {
              group: ['pg', 'typeorm', 'koa', 'stripe', 'pino', 'nodemailer', '../db/*', '../api/*'],
              message: 'I/O belongs in activities, not workflows.',
            },
            {
              group: ['../activities', '../activities/*'],
              importNamePattern: '.*',
              allowTypeImports: true,
              message: 'Import activities as types only (import type * as activities).',
            },
          ],
        },
      ],
    },
  },
);
