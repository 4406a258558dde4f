// Lint rules plus the import boundaries of docs/architecture.md:
// core imports nothing internal; engine imports core only; drivers and store
// implement core ports and never import the engine; source/ (context packing)
// imports core only; api imports core/engine,
// never drivers or store; only src/main.ts (with its stages in src/control-plane/) wires
// everything together.
// src/testing (memory ports, port contracts) imports core only and only tests import it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// src/testing (in-memory ports, port contract suites) is for tests: production code never imports it.
const TESTING = { group: ['**/testing/**', '**/testing'], message: 'production code never imports the test-only memory ports (src/testing)' };
const TESTS = ['src/**/*.test.ts', 'src/**/*.test-support.ts', 'src/**/*-contract.ts', 'src/store/test-support/**'];

const layer = (files, forbidden, why) => ({
  files,
  ignores: TESTS,
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: [...forbidden.map((group) => ({ group: [group], message: why })), TESTING] },
    ],
  },
});
// Test files keep their layer's boundaries and may use src/testing.
const testLayer = (files, forbidden, why) => ({
  files: files.flatMap((f) => ['**/*.test.ts', '**/*.test-support.ts', '**/*-contract.ts', 'test-support/**'].map((t) => f.replace(/\*\*$/, t))),
  rules: { 'no-restricted-imports': ['error', { patterns: forbidden.map((group) => ({ group: [group], message: why })) }] },
});
const layers = [
  [['src/core/**'], ['**/engine/**', '**/drivers/**', '**/store/**', '**/api/**', '**/client/**', '**/cli/**', '**/main', '**/control-plane/**'], 'core imports nothing internal'],
  [['src/engine/**'], ['**/drivers/**', '**/store/**', '**/api/**', '**/client/**', '**/cli/**', '**/main', '**/control-plane/**'], 'engine imports core only (ports are interfaces in core)'],
  [['src/drivers/**'], ['**/engine/**', '**/store/**', '**/api/**', '**/client/**', '**/cli/**', '**/main', '**/control-plane/**'], 'drivers implement core ports; they never import the engine'],
  [['src/store/**'], ['**/engine/**', '**/drivers/**', '**/api/**', '**/client/**', '**/cli/**', '**/main', '**/control-plane/**'], 'the store implements a core port; it never imports the engine'],
  [['src/api/**'], ['**/drivers/**', '**/store/**', '**/client/**', '**/cli/**', '**/main', '**/control-plane/**'], 'api imports core/engine, never drivers or store'],
  [['src/observe/**'], ['**/engine/**', '**/drivers/**', '**/store/**', '**/api/**', '**/client/**', '**/cli/**', '**/main', '**/control-plane/**'], 'observe/ (metrics, stats, readiness) imports core only; main.ts wires it to drivers and the store'],
  [['src/source/**'], ['**/engine/**', '**/drivers/**', '**/store/**', '**/api/**', '**/client/**', '**/cli/**', '**/main', '**/control-plane/**'], 'build-context packing is shared by the client and the server; it imports core only'],
  [['src/client/**'], ['**/engine/**', '**/drivers/**', '**/store/**', '**/api/**', '**/cli/**', '**/main', '**/control-plane/**'], 'the client talks HTTP; it imports core types (and source/ to pack contexts) only'],
  [['src/cli/**'], ['**/engine/**', '**/drivers/**', '**/store/**', '**/api/**', '**/main', '**/control-plane/**'], 'the CLI is a thin client of the API'],
  // In-memory ports and the port contract suites (issue 22): they implement core ports, for tests.
  [['src/testing/**'], ['**/engine/**', '**/drivers/**', '**/store/**', '**/api/**', '**/client/**', '**/cli/**', '**/main', '**/control-plane/**'], 'src/testing implements core ports for tests; it imports core only'],
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'web/dist/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['src/cli/**', 'scripts/**', 'bench/**', 'test/**', 'bin/**', 'examples/**'], rules: { 'no-console': 'off' } },
  // Type-aware: a promise nobody awaits loses its rejection (an unhandled rejection ends the
  // process) and its ordering. node:test's test()/describe() return promises the runner awaits.
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  // src/testing may import itself; every other layer's production files may not import it.
  ...layers.map(([files, forbidden, why]) => (files[0] === 'src/testing/**' ? { files, rules: testLayer(files, forbidden, why).rules } : layer(files, forbidden, why))),
  ...layers.filter(([files]) => files[0] !== 'src/testing/**').map(([files, forbidden, why]) => testLayer(files, forbidden, why)),
  { files: ['src/*.ts', 'src/control-plane/**'], ignores: TESTS, rules: { 'no-restricted-imports': ['error', { patterns: [TESTING] }] } },
);
