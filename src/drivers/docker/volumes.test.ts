import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Docker from 'dockerode';
import { SlipwayError } from '../../core/errors';
import { ensureVolumes, volumeLabels, volumeName, type VolumeOwner } from './volumes';

test('volume names never collide although project, environment, owner and volume names contain "-"', () => {
  const shop = (env: string, owner: string, volume = 'data') => volumeName('slipway', { project: 'shop', env, owner }, volume);
  assert.equal(shop('production', 'db'), 'slipway_shop_production_db_data');
  // The reviewer's example: env preview-api + accessory db vs env preview + accessory api-db.
  assert.notEqual(shop('preview-api', 'db'), shop('preview', 'api-db'));
  const parts = ['a', 'b', 'a-b', 'b-a'];
  for (const base of ['slipway', 'slipway-test-1', 'slip_way']) {
    const names = new Set<string>();
    for (const project of parts) for (const env of parts) for (const owner of parts) for (const volume of parts) names.add(volumeName(base, { project, env, owner }, volume));
    assert.equal(names.size, parts.length ** 4, base);
  }
});

type Labels = Record<string, string> | null;

/** Just enough of dockerode's volume calls; `onCreate` can play another process creating the name first. */
function fakeDocker(existing: Record<string, Labels>, onCreate?: (name: string, volumes: Map<string, Labels>) => void) {
  const volumes = new Map(Object.entries(existing));
  const created: string[] = [];
  const docker = {
    getVolume: (name: string) => ({
      inspect: async () => (volumes.has(name) ? { Name: name, Labels: volumes.get(name) } : Promise.reject(Object.assign(new Error('no such volume'), { statusCode: 404 }))),
    }),
    createVolume: async (opts: { Name: string; Labels: Record<string, string> }) => {
      onCreate?.(opts.Name, volumes);
      // Docker returns an existing local volume of the name as it is (its labels unchanged).
      if (!volumes.has(opts.Name)) {
        volumes.set(opts.Name, opts.Labels);
        created.push(opts.Name);
      }
      return {};
    },
  } as unknown as Docker;
  return { docker, created };
}

const db: VolumeOwner = { project: 'shop', env: 'preview-api', owner: 'db' };
const mounts = [{ volume: 'data', path: '/var/lib/postgresql/data', readOnly: false }];
const runtimeError = (pattern: RegExp) => (err: unknown) => err instanceof SlipwayError && err.code === 'SLW_RUNTIME' && pattern.test(err.message);

test("a missing volume is created with its labels; an existing one of this owner is mounted", async () => {
  const fake = fakeDocker({});
  assert.deepEqual(await ensureVolumes(fake.docker, 'slipway', db, mounts), [{ Type: 'volume', Source: 'slipway_shop_preview-api_db_data', Target: '/var/lib/postgresql/data', ReadOnly: false }]);
  assert.deepEqual(fake.created, ['slipway_shop_preview-api_db_data']);
  const again = fakeDocker({ 'slipway_shop_preview-api_db_data': volumeLabels('slipway', db, 'data') });
  assert.equal((await ensureVolumes(again.docker, 'slipway', db, mounts))[0]?.Source, 'slipway_shop_preview-api_db_data');
  assert.deepEqual(again.created, []);
});

test('a volume of the name that Slipway did not create is refused, saying how to get rid of it', async () => {
  for (const labels of [null, { owner: 'me' }]) {
    const fake = fakeDocker({ 'slipway_shop_preview-api_db_data': labels });
    await assert.rejects(
      ensureVolumes(fake.docker, 'slipway', db, mounts),
      runtimeError(/docker volume slipway_shop_preview-api_db_data already exists but was not created by Slipway .*not mounted as volume data of db in project shop environment preview-api.*`docker volume rm slipway_shop_preview-api_db_data`/),
    );
  }
});

test("another owner's or another Slipway's volume of the name is refused, naming whose it is", async () => {
  const other = fakeDocker({ 'slipway_shop_preview-api_db_data': volumeLabels('slipway', { project: 'shop', env: 'preview', owner: 'api-db' }, 'data') });
  await assert.rejects(ensureVolumes(other.docker, 'slipway', db, mounts), runtimeError(/is volume data of api-db in project shop environment preview .*not volume data of db in project shop environment preview-api: refusing to mount it/));
  const otherBase = fakeDocker({ 'slipway_shop_preview-api_db_data': volumeLabels('slipway-2', db, 'data') });
  await assert.rejects(ensureVolumes(otherBase.docker, 'slipway', db, mounts), runtimeError(/of the Slipway with base network slipway-2/));
});

test('a volume of the name created by someone else between our look and our create is refused too', async () => {
  const fake = fakeDocker({}, (name, volumes) => volumes.set(name, null));
  await assert.rejects(ensureVolumes(fake.docker, 'slipway', db, mounts), runtimeError(/already exists but was not created by Slipway/));
  assert.deepEqual(fake.created, []);
});
