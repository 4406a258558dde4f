/**
 * The backup routes in-process (fastify.inject) over fakes: no store, no Docker. Scopes and
 * project restriction, input refused before the stream as a normal JSON error, NDJSON lines
 * that match the contract, error lines carrying the code (never a stack or an internal
 * message), and the audit details.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApi } from './server';
import type { ApiDeps } from './api-deps';
import { FailureLimiter } from './rate-limit';
import { backupEvent, restoreEvent } from '../core/contract/routes';
import type { AccessoryView, BackupView } from '../core/contract/views';
import { SlipwayError } from '../core/errors';
import type { AccessoryRef, RestoreOptions, TakeBackupOptions } from '../engine/backup-operations';
import type { Principal } from '../engine/access';

const ID = '1a2b3c4d-0000-4000-8000-000000000001';
const OTHER = '9f8e7d6c-0000-4000-8000-000000000002';
const backup = (over: Partial<BackupView> = {}): BackupView => ({
  id: ID, env: 'production', accessory: 'db', type: 'full', trigger: 'manual', deploymentId: null, triggeredBy: 'user:admin', state: 'succeeded',
  label: '20261207-100000F', sizeBytes: 1024, storedBytes: 512, startedAt: '2026-12-07T10:00:00.000Z', finishedAt: '2026-12-07T10:00:04.000Z', durationMs: 4000,
  tables: 2, rows: 10, contents: '10 rows in 2 table(s) at its restore point', error: null, verification: null, expired: false, ...over,
});
const accessory = (name: string, kind: AccessoryView['kind']): AccessoryView => ({
  name, kind, env: 'production', image: 'img', imageDigest: null, version: null, state: 'running', ready: true, address: `${name}:5432`, startedAt: null,
  oomKilled: false, resources: { memoryBytes: null, cpus: null }, volumes: [], usedBy: ['web'], credentialsVersion: 1, updatedAt: '2026-01-01T00:00:00Z',
  backup: name === 'search' ? null : { state: 'ok', lastBackupAt: null, lastVerifiedAt: null, detail: null },
});

const principals: Record<string, Principal> = {};
for (const scope of ['read', 'deploy', 'admin'] as const) principals[scope] = { actor: `user:${scope}`, scope, project: null, tokenId: `tok_${scope}`, expiresAt: null, dashboardSession: false };
principals.other = { ...principals.deploy!, actor: 'token:other', project: 'other', tokenId: 'tok_other' };

const audit: Array<{ action: string; target: string | null; detail: string | null; project: string | null }> = [];
const calls: Array<{ op: string; ref?: AccessoryRef; id?: string; opts?: unknown }> = [];
let takeFails: Error | null = null;
let app: FastifyInstance;

const backups: ApiDeps['backups'] = {
  list: async (project, env, q) => {
    calls.push({ op: 'list', ref: { project, env, accessory: q.accessory ?? '' }, opts: q });
    return project === 'shop' && env === 'production' ? [backup({ id: OTHER, state: 'failed', error: 'archive-push timed out', triggeredBy: 'user:deploy', startedAt: new Date().toISOString() }), backup()] : [];
  },
  get: async (id, project) => {
    if (project && project !== 'shop') throw new SlipwayError('SLW_NOT_FOUND', `backup ${id} does not exist`);
    if (id !== ID) throw new SlipwayError('SLW_NOT_FOUND', `backup ${id} does not exist`);
    return backup();
  },
  take: async (ref: AccessoryRef, opts: TakeBackupOptions) => {
    calls.push({ op: 'take', ref, opts: { type: opts.type, trigger: opts.trigger, triggeredBy: opts.triggeredBy } });
    opts.onProgress?.('P00   INFO: backup command begin');
    if (takeFails) throw takeFails;
    return backup({ type: opts.type ?? 'full' });
  },
  verify: async (id, opts) => {
    calls.push({ op: 'verify', id, opts: { project: opts.project } });
    opts.onProgress?.('restoring into a scratch container');
    return backup({ verification: { state: 'failed', startedAt: '2026-12-07T11:00:00Z', finishedAt: '2026-12-07T11:00:09Z', durationMs: 9000, checks: [{ name: 'row counts', ok: false, detail: 'orders: 0' }], error: 'row counts: orders: 0' } });
  },
  restore: async (ref: AccessoryRef, opts: RestoreOptions) => {
    calls.push({ op: 'restore', ref, opts: { backupId: opts.backupId, toTime: opts.toTime, inPlace: opts.inPlace, triggeredBy: opts.triggeredBy } });
    opts.onProgress?.('restoring');
    if (opts.toTime) throw new Error('pg_ctl failed at /srv/internal/path');
    return { accessory: 'db-restored-202612071030', inPlace: false, backup: backup(), toTime: null, safetyBackup: null, next: ['slipway db shell db-restored-202612071030'] };
  },
};

before(async () => {
  const deps = {
    access: { authenticate: async (token: string) => principals[token] ?? Promise.reject(new SlipwayError('SLW_UNAUTHORIZED', 'invalid token')) },
    audit: { record: async (e: (typeof audit)[number]) => void audit.push(e) },
    authLimiter: new FailureLimiter(1000, 60_000),
    accessories: { list: async (p: string, e: string) => (p === 'shop' && e === 'production' ? [accessory('db', 'postgres'), accessory('cache', 'redis'), accessory('search', 'container')] : []) },
    backups,
    logger: pino({ level: 'silent' }),
  } as unknown as ApiDeps;
  app = buildApi(deps, { strictResponses: true });
  await app.ready();
});

after(async () => {
  await app?.close();
});

const call = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown) =>
  app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
const lines = (body: string) => body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const base = '/api/v1/projects/shop/envs/production';

test('list and show need read; the query is parsed; a project token reaches its own project only', async () => {
  const list = await call('GET', `${base}/backups?accessory=db&expired=true&limit=5`, 'read');
  assert.equal(list.statusCode, 200, list.body);
  assert.deepEqual(list.json().backups.map((b: BackupView) => b.id), [OTHER, ID]);
  assert.deepEqual(calls.at(-1)!.opts, { accessory: 'db', limit: 5, expired: true, deploymentId: undefined });
  const DEPLOYMENT = '0b0b0b0b-0000-4000-8000-00000000000d';
  assert.equal((await call('GET', `${base}/backups?deployment=${DEPLOYMENT}`, 'read')).statusCode, 200);
  assert.equal((calls.at(-1)!.opts as { deploymentId?: string }).deploymentId, DEPLOYMENT);
  const bad = await call('GET', `${base}/backups?limit=0`, 'read');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.details[0].path, 'limit');
  const badDeployment = await call('GET', `${base}/backups?deployment=v3`, 'read');
  assert.equal(badDeployment.statusCode, 400);
  assert.deepEqual([badDeployment.json().error.details[0].path, badDeployment.json().error.details[0].message], ['deployment', 'must be a deployment id (uuid)']);
  assert.equal((await call('GET', `/api/v1/backups/${ID}`, 'read')).json().backup.id, ID);
  assert.equal((await call('GET', '/api/v1/backups/not-an-id', 'read')).statusCode, 400);
  assert.equal((await call('GET', `/api/v1/backups/${ID}`, 'other')).statusCode, 404, "another project's backup is not visible");
  assert.equal((await call('GET', '/api/v1/projects/shop/envs/production/backups', 'other')).statusCode, 403);
});

test('back up now: deploy scope; bad input and unknown or unsupported accessories are JSON errors before the stream', async () => {
  assert.equal((await call('POST', `${base}/accessories/db/backups`, 'read', {})).statusCode, 403);
  const badType = await call('POST', `${base}/accessories/db/backups`, 'deploy', { type: 'incremental' });
  assert.equal(badType.statusCode, 400);
  assert.equal(badType.json().error.details[0].path, 'type');
  const nope = await call('POST', `${base}/accessories/nope/backups`, 'deploy', {});
  assert.equal(nope.statusCode, 404);
  assert.match(nope.json().error.message, /accessory "nope" does not exist in shop production \(accessories: db, cache, search\)/);
  const off = await call('POST', `${base}/accessories/search/backups`, 'deploy', {});
  assert.equal(off.statusCode, 400);
  assert.match(off.json().error.message, /accessory "search" has backups off \(a container accessory is backed up only when its slipway.yml entry has backup:\)/);
  const redis = await call('POST', `${base}/accessories/cache/backups`, 'deploy', { type: 'full' });
  assert.equal(redis.statusCode, 400);
  assert.equal(redis.json().error.details[0].path, 'type');
  assert.match(redis.json().error.message, /cache is a redis accessory; its backups are whole snapshots/);
  assert.ok(!calls.some((c) => c.op === 'take'), 'nothing ran for refused requests');

  const res = await call('POST', `${base}/accessories/db/backups`, 'deploy', { type: 'diff' });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(res.headers['content-type'] as string, /application\/x-ndjson/);
  const events = lines(res.body);
  for (const e of events) backupEvent.parse(e);
  assert.deepEqual(events[0], { type: 'progress', line: 'P00   INFO: backup command begin' });
  assert.equal(events.at(-1)!.type, 'done');
  assert.deepEqual(calls.find((c) => c.op === 'take')!.opts, { type: 'diff', trigger: 'manual', triggeredBy: 'user:deploy' });
  const entry = audit.findLast((e) => e.action === 'POST /api/v1/projects/:project/envs/:env/accessories/:name/backups')!;
  assert.equal(entry.target, 'accessory db env production');
  assert.match(entry.detail!, /^backup\.create: diff 1a2b3c4d succeeded, 1\.0 KiB, 4\.0 s$/);
});

test('a failed backup ends with an error line: its code, message and the failed record; other errors say nothing internal', async () => {
  takeFails = new SlipwayError('SLW_BACKUP_FAILED', 'pgBackRest failed: archive-push timed out');
  const res = await call('POST', `${base}/accessories/db/backups`, 'deploy', {});
  takeFails = null;
  assert.equal(res.statusCode, 200);
  const last = lines(res.body).at(-1)!;
  backupEvent.parse(last);
  assert.equal(last.type, 'error');
  assert.equal(last.code, 'SLW_BACKUP_FAILED');
  assert.equal(last.message, 'pgBackRest failed: archive-push timed out');
  assert.equal((last.backup as BackupView | null)?.id, OTHER, 'the record of the failed backup: by this actor, by hand, since the request');
  assert.match(audit.at(-1)!.detail!, /^backup\.create: full 9f8e7d6c failed, 1\.0 KiB, 4\.0 s \[SLW_BACKUP_FAILED\]$/);

  // The engine names the failed record in the error's details: that one is sent.
  takeFails = new SlipwayError('SLW_BACKUP_FAILED', 'backup of db failed: x', [{ path: 'backup', message: ID }]);
  const named = lines((await call('POST', `${base}/accessories/db/backups`, 'deploy', {})).body).at(-1)!;
  takeFails = null;
  assert.equal((named.backup as BackupView).id, ID);

  takeFails = new Error('connect ENOENT /var/run/docker.sock');
  const internal = await call('POST', `${base}/accessories/db/backups`, 'deploy', {});
  takeFails = null;
  const err = lines(internal.body).at(-1)!;
  assert.deepEqual([err.code, err.message], ['SLW_INTERNAL', 'internal error; see the server log']);
  assert.ok(!internal.body.includes('docker.sock') && !internal.body.includes('    at '), 'no internal message or stack');
});

test('verify: deploy scope; 404 before the stream; the verification outcome and the restriction reach the engine', async () => {
  assert.equal((await call('POST', `/api/v1/backups/${ID}/verify`, 'read', {})).statusCode, 403);
  assert.equal((await call('POST', `/api/v1/backups/${OTHER}/verify`, 'deploy', {})).statusCode, 404);
  assert.equal((await call('POST', `/api/v1/backups/${ID}/verify`, 'other', {})).statusCode, 404);
  const res = await call('POST', `/api/v1/backups/${ID}/verify`, 'deploy', {});
  assert.equal(res.statusCode, 200, res.body);
  const events = lines(res.body);
  for (const e of events) backupEvent.parse(e);
  assert.equal(((events.at(-1)!.backup as BackupView).verification!).state, 'failed');
  assert.deepEqual(calls.findLast((c) => c.op === 'verify'), { op: 'verify', id: ID, opts: { project: null } });
  const entry = audit.at(-1)!;
  assert.equal(entry.target, `backup ${ID} (accessory db env production)`);
  assert.equal(entry.detail, 'backup.verify: verification failed: row counts: orders: 0');
});

test('restore: admin only; exactly one of backup and toTime; the backup must be this accessory\'s; outcome and next steps', async () => {
  assert.equal((await call('POST', `${base}/accessories/db/restore`, 'deploy', { backup: ID })).statusCode, 403);
  const neither = await call('POST', `${base}/accessories/db/restore`, 'admin', {});
  assert.equal(neither.statusCode, 400);
  assert.match(neither.json().error.message, /exactly one of backup .* or toTime/);
  const both = await call('POST', `${base}/accessories/db/restore`, 'admin', { backup: ID, toTime: '2026-12-07T10:30:00Z' });
  assert.equal(both.statusCode, 400);
  const badTime = await call('POST', `${base}/accessories/db/restore`, 'admin', { toTime: 'yesterday' });
  assert.equal(badTime.json().error.details[0].path, 'toTime');
  const missing = await call('POST', `${base}/accessories/db/restore`, 'admin', { backup: OTHER });
  assert.equal(missing.statusCode, 404);
  const wrongAccessory = await call('POST', '/api/v1/projects/shop/envs/production/accessories/cache/restore', 'admin', { backup: ID });
  assert.equal(wrongAccessory.statusCode, 400, 'redis cannot be restored');
  assert.ok(!calls.some((c) => c.op === 'restore'));

  const res = await call('POST', `${base}/accessories/db/restore`, 'admin', { backup: ID });
  assert.equal(res.statusCode, 200, res.body);
  const events = lines(res.body);
  for (const e of events) restoreEvent.parse(e);
  const done = events.at(-1)!;
  assert.equal(done.accessory, 'db-restored-202612071030');
  assert.deepEqual(done.next, ['slipway db shell db-restored-202612071030']);
  assert.deepEqual(calls.findLast((c) => c.op === 'restore')!.opts, { backupId: ID, toTime: undefined, inPlace: false, triggeredBy: 'user:admin' });
  assert.equal(audit.at(-1)!.detail, `backup.restore: backup ${ID} restored into db-restored-202612071030`);

  const pitr = await call('POST', `${base}/accessories/db/restore`, 'admin', { toTime: '2026-12-07T10:30:00Z', inPlace: true });
  const err = lines(pitr.body).at(-1)!;
  restoreEvent.parse(err);
  assert.deepEqual(err, { type: 'error', code: 'SLW_INTERNAL', message: 'internal error; see the server log' });
  assert.equal(audit.at(-1)!.detail, 'backup.restore: time 2026-12-07T10:30:00Z in place failed [SLW_INTERNAL]');
});
