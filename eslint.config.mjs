// Lint rules that guard the two things easiest to get silently wrong here:
// un-awaited promises, and non-deterministic code sneaking into workflows.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tenantflow from './eslint/tenantflow.js';

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
    // Comments say why in the present and cite docs/ of this repository
    // (eslint/tenantflow.js; the console's files are checked by its test).
    files: ['**/*.ts'],
    plugins: { tenantflow },
    rules: { 'tenantflow/comment-refs': 'error' },
  },
  {
    // Each table family's statements live in its one db/ module; services and
    // activities call those modules and hold no SQL of their own
    // (docs/architecture.md, "Data access").
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', 'test/**', 'migrations/**', 'bench/**'],
    plugins: { tenantflow },
    settings: { tenantflow: { root: import.meta.dirname } },
    rules: { 'tenantflow/sql-owner': 'error' },
  },
  {
    files: ['services/**/*.ts', 'activities/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          // A Temporal workflow query (`handle.query(progressQuery)`: its definition is named …Query) is not SQL.
          selector: 'CallExpression[callee.property.name=/^(query|getRepository|createQueryBuilder)$/]:not([arguments.0.name=/Query$/])',
          message: 'Services and activities call db/ modules; the statement belongs in the module of its table.',
        },
      ],
    },
  },
  {
    // Imports point one way (docs/architecture.md):
    //   lib ← db (and migrations) ← activities, services ← workflows (types), api, worker
    // A workflow's contract and pure rules (workflows/*.contract.ts, *.rules.ts,
    // ids.ts, searchAttributes.ts) are importable from every layer above lib;
    // nothing imports in a circle.
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', 'test/**', 'scripts/**'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './lib',
              from: ['./db', './migrations', './activities', './services', './workflows', './api', './worker'],
              message: 'lib is the bottom layer.',
            },
            {
              target: ['./db', './migrations'],
              from: ['./activities', './services', './workflows', './api', './worker'],
              message: 'db sits under activities, services and the API.',
            },
            {
              target: ['./activities', './services'],
              from: ['./api', './worker', './workflows'],
              except: [
                './ids.ts',
                './searchAttributes.ts',
                './backfill.contract.ts',
                './backfill.rules.ts',
                './billing.contract.ts',
                './billing.rules.ts',
                './campaignFanout.contract.ts',
                './campaignFanout.rules.ts',
                './dunning.rules.ts',
                './enrollLead.contract.ts',
                './enrollLead.rules.ts',
                './provisionEmailOutreach.contract.ts',
                './provisionTenant.contract.ts',
                './sendQuota.rules.ts',
                './readMailbox.contract.ts',
                './sendMessage.contract.ts',
                './exportEvents.contract.ts',
                './automationRun.contract.ts',
                './triggerScheduledAutomation.contract.ts',
              ],
              message: 'activities and services import a workflow only through its contract and rules (workflows/*.contract.ts, *.rules.ts).',
            },
            { target: './activities', from: './services', message: 'activities and services are siblings: neither imports the other.' },
            { target: './services', from: './activities', message: 'activities and services are siblings: neither imports the other.' },
            {
              target: './workflows',
              from: ['./api', './worker', './services', './db', './migrations'],
              message: 'workflows are deterministic: activities are imported as types only.',
            },
            { target: './api', from: ['./worker', './activities'], message: 'the API reaches activities only through workflows it starts.' },
            {
              // A migration is a snapshot of the schema change it made: editing an
              // older migration must not change a newer one, so none imports another
              // (copy the value in). Only migrations/index.ts lists them.
              target: ['./migrations/[0-9]*.ts', './migrations/lib/**', './migrations/backfills/**'],
              from: ['./migrations/[0-9]*.ts'],
              message: 'A migration never imports another migration: copy the value into this file.',
            },
          ],
        },
      ],
    },
  },
  {
    // Route files declare and call one service function: no SQL, no
    // repositories, no database layer (docs/architecture.md).
    files: ['api/routes/**/*.ts'],
    ignores: ['api/routes/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['typeorm', '../../db/*', '!../../db/ids'], message: 'Routes call services; the database is theirs.' }] },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.property.name=/^(query|getRepository|createQueryBuilder|transaction)$/]',
          message: 'No SQL in route files: put it in the feature service.',
        },
      ],
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
              group: [
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                '@temporalio/testing',
                '@temporalio/client/*',
                '@temporalio/worker/*',
                '@temporalio/activity/*',
                '@temporalio/testing/*',
              ],
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
