import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', '.cache', '.data', 'coverage', 'console/dist', 'client/dist'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // One door to Temporal (issue 13.4): the API and the adapters reach it through WorkflowGateway only, and start
    // workflows by WORKFLOW_TYPES (workflows/definitions.ts), never by a string of their own.
    files: ['api/**/*.ts', 'infra/adapters/**/*.ts'],
    ignores: ['infra/adapters/workflow-gateway.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@temporalio/client', message: 'go through infra/adapters/workflow-gateway.ts' }],
        },
      ],
    },
  },
  {
    // domain/ holds facts without I/O (docs/architecture.md): it depends on nothing above it.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/infra/**', '**/api/**', '**/activities/**', '**/workflows/**'],
              message: 'domain/ imports nothing from infra, api, activities or workflows',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['api/**/*.ts', 'domain/**/*.ts', 'infra/**/*.ts', 'worker/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Literal[value=/^(assetLifecycle|webhookFanout|integrityScan|orphanSweep)$/]',
          message: 'use WORKFLOW_TYPES from workflows/definitions.ts',
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      // Workflow code is replayed: wall-clock time and randomness must come from the SDK.
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval'],
      'no-restricted-imports': ['error', { patterns: ['node:*', '@aws-sdk/*', 'pg', 'kysely', 'sharp'] }],
    },
  },
);
