/**
 * Hostile slipway.yml through a real control plane (issue 18, items 6, 8 and 10): a huge
 * config, an alias bomb, a malformed image, NUL bytes and reserved env keys, over-long
 * durations and an oversized body are refused with a 4xx naming the field and the limit,
 * nothing is stored, and the server keeps answering.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { ApiError } from '../src/client/api-client';
import { ControlPlaneProcess } from './support/control-plane-process';

const cp = await ControlPlaneProcess.create('limits');

before(() => cp.start());
after(() => cp.destroy());

const post = (path: string, body: string) =>
  fetch(`http://127.0.0.1:${cp.apiPort}${path}`, { method: 'POST', headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' }, body });

async function refusedConfig(config: string): Promise<ApiError> {
  let caught: ApiError | null = null;
  await cp.client.deploy({ config }).catch((err: ApiError) => (caught = err));
  assert.ok(caught, 'the deploy must be refused');
  return caught;
}

test('a config of 20,000 services is refused at once naming the limit, and the server stays responsive', async () => {
  const services = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`s${i}`, { image: 'x:1' }]));
  const text = stringify({ project: 'limits', services }, { aliasDuplicateObjects: false });
  assert.ok(text.length > 64 * 1024 && text.length < 1024 * 1024, `${text.length} bytes: over the config limit, under the body limit`);
  const [err, health] = await Promise.all([refusedConfig(text), fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/health`)]);
  assert.equal(err.status, 400);
  assert.match(err.message, /config: size limit exceeded: must be at most 65536 bytes/);
  assert.ok(health.status === 200 || health.status === 503);
  // Under the byte limit, the structure limits speak.
  const fifty = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`s${i}`, { image: 'x:1' }]));
  const counted = await refusedConfig(stringify({ project: 'limits', services: fifty }));
  assert.equal(counted.code, 'SLW_CONFIG_INVALID');
  assert.ok(counted.details.some((d) => d.path === 'services' && /at most 50 services \(got 51\)/.test(d.message)), JSON.stringify(counted.details));
  await assert.rejects(cp.client.status('limits'), (e: ApiError) => e.status === 404);
});

test('a YAML alias bomb is a 400 that says aliases were exceeded (was a 500)', async () => {
  let bomb = 'project: limits\nservices:\n  web:\n    image: x:1\nx: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 0, prev = 'a'; i < 9; i++, prev = `b${i - 1}`) bomb += `y${i}: &b${i} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
  const err = await refusedConfig(bomb);
  assert.equal(err.status, 400);
  assert.equal(err.code, 'SLW_CONFIG_INVALID');
  assert.match(err.message, /aliases exceeded/);
});

test('image "foo\\nbar" is a 400 naming services.web.image, without reaching Docker (was a 502)', async () => {
  const err = await refusedConfig(stringify({ project: 'limits', services: { web: { image: 'foo\nbar', port: 3000 } } }));
  assert.equal(err.status, 400);
  assert.ok(err.details.some((d) => d.path === 'services.web.image' && /must be an image reference/.test(d.message)), JSON.stringify(err.details));
  const redeploy = await cp.client.redeploy('limits', 'web', { image: 'foo\nbar' }).catch((e: ApiError) => e);
  assert.ok(redeploy instanceof ApiError && redeploy.status === 400 && /image: must be an image reference/.test(redeploy.message), String(redeploy));
});

test('env: a NUL byte and the keys Slipway sets itself are refused naming the key', async () => {
  const err = await refusedConfig(
    stringify({
      project: 'limits',
      services: { web: { image: 'x:1', port: 3000, env: { OK: 'fine', BAD: 'a\0b', PORT: '80', SLIPWAY_RELEASE: 'v9' } } },
      environments: { staging: { services: { web: { env: { SLIPWAY_ENV: 'prod' } } } } },
    }),
  );
  assert.equal(err.status, 400);
  const paths = err.details.map((d) => `${d.path}: ${d.message}`);
  assert.ok(paths.some((p) => p.startsWith('services.web.env.BAD: must not contain a NUL character')), paths.join('\n'));
  assert.ok(paths.some((p) => p.startsWith('services.web.env.PORT: is set by Slipway itself')), paths.join('\n'));
  assert.ok(paths.some((p) => p.startsWith('services.web.env.SLIPWAY_RELEASE: is set by Slipway itself')), paths.join('\n'));
  assert.ok(paths.some((p) => p.startsWith('environments.staging.services.web.env.SLIPWAY_ENV: is set by Slipway itself')), paths.join('\n'));
  assert.ok(!JSON.stringify(err.details).includes('a\\u0000b'), 'the value is not echoed');
});

test('durations over 24d and non-finite ones are refused naming the field (config and run --timeout)', async () => {
  const err = await refusedConfig(stringify({ project: 'limits', services: { web: { image: 'x:1', port: 3000, release_timeout: '30d', health: { deadline: 1e308 } } } }));
  assert.equal(err.status, 400);
  const paths = err.details.map((d) => `${d.path}: ${d.message}`);
  assert.ok(paths.includes('services.web.release_timeout: must be at most 24d'), paths.join('\n'));
  assert.ok(paths.some((p) => p.startsWith('services.web.health.deadline: must be a duration')), paths.join('\n'));
  const run = await post('/api/v1/projects/limits/services/web/run', JSON.stringify({ argv: ['true'], timeout: '30d' }));
  assert.equal(run.status, 400);
  assert.match(((await run.json()) as { error: { message: string } }).error.message, /timeout: must be at most 24d/);
});

test('a body over the API limit is a 413 that names the limit', async () => {
  const res = await post('/api/v1/deployments', JSON.stringify({ config: 'x'.repeat(1024 * 1024 + 1) }));
  assert.equal(res.status, 413);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'SLW_TOO_LARGE');
  assert.match(body.error.message, /larger than 1048576 bytes/);
});
