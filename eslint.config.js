import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json' } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The core (src/ca) is pure: arrows point inward only. Adapters import the core's ports
    // (src/ca/signer.ts), never the other way round. See docs/architecture.md.
    files: ['src/ca/**/*.ts'],
    rules: {
      // import() would slip past no-restricted-imports.
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: 'the core imports statically, so the rule below sees it' },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...[
              'fs',
              'fs/promises',
              'child_process',
              'http',
              'https',
              'http2',
              'dgram',
              'worker_threads',
            ].flatMap((name) =>
              [name, `node:${name}`].map((n) => ({ name: n, message: 'the core does no I/O: take a port' })),
            ),
            // isIP is a pure syntax check; sockets and DNS are I/O.
            ...['net', 'node:net'].map((name) => ({
              name,
              allowImportNames: ['isIP'],
              message: 'the core does no I/O: only isIP, a syntax check, may come from node:net',
            })),
          ],
          patterns: [
            {
              regex:
                '^(\\.\\./)+(keys|store|commands|cli|action|github|publish|threads|config|openssl-config|adopt)(/|\\.js$)|^(\\.\\./)+(cli|index|check-worker)\\.js$',
              message:
                'the core imports no adapter or entry point: define a port in src/ca and let the adapter import it',
            },
            {
              regex: '^@(azure|actions|octokit)/',
              message: 'SDKs belong to adapters, not to the core',
            },
          ],
        },
      ],
    },
  },
)
