import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessoryView, VolumeView } from '../core/contract/views';
import { accessoryBackupLines, accessoryRows, limitsCell, volumeLines, volumeRows } from './accessories-format';

const db: AccessoryView = {
  name: 'db', kind: 'postgres', env: 'production', image: 'slipway/postgres:15', imageDigest: 'sha256:abc', version: '15',
  state: 'running', ready: true, address: 'db:5432', startedAt: null, oomKilled: false,
  resources: { memoryBytes: 512 * 1024 * 1024, cpus: 0.5 },
  volumes: [{ volume: 'data', path: '/var/lib/postgresql/data', dockerName: 'slipway-shop-production-db-data' }],
  usedBy: ['web', 'worker'], credentialsVersion: 1, updatedAt: '2026-01-01T00:00:00Z',
};

test('accessory rows: kind with version, state, volumes, users and limits', () => {
  assert.deepEqual(accessoryRows([db])[0], {
    name: 'db', kind: 'postgres 15', state: 'running', ready: 'yes', address: 'db:5432', image: 'slipway/postgres:15',
    volumes: 'data:/var/lib/postgresql/data', 'used by': 'web, worker', limits: '512 MiB, 0.5 cpu',
  });
  const dead = accessoryRows([{ ...db, kind: 'container', version: null, state: 'exited', ready: false, oomKilled: true, usedBy: [], volumes: [], resources: { memoryBytes: null, cpus: null } }])[0]!;
  assert.equal(dead.kind, 'container');
  assert.equal(dead.state, 'exited (OOM killed)');
  assert.equal(dead['used by'], '-');
  assert.equal(dead.limits, '-');
  assert.equal(accessoryRows([{ ...db, ready: false }])[0]!.state, 'running (not ready)');
});

test('limits and volume sizes are human-readable', () => {
  assert.equal(limitsCell(undefined), '-');
  assert.equal(limitsCell({ memoryBytes: 64 * 1024 * 1024, cpus: null }), '64 MiB');
  assert.equal(limitsCell({ memoryBytes: null, cpus: 2 }), '2 cpu');
  const v: VolumeView = { name: 'slipway-shop-production-db-data', project: 'shop', env: 'production', owner: 'db', volume: 'data', sizeBytes: 1536, createdAt: null, usedBy: ['shop-db-production-a1b2c3'] };
  assert.deepEqual(volumeRows([v, { ...v, sizeBytes: null, usedBy: [] }]).map((r) => [r.size, r['used by']]), [['1.5 KiB', 'shop-db-production-a1b2c3'], ['-', '-']]);
});

test('env destroy says which volumes were kept and how to delete them', () => {
  const kept = volumeLines({ volumesDeleted: [], volumesKept: ['slipway-shop-staging-db-data'] }, 'shop', 'staging');
  assert.match(kept[0]!, /kept 1 volume\(s\).*slipway-shop-staging-db-data/);
  assert.match(kept[1]!, /slipway env destroy staging -p shop --delete-volumes --yes/);
  assert.deepEqual(volumeLines({ volumesDeleted: ['x'], volumesKept: [] }, 'shop', 'staging'), ['deleted 1 volume(s): x']);
  assert.deepEqual(volumeLines({ volumesDeleted: [], volumesKept: [] }, 'shop', 'staging'), []);
});

test('accessories with backups on get a line each: ok, or what failed', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const twoHoursAgo = '2026-12-07T10:00:00Z';
  const lines = accessoryBackupLines([
    { ...db, backup: { state: 'ok', lastBackupAt: twoHoursAgo, lastVerifiedAt: twoHoursAgo, detail: null } },
    { ...db, name: 'cache', kind: 'redis', backup: null },
    { ...db, name: 'orders', backup: { state: 'verify_failed', lastBackupAt: twoHoursAgo, lastVerifiedAt: null, detail: 'verification of backup 5e5e5e5e failed: row counts' } },
  ], now);
  assert.deepEqual(lines, [
    'db      backups: ok, last 2h ago, verified 2h ago',
    'orders  backups: verify FAILED — verification of backup 5e5e5e5e failed: row counts (last 2h ago, verified never)',
  ]);
  assert.deepEqual(accessoryBackupLines([db]), []);
});
