// Lint rules plus the import boundaries of docs/architecture.md:
// core imports nothing internal; engine imports core only; drivers and store
// implement core ports and never import the engine; source/ (context packing)
// imports core only; api imports core/engine,
// never drivers or store; only src/main.ts wires everything together.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: forbidden.map((group) => ({ group: [group], message: why })) },
    ],
  },
});

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
  layer(['src/core/**'], ['**/engine/**', '**/drivers/**', '**/store/**', '**/api/**', '**/client/**', '**/cli/**', '**/main'], 'core imports nothing internal'),
  layer(['src/engine/**'], ['**/drivers/**', '**/store/**', '**/api/**', '**/client/**', '**/cli/**', '**/main'], 'engine imports core only (ports are interfaces in core)'),
  layer(['src/drivers/**'], ['**/engine/**', '**/store/**', '**/api/**', '**/client/**', '**/cli/**', '**/main'], 'drivers implement core ports; they never import the engine'),
  layer(['src/store/**'], ['**/engine/**', '**/drivers/**', '**/api/**', '**/client/**', '**/cli/**', '**/main'], 'the store implements a core port; it never imports the engine'),
  layer(['src/api/**'], ['**/drivers/**', '**/store/**', '**/client/**', '**/cli/**', '**/main'], 'api imports core/engine, never drivers or store'),
  layer(['src/observe/**'], ['**/engine/**', '**/drivers/**', '**/store/**', '**/api/**', '**/client/**', '**/cli/**', '**/main'], 'observe/ (metrics, stats, readiness) imports core only; main.ts wires it to drivers and the store'),
  layer(['src/source/**'], ['**/engine/**', '**/drivers/**', '**/store/**', '**/api/**', '**/client/**', '**/cli/**', '**/main'], 'build-context packing is shared by the client and the server; it imports core only'),
  layer(['src/client/**'], ['**/engine/**', '**/drivers/**', '**/store/**', '**/api/**', '**/cli/**', '**/main'], 'the client talks HTTP; it imports core types (and source/ to pack contexts) only'),
  layer(['src/cli/**'], ['**/engine/**', '**/drivers/**', '**/store/**', '**/api/**', '**/main'], 'the CLI is a thin client of the API'),
);
