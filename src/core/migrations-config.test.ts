/**
 * `migrations:` on services (issue 21, the migration lint): a directory of the release image or
 * a command that prints the SQL, only beside a release command, set only when written, and
 * refusals naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { formatErrors, parseProjectConfig } from './parse-config';

const file = (web: Record<string, unknown>, rest: Record<string, unknown> = {}) =>
  stringify({ project: 'shop', services: { web: { build: '.', port: 3000, ...web }, worker: { build: '.', command: ['node', 'worker.js'] } }, ...rest });
const RELEASE = { release_command: ['node', 'migrate.js'] };

function parsed(text: string, env?: string) {
  const r = parseProjectConfig(text, { env });
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  return r.config;
}
function errorsOf(text: string, env?: string): string {
  const r = parseProjectConfig(text, { env });
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return formatErrors(r.ok ? [] : r.errors);
}

test('dir and lint_command are normalized; absent when not written', () => {
  const byDir = parsed(file({ ...RELEASE, migrations: { dir: '/app/db//migrations/' } }));
  assert.deepEqual(byDir.services.web!.migrations, { dir: '/app/db/migrations', lintCommand: null });
  assert.equal('migrations' in byDir.services.worker!, false, 'other services are unchanged');
  const byCommand = parsed(file({ ...RELEASE, migrations: { lint_command: ['node', 'migrate.js', '--print-sql'] } }));
  assert.deepEqual(byCommand.services.web!.migrations, { dir: null, lintCommand: ['node', 'migrate.js', '--print-sql'] });
  assert.equal('migrations' in parsed(file(RELEASE)).services.web!, false);
});

test('with the release command from its own image', () => {
  const s = parsed(file({ release: { image: 'shop/migrator:3', command: ['migrate'] }, migrations: { dir: '/migrations' } })).services.web!;
  assert.deepEqual(s.migrations, { dir: '/migrations', lintCommand: null });
});

test('per environment: an override sets or replaces it (whole, never merged)', () => {
  const text = file(
    { ...RELEASE, migrations: { dir: '/app/db/migrations' } },
    { environments: { staging: { services: { web: { migrations: { lint_command: ['node', 'print.js'] } } } }, qa: { services: { worker: { release_command: ['node', 'm.js'], migrations: { dir: '/m' } } } } } },
  );
  assert.deepEqual(parsed(text, 'staging').services.web!.migrations, { dir: null, lintCommand: ['node', 'print.js'] });
  assert.deepEqual(parsed(text, 'production').services.web!.migrations, { dir: '/app/db/migrations', lintCommand: null });
  assert.deepEqual(parsed(text, 'qa').services.worker!.migrations, { dir: '/m', lintCommand: null });
  assert.equal(parsed(text, 'production').services.worker!.migrations, undefined);
});

test('refusals name the field and say what is expected', () => {
  assert.match(errorsOf(file({ migrations: { dir: '/app/db/migrations' } })), /^services\.web\.migrations: lints the SQL of the release command, but the service has none: add release_command/m);
  assert.match(errorsOf(file({ ...RELEASE, migrations: {} })), /^services\.web\.migrations\.dir: set exactly one of "dir" .* or "lint_command"/m);
  assert.match(errorsOf(file({ ...RELEASE, migrations: { dir: '/m', lint_command: ['x'] } })), /^services\.web\.migrations\.dir: set exactly one of/m);
  assert.match(errorsOf(file({ ...RELEASE, migrations: { dir: 'db/migrations' } })), /^services\.web\.migrations\.dir: must be an absolute path inside the release image/m);
  assert.match(errorsOf(file({ ...RELEASE, migrations: { dir: '/app/../etc' } })), /^services\.web\.migrations\.dir: must not contain "\." or "\.\." segments/m);
  assert.match(errorsOf(file({ ...RELEASE, migrations: { dir: '/' } })), /^services\.web\.migrations\.dir: must not be "\/"/m);
  assert.match(errorsOf(file({ ...RELEASE, migrations: { lint_command: [] } })), /^services\.web\.migrations\.lint_command: must have at least the program to run/m);
  assert.match(errorsOf(file({ ...RELEASE, migrations: { lint_command: 'node print.js' } })), /^services\.web\.migrations\.lint_command: must be a command as a list of arguments/m);
  assert.match(errorsOf(file({ ...RELEASE, migrations: { directory: '/m' } })), /^services\.web\.migrations: unknown field "directory"/m);
  // Only in the environment that lacks the release command: named with the environment.
  const worker = file(RELEASE, { environments: { qa: { services: { worker: { migrations: { dir: '/m' } } } } } });
  assert.match(errorsOf(worker, 'qa'), /services\.worker\.migrations: lints the SQL of the release command.*\(in environment qa\)/);
});
