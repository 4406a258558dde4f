/**
 * Invalid slipway.yml: the API and the CLI name the field and the expectation,
 * and nothing is written to the store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApiError } from '../src/client/api-client';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../bin/slipway.mjs');
const cp = await ControlPlaneProcess.create('config');
const app = new TestProject('config');

before(() => cp.start());
after(() => cp.destroy());

test('the API rejects an invalid config with path-naming errors and stores nothing', async () => {
  const good = app.configText({ version: '1' });
  const bad = good.replace('path: /health', 'path: health').replace('port: 3000', 'port: 0');
  await assert.rejects(cp.client.deploy({ config: bad }), (err: ApiError) => {
    assert.equal(err.status, 400);
    assert.equal(err.code, 'SLW_CONFIG_INVALID');
    const paths = err.details.map((d) => `${d.path}: ${d.message}`);
    assert.ok(paths.includes('services.web.health.path: must start with "/"'), paths.join('\n'));
    assert.ok(paths.includes('services.web.port: must be between 1 and 65535'), paths.join('\n'));
    return true;
  });
  await assert.rejects(cp.client.status('config'), (err: ApiError) => err.status === 404);
});

test('the API rejects a malformed body naming the field', async () => {
  await assert.rejects(cp.client.deploy({ config: 'x', sources: { web: { sha256: 'abc' } }, baseDir: '/srv' } as never), (err: ApiError) => {
    assert.equal(err.status, 400);
    assert.match(err.message, /sources\.web\.sha256: must be a sha256/);
    assert.match(err.message, /unknown field "baseDir"/);
    return true;
  });
});

test('slipway config check prints each error with its path and exits non-zero', async () => {
  const file = path.join(app.dir, 'bad.yml');
  writeFileSync(file, app.configText({ version: '1' }).replace('replicas: 2', 'replicas: two'));
  const err = await run(process.execPath, [BIN, 'config', 'check', file]).then(
    () => assert.fail('expected a non-zero exit'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 1);
  assert.match(err.stderr, /services\.web\.replicas: must be a whole number/);

  const ok = await run(process.execPath, [BIN, 'config', 'check', path.join(app.dir, 'slipway.yml')]).catch((e) => e);
  // slipway.yml of the test project is written by app.write(); write it first.
  if (ok.code) {
    app.write({ version: '1' });
    const again = await run(process.execPath, [BIN, 'config', 'check', path.join(app.dir, 'slipway.yml')]);
    assert.match(again.stdout, /is valid for production: project config/);
  }
});

test('requests without the admin token are refused', async () => {
  const res = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/projects/config/status`);
  assert.equal(res.status, 401);
  const body = (await res.json()) as { error: { code: string } };
  assert.equal(body.error.code, 'SLW_UNAUTHORIZED');
  const health = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/health`);
  assert.equal(health.status, 200);
});
