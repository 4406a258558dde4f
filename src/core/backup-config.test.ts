/**
 * `backup:` on accessories and `backup_before_release` on environments (issue 21): defaults for
 * the built-in Postgres, off for other images unless asked, refusals naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { formatErrors, parseProjectConfig } from './parse-config';
import { accessoryCommand, accessoryContainerEnv } from './accessory-kinds';

const DAY = 86_400_000;
const file = (accessories: Record<string, unknown>, rest: Record<string, unknown> = {}) =>
  stringify({ project: 'shop', accessories, services: { web: { image: 'slipway/node:20', port: 3000 } }, ...rest });

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

test('the built-in postgres is backed up by default; off turns it off; another image only when asked', () => {
  const a = parsed(file({ db: { kind: 'postgres' }, old: { kind: 'postgres', backup: 'off' }, pg16: { kind: 'postgres', image: 'postgres:16' }, pg16b: { kind: 'postgres', image: 'postgres:16', backup: {} } })).accessories!;
  assert.deepEqual(a.db!.backup, { schedule: '0 3 * * *', fullEveryMs: 7 * DAY, retention: { full: 4, pitrMs: 7 * DAY }, verify: { everyMs: null, sql: [] } });
  assert.equal(a.old!.backup, undefined);
  assert.equal(a.old!.volumes.some((v) => v.volume === 'backup'), false, 'no repository volume without backups');
  assert.equal(a.pg16!.backup, undefined);
  assert.ok(a.pg16b!.backup);
});

test('redis and nats of the built-in images are backed up as snapshots by default; containers only when asked; no repository volume for them', () => {
  const a = parsed(file({ cache: { kind: 'redis' }, queue: { kind: 'nats', backup: { retention: { full: 2 }, schedule: '0 * * * *' } }, r6: { kind: 'redis', image: 'redis:6' }, files: { kind: 'container', image: 'minio:1', volumes: ['data:/data'] }, kept: { kind: 'container', image: 'minio:1', volumes: ['data:/data'], backup: { verify: { every: '1d' } } } })).accessories!;
  assert.equal(a.cache!.backup!.schedule, '0 3 * * *');
  assert.equal(a.cache!.backup!.retention.full, 4);
  assert.deepEqual([a.queue!.backup!.schedule, a.queue!.backup!.retention.full], ['0 * * * *', 2]);
  assert.equal(a.r6!.backup, undefined, 'another image: only when asked');
  assert.equal(a.files!.backup, undefined);
  assert.equal(a.kept!.backup!.verify.everyMs, DAY);
  for (const name of ['cache', 'queue', 'kept']) assert.deepEqual(a[name]!.volumes.map((v) => v.volume), ['data'], `${name}: the snapshot goes to the backup folder, not a volume`);
});

test('schedule, full_every, retention and verify are normalized', () => {
  const a = parsed(file({ db: { kind: 'postgres', backup: { schedule: '*/15 * * * *', full_every: '1d', retention: { full: 2, pitr: '36h' }, verify: { every: '12h', sql: ['select count(*) from orders'] } } } })).accessories!;
  assert.deepEqual(a.db!.backup, { schedule: '*/15 * * * *', fullEveryMs: DAY, retention: { full: 2, pitrMs: 36 * 3_600_000 }, verify: { everyMs: 12 * 3_600_000, sql: ['select count(*) from orders'] } });
  const manual = parsed(file({ db: { kind: 'postgres', backup: { schedule: false } } })).accessories!;
  assert.equal(manual.db!.backup!.schedule, null);
});

test('the container archives WAL through pgBackRest, after a command of your own', () => {
  const a = parsed(file({ db: { kind: 'postgres', command: ['postgres', '-c', 'max_connections=200'] }, plain: { kind: 'postgres', backup: false } })).accessories!;
  assert.deepEqual(accessoryCommand(a.db!), ['postgres', '-c', 'max_connections=200', '-c', 'archive_mode=on', '-c', 'archive_command=pgbackrest archive-push %p', '-c', 'archive_timeout=60']);
  const env = accessoryContainerEnv(a.db!, { superuser: 's', owner: 'o', app: 'a' });
  assert.equal(env.PGBACKREST_STANZA, 'main');
  assert.equal(env.PGBACKREST_REPO1_PATH, '/var/lib/pgbackrest');
  assert.equal(env.PGBACKREST_PG1_PATH, '/var/lib/postgresql/data');
  assert.equal(accessoryCommand(a.plain!), null);
  assert.equal(accessoryContainerEnv(a.plain!, { superuser: 's' }).PGBACKREST_STANZA, undefined);
});

test('per-environment: backup can be changed or turned off; backup_before_release defaults to production only', () => {
  const text = file({ db: { kind: 'postgres' } }, { environments: { staging: { accessories: { db: { backup: 'off' } } }, qa: { backup_before_release: true }, production: { backup_before_release: false } } });
  assert.equal(parsed(text, 'staging').accessories!.db!.backup, undefined);
  assert.equal(parsed(text, 'staging').backupBeforeRelease, false);
  assert.equal(parsed(text, 'qa').backupBeforeRelease, true);
  assert.equal(parsed(text, 'production').backupBeforeRelease, false);
  assert.equal(parsed(file({ db: { kind: 'postgres' } }), 'production').backupBeforeRelease, true);
});

test('refusals name the field and say what is expected', () => {
  assert.match(errorsOf(file({ cache: { kind: 'redis', backup: { full_every: '1d' } } })), /accessories\.cache\.backup\.full_every: applies to postgres only/);
  assert.match(errorsOf(file({ queue: { kind: 'nats', backup: { retention: { pitr: '1d' } } } })), /accessories\.queue\.backup\.retention\.pitr: applies to postgres only .*retention\.full/);
  assert.match(errorsOf(file({ app: { kind: 'container', image: 'minio:1', backup: { verify: { sql: ['select 1'] } } } })), /accessories\.app\.backup\.verify\.sql: applies to postgres only/);
  assert.match(errorsOf(file({ db: { kind: 'postgres', backup: { schedule: '61 * * * *' } } })), /accessories\.db\.backup\.schedule: .*minute/);
  assert.match(errorsOf(file({ db: { kind: 'postgres', backup: { retention: { full: 0 } } } })), /accessories\.db\.backup\.retention\.full: must be between 1 and 1000/);
  assert.match(errorsOf(file({ db: { kind: 'postgres', backup: { retention: { pitr: 'soon' } } } })), /accessories\.db\.backup\.retention\.pitr: must be a duration/);
  assert.match(errorsOf(file({ db: { kind: 'postgres', backup: { verify: { sql: [''] } } } })), /accessories\.db\.backup\.verify\.sql\.0: must not be empty/);
  assert.match(errorsOf(file({ db: { kind: 'postgres', backup: { keep: 3 } } })), /accessories\.db\.backup: unknown field "keep"/);
  assert.match(errorsOf(file({ db: { kind: 'postgres', backup: 'yes' } })), /accessories\.db\.backup: must be a map/);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: ['backup:/srv/b'] } })), /accessories\.db\.volumes\.0: "backup" at \/var\/lib\/pgbackrest holds the backup repository/);
  assert.match(errorsOf(file({ db: { kind: 'postgres' } }, { environments: { production: { backup_before_release: 'yes' } } })), /environments\.production\.backup_before_release: must be true or false/);
});
