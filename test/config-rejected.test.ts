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
import { stringify } from 'yaml';
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

/** A stack (issue 20) with one mistake per rule: each is named by its path. */
const badStack = {
  project: 'config',
  accessories: {
    db: { kind: 'postgres', version: '9', env: { POSTGRES_PASSWORD: 'hunter2' }, resources: { memory: '2m' }, volumes: ['backups:../backups'] },
    cache: { kind: 'redis', command: ['redis-server'] },
    search: { kind: 'container', port: 7700 },
    web: { kind: 'nats' },
  },
  services: {
    web: { build: '.', port: 3000, uses: ['db', 'queue'], resources: { cpus: 0 }, health: { kind: 'exec' } },
    worker: { build: '.', command: ['node', 'worker.js'], uses: { db: { url: 'PORT' } }, release: { image: 'm:1', command: ['migrate'] }, release_command: ['node', 'migrate.js'] },
  },
  environments: { staging: { accessories: { mq: { version: '2' } } } },
};

test('slipway config check refuses a bad stack, naming every accessory, uses, volume and limit field', async () => {
  const file = path.join(app.dir, 'bad-stack.yml');
  writeFileSync(file, stringify(badStack));
  const err = await run(process.execPath, [BIN, 'config', 'check', file]).then(
    () => assert.fail('expected a non-zero exit'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 1);
  for (const line of [
    'accessories.db.version: must be "15" for postgres',
    'accessories.db.env.POSTGRES_PASSWORD: is set by Slipway for postgres',
    'accessories.db.resources.memory: must be at least 6m',
    'accessories.db.volumes.0.path: must be an absolute path inside the container',
    'accessories.cache.command: is not allowed for redis',
    'accessories.search.image: a container accessory needs the image to run',
    'services.web.resources.cpus: must be between 0.01 and 256',
    'services.web.health.command: health kind "exec" needs a command',
    'services.worker.uses.db.url: is set by Slipway itself',
    'services.worker.release: set either "release"',
  ]) {
    assert.ok(err.stderr.includes(`  ${line}`), `expected "${line}" in:\n${err.stderr}`);
  }

  // Once each field is valid, the rules across fields are named too.
  const crossed: { accessories: unknown; services: Record<string, unknown> } = structuredClone(badStack);
  crossed.accessories = { db: { kind: 'postgres' }, web: { kind: 'nats' } };
  crossed.services.web = { build: '.', port: 3000, uses: ['db', 'queue'] };
  crossed.services.worker = { build: '.', command: ['node', 'worker.js'], uses: ['db'], env: { DATABASE_URL: 'postgres://elsewhere' } };
  writeFileSync(file, stringify(crossed));
  const err2 = await run(process.execPath, [BIN, 'config', 'check', file]).then(
    () => assert.fail('expected a non-zero exit'),
    (e: { code: number; stderr: string }) => e,
  );
  for (const line of [
    'environments.staging.accessories.mq: no accessory "mq" is defined under accessories (defined: db, web)',
    'accessories.web: is also the name of a service',
    'services.web.uses.1: no accessory "queue" is defined under accessories (defined: db, web)',
    'services.worker.uses.0: gives DATABASE_URL, which services.worker.env sets too',
  ]) {
    assert.ok(err2.stderr.includes(`  ${line}`), `expected "${line}" in:\n${err2.stderr}`);
  }
});

test('a valid stack passes slipway config check for every environment; the API refuses a bad one and stores nothing', async () => {
  const file = path.join(app.dir, 'stack.yml');
  const good = {
    project: 'config',
    accessories: { db: { kind: 'postgres' }, cache: { kind: 'redis', resources: { memory: '128m' } } },
    services: {
      web: { build: '.', port: 3000, uses: ['db', 'cache'], resources: { memory: '256m', cpus: 0.5 }, volumes: ['uploads:/app/uploads'] },
      worker: { build: '.', command: ['node', 'worker.js'], uses: { db: { url: 'PRIMARY_DB' } } },
    },
    environments: { staging: { accessories: { db: { resources: { memory: '512m' } } } } },
  };
  writeFileSync(file, stringify(good));
  const ok = await run(process.execPath, [BIN, 'config', 'check', file]);
  assert.match(ok.stdout, /is valid for production: .*2 accessory\(ies\): db \(postgres, slipway\/postgres:15\), cache \(redis, slipway\/redis:7\)/);
  assert.match(ok.stdout, /is valid for staging: /);

  const bad = stringify({ ...good, accessories: { db: { kind: 'postgres', version: 16 }, cache: { kind: 'redis' } } });
  await assert.rejects(cp.client.deploy({ config: bad }), (err: ApiError) => {
    assert.equal(err.status, 400);
    assert.equal(err.code, 'SLW_CONFIG_INVALID');
    const paths = err.details.map((d) => d.path);
    assert.deepEqual(paths, ['accessories.db.version'], JSON.stringify(err.details));
    return true;
  });
  await assert.rejects(cp.client.status('config'), (err: ApiError) => err.status === 404);
});

test('requests without the admin token are refused', async () => {
  const res = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/projects/config/status`);
  assert.equal(res.status, 401);
  const body = (await res.json()) as { error: { code: string } };
  assert.equal(body.error.code, 'SLW_UNAUTHORIZED');
  const health = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/health`);
  assert.equal(health.status, 200);
});
