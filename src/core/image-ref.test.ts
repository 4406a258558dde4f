/** Image references and env of slipway.yml (issue 18, item 10): refused where written, naming the field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { imageRefProblem } from './image-ref';
import { formatErrors, parseProjectConfig } from './parse-config';
import { deployBody, redeployBody } from './contract/requests';

test('image references follow Docker\'s grammar', () => {
  for (const ok of [
    'nginx', 'nginx:1.27', 'slipway/node:20', 'slipway/hello-web:production-v1', 'library/nginx:latest',
    'registry.example.com/team/app:1.2.3', 'localhost:5000/app', 'registry.example.com:5000/a/b/c:v1_2-3.4',
    `app@sha256:${'a'.repeat(64)}`, `registry.local/app:1@sha256:${'0'.repeat(64)}`, `sha256:${'f'.repeat(64)}`,
    'a__b/c-d.e', 'a---b', '[::1]:5000/app:1',
  ]) assert.equal(imageRefProblem(ok), null, ok);
  for (const bad of ['', 'foo\nbar', 'foo bar', 'Foo', 'nginx:', ':1', 'nginx:-x', 'app@sha256:abc', 'a/../b', 'a//b', '-a', 'a;rm -rf /', 'nginx\t', `a:${'t'.repeat(200)}`, `${'a'.repeat(300)}`, 'a\0b', '$(id)']) {
    assert.notEqual(imageRefProblem(bad), null, JSON.stringify(bad));
  }
});

test('a malformed image reference is refused naming the field (it reached Docker before)', () => {
  const text = stringify({ project: 'shop', services: { web: { image: 'foo\nbar', port: 3000 } }, environments: { staging: { services: { web: { image: 'x y' } } } } });
  const r = parseProjectConfig(text);
  assert.equal(r.ok, false);
  const msg = formatErrors(r.ok ? [] : r.errors);
  assert.match(msg, /^services\.web\.image: must be an image reference such as "slipway\/node:20"/m);
  assert.match(msg, /^environments\.staging\.services\.web\.image: must be an image reference/m);
  // The API's own image fields use the same grammar.
  const deploy = deployBody.safeParse({ config: 'x', image: 'foo\nbar' });
  assert.deepEqual(deploy.error?.issues.map((i) => i.path.join('.')), ['image']);
  assert.equal(redeployBody.safeParse({ image: 'a b' }).error?.issues[0]?.path.join('.'), 'image');
  assert.ok(redeployBody.safeParse({ image: 'slipway/hello-web:production-v1' }).success);
});

const withEnv = (env: Record<string, unknown>, staging?: Record<string, unknown>) =>
  stringify({
    project: 'shop',
    services: { web: { image: 'slipway/node:20', port: 3000, env } },
    ...(staging ? { environments: { staging: { services: { web: { env: staging } } } } } : {}),
  });

function errorsOf(text: string): string {
  const r = parseProjectConfig(text);
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return formatErrors(r.ok ? [] : r.errors);
}

test('an env value holding a NUL byte is refused at validation, naming the key', () => {
  assert.match(errorsOf(withEnv({ GOOD: 'x', BAD: 'a\0b' })), /^services\.web\.env\.BAD: must not contain a NUL character/m);
  assert.match(errorsOf(withEnv({}, { BAD: 'a\0b' })), /^environments\.staging\.services\.web\.env\.BAD: must not contain a NUL character/m);
});

test('env keys Slipway sets itself (PORT, SLIPWAY_*) are refused, naming the key', () => {
  for (const key of ['PORT', 'SLIPWAY_RELEASE', 'SLIPWAY_PROJECT', 'SLIPWAY_SERVICE', 'SLIPWAY_ENV', 'SLIPWAY_ANYTHING']) {
    assert.match(errorsOf(withEnv({ [key]: '1' })), new RegExp(`^services\\.web\\.env\\.${key}: is set by Slipway itself \\(PORT and SLIPWAY_\\* are reserved\\)`, 'm'));
    assert.match(errorsOf(withEnv({}, { [key]: '1' })), new RegExp(`^environments\\.staging\\.services\\.web\\.env\\.${key}: is set by Slipway itself`, 'm'));
  }
  const ok = parseProjectConfig(withEnv({ PORT_NUMBER: '1', MY_SLIPWAY_X: '1', slipway_lower: '1' }));
  assert.ok(ok.ok, ok.ok ? '' : formatErrors(ok.errors));
});
