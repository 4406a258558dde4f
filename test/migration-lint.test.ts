/**
 * Issue 21's acceptance for the migration lint, against a real control plane, Docker, HAProxy
 * and the built-in Postgres image: a copy of examples/stack (web, db, cache) whose release
 * command applies `db/migrations/*.sql` (migrate-sql.js, written into the copy), with
 * `migrations: { dir: /app/db/migrations }`.
 *  - v1 creates and fills `notes` (with a `legacy` column): linted, no findings, deployed;
 *    readImageFiles reads the release image's files without running it (the image has no shell);
 *  - v2 drops `legacy`: refused in production with the rule `drop-column` named in the
 *    deployment's error and log, before any backup or release command; the column is intact;
 *  - v2 again with `slipway deploy --allow-destructive`: the lint logs who let it through, the
 *    pre-release backup runs, then the release command drops the column; the deploy is audited
 *    with the flag;
 *  - that backup, restored into a new accessory, still has the dropped column's data.
 *
 * Run: SLIPWAY_STRICT_RESPONSES=1 node --import tsx --test --test-concurrency=1 test/migration-lint.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { uploadBuildContexts } from '../src/client/upload-contexts';
import type { DeploymentView } from '../src/core/contract/views';
import { DockerRuntime } from '../src/drivers/docker/docker-runtime';
import { psqlRows } from '../src/engine/pg-in-container';
import { ControlPlaneProcess } from './support/control-plane-process';
import { cliFor } from './support/cli';
import { StackProject } from './support/stack-project';
import { deploymentLog, waitDeployment } from './support/wait-deployment';
import { ensureAccessoryImage } from './support/accessory-image';
import { removeStackLeftovers } from './support/stack-cleanup';

const cp = await ControlPlaneProcess.create('mlint');
const app = new StackProject('mlint');
const docker = new Docker();
const runtime = new DockerRuntime({ network: cp.network, logger: pino({ level: 'silent' }) });
const cli = cliFor(cp, app.dir);
const MIGRATIONS = path.join(app.dir, 'app/db/migrations');
/** The database Slipway creates for the project (its name, `-` as `_`). */
const DATABASE = app.project.replace(/-/g, '_');
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

/** A release command that applies the .sql files of /app/db/migrations not applied yet, each in a transaction. */
const MIGRATE_SQL_JS = `import { readdirSync, readFileSync } from 'node:fs';
import { PgClient, literal } from './lib/pg-client.js';

const DIR = '/app/db/migrations';
const db = new PgClient(process.env.DATABASE_URL, { connectTimeoutMs: 5000, queryTimeoutMs: 60_000, applicationName: 'migrate-sql' });
for (let attempt = 1; ; attempt++) {
  try {
    await db.query('select 1');
    break;
  } catch (err) {
    if (attempt >= 30 || err.name === 'PgError') throw err;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
await db.query('create table if not exists schema_migrations (name text primary key, at timestamptz not null default now())');
const done = new Set((await db.query('select name from schema_migrations')).rows.map((r) => r.name));
for (const name of readdirSync(DIR).filter((n) => n.endsWith('.sql')).sort()) {
  if (done.has(name)) continue;
  await db.query(\`BEGIN;\\n\${readFileSync(\`\${DIR}/\${name}\`, 'utf8')}\\n;INSERT INTO schema_migrations (name) VALUES (\${literal(name)});\\nCOMMIT;\`);
  console.log(\`applied \${name}\`);
}
await db.end();
`;

const V1_SQL = "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, legacy text);\nINSERT INTO notes (body, legacy) VALUES ('a', 'keep-1'), ('b', 'keep-2'), ('c', 'keep-3');\n";
const V2_SQL = "SET lock_timeout = '5s';\nALTER TABLE notes DROP COLUMN legacy;\n";

/** slipway.yml of the copy: web (1 replica) applying the SQL files, no worker; db backed up only before releases. */
function writeConfig(version: string): string {
  const doc = parse(app.configText({ version })) as { accessories: Record<string, Record<string, unknown>>; services: Record<string, Record<string, unknown>> };
  delete doc.services.worker;
  // Staging is where a promotion comes from (the last test).
  (doc as { environments?: Record<string, unknown> }).environments = { staging: { services: { web: { domains: [`staging.${app.domain}`] } } } };
  doc.accessories.db!.backup = { schedule: false };
  Object.assign(doc.services.web!, { replicas: 1, release_command: ['node', 'migrate-sql.js'], migrations: { dir: '/app/db/migrations' } });
  const text = stringify(doc);
  writeFileSync(path.join(app.dir, 'slipway.yml'), text);
  return text;
}

async function deploy(version: string, extra: { allowDestructive?: boolean } = {}): Promise<DeploymentView> {
  const config = writeConfig(version);
  const sources = await uploadBuildContexts(cp.client, { config, dir: app.dir, services: ['web'] });
  const { deployments } = await cp.client.deploy({ config, services: ['web'], sources, ...extra });
  return waitDeployment(cp.client, deployments[0]!.id);
}

async function dbContainer(name: string): Promise<string> {
  const [c] = (await runtime.listAccessories({ project: app.project, env: 'production', accessory: name })).filter((a) => a.state === 'running');
  assert.ok(c, `accessory ${name} runs`);
  return c.id;
}

/** Rows of a query in an accessory's database (psql over its local socket, inside the container). */
async function sql(query: string, accessory = 'db'): Promise<string[][]> {
  return psqlRows(runtime, await dbContainer(accessory), DATABASE, query, 30_000);
}

const stepNames = (d: DeploymentView) => d.steps.map((s) => s.name);

// The built-in images take minutes on a fresh machine: built here with their own time limit (reused when present).
before(async () => {
  await ensureAccessoryImage('postgres', '15');
  await ensureAccessoryImage('redis', '7');
}, { timeout: 3_600_000 });

before(async () => {
  writeFileSync(path.join(app.dir, 'app/migrate-sql.js'), MIGRATE_SQL_JS);
  mkdirSync(MIGRATIONS, { recursive: true });
  writeFileSync(path.join(MIGRATIONS, '0001_notes.sql'), V1_SQL);
  await cp.start();
  await cp.client.createBaseImage('node');
});

after(async () => {
  await cp.destroy();
  await removeStackLeftovers(cp, [app]);
  runtime.close();
});

let v1Image = '';

test('v1: the new migration file is linted (no findings) and applied; its name is recorded', async () => {
  const d = await deploy('1');
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'succeeded', `${d.error}\n${log}\n${cp.tail()}`);
  assert.deepEqual(stepNames(d).filter((n) => ['migration lint', 'backup', 'release command'].includes(n)), ['migration lint', 'backup', 'release command']);
  assert.match(log, /1 \.sql file\(s\) in \/app\/db\/migrations, 1 not applied yet: 0001_notes\.sql/);
  assert.match(log, /✔ migration lint: no findings in 1 file\(s\)/);
  assert.match(log, /release \| applied 0001_notes\.sql/);
  assert.deepEqual(await sql('SELECT id, legacy FROM notes ORDER BY id'), [['1', 'keep-1'], ['2', 'keep-2'], ['3', 'keep-3']]);
  v1Image = (await cp.client.releases(app.project, 'web', 'production')).releases.find((r) => r.number === d.releaseNumber)!.imageDigest;
  console.log(`v1 deployed (lint, backup, release command) at ${elapsed()}`);
});

test('readImageFiles reads the release image (no shell in it) without running it', async () => {
  assert.ok(v1Image, 'v1 deployed');
  const files = await runtime.readImageFiles(v1Image, '/app/db/migrations', { maxBytes: 1024 * 1024 });
  assert.deepEqual(files, [{ name: '0001_notes.sql', content: V1_SQL }]);
  await assert.rejects(runtime.readImageFiles(v1Image, '/app/nope', { maxBytes: 1024 }), (e: Error & { code?: string }) => e.code === 'SLW_NOT_FOUND' && /no directory \/app\/nope/.test(e.message));
  await assert.rejects(runtime.readImageFiles(v1Image, '/app/server.js', { maxBytes: 1024 }), (e: Error & { code?: string }) => e.code === 'SLW_NOT_FOUND' && /\/app\/server\.js in the image is not a directory/.test(e.message));
  await assert.rejects(runtime.readImageFiles(v1Image, '/app/db/migrations', { maxBytes: 10 }), (e: Error & { code?: string }) => e.code === 'SLW_TOO_LARGE');
  const left = await docker.listContainers({ all: true, filters: { label: [`slipway.base=${cp.network}`], ancestor: [v1Image] } });
  assert.deepEqual(left, [], 'the transient containers are removed');
});

test('v2 drops a column: refused in production with the rule named, before any backup or release command', async () => {
  writeFileSync(path.join(MIGRATIONS, '0002_drop_legacy.sql'), V2_SQL);
  const d = await deploy('2');
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'failed', log);
  assert.equal(d.errorCode, 'SLW_MIGRATION_BLOCKED');
  assert.match(d.error ?? '', /0002_drop_legacy\.sql:2: "ALTER TABLE notes DROP COLUMN legacy" breaks rule drop-column/);
  assert.match(d.error ?? '', /safe pattern: stop reading the column/);
  assert.match(d.error ?? '', /slipway deploy --allow-destructive/);
  assert.match(log, /0002_drop_legacy\.sql:2: drop-column: ALTER TABLE notes DROP COLUMN legacy/);
  assert.match(log, /✘ migration lint: .*drop-column/);
  assert.ok(!stepNames(d).includes('backup') && !stepNames(d).includes('release command'), stepNames(d).join(', '));
  assert.deepEqual((await cp.client.backups(app.project, 'production')).backups.filter((b) => b.deploymentId === d.id), [], 'a blocked migration costs no backup');
  assert.deepEqual(await sql('SELECT count(legacy) FROM notes'), [['3']], 'the column is intact');
  console.log(`v2 refused at ${elapsed()}`);
});

let allowed: DeploymentView;

test('v2 with slipway deploy --allow-destructive: logged with who asked, backed up, then run; audited', async () => {
  writeConfig('2');
  const r = await cli('deploy', 'web', '--allow-destructive', '--detach', '--json');
  assert.equal(r.code, 0, r.stderr);
  const [queued] = JSON.parse(r.stdout) as DeploymentView[];
  const d = await waitDeployment(cp.client, queued!.id);
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'succeeded', `${d.error}\n${log}\n${cp.tail()}`);
  assert.ok(d.triggeredBy);
  assert.ok(log.includes(`migration lint: 1 finding(s) allowed by --allow-destructive (requested by ${d.triggeredBy})`), log);
  const order = stepNames(d).filter((n) => ['migration lint', 'backup', 'release command'].includes(n));
  assert.deepEqual(order, ['migration lint', 'backup', 'release command'], 'the lint, then the backup, then the release command');
  assert.match(log, /✔ backup: db: backup \S+/);
  assert.match(log, /release \| applied 0002_drop_legacy\.sql/);
  assert.deepEqual(await sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'legacy'"), [['0']], 'the column is gone');
  const { entries } = await cp.client.audit({ limit: 20 });
  const audited = entries.find((e) => e.action === 'POST /api/v1/deployments' && e.detail?.includes(d.id));
  assert.ok(audited, JSON.stringify(entries.slice(0, 5)));
  assert.match(audited.detail ?? '', /allow-destructive/);
  allowed = d;
  console.log(`v2 allowed and run at ${elapsed()}`);
});

test('the backup taken before it, restored into a new accessory, still has the dropped column\'s data', async () => {
  assert.ok(allowed, 'the allowed deploy ran');
  const [backup] = (await cp.client.backups(app.project, 'production')).backups.filter((b) => b.deploymentId === allowed.id);
  assert.ok(backup, 'the pre-release backup is linked to the deployment');
  assert.equal(backup.state, 'succeeded');
  let restored: string | null = null;
  const progress: string[] = [];
  for await (const ev of cp.client.restore(app.project, 'production', 'db', { backup: backup.id })) {
    if (ev.type === 'progress') progress.push(ev.line);
    else if (ev.type === 'done') restored = ev.accessory;
    else assert.fail(`restore failed: ${JSON.stringify(ev)}\n${progress.join('\n')}`);
  }
  assert.ok(restored && restored !== 'db', `restored into a new accessory: ${restored}`);
  assert.deepEqual(await sql('SELECT id, legacy FROM notes ORDER BY id', restored), [['1', 'keep-1'], ['2', 'keep-2'], ['3', 'keep-3']]);
  assert.deepEqual(await sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'legacy'"), [['0']], 'the live db is untouched');
  console.log(`backup ${backup.id} restored into ${restored} at ${elapsed()}`);
});

test('a promotion from staging runs the lint for production too: blocked, then let through with slipway promote --allow-destructive after a backup', async () => {
  writeFileSync(path.join(MIGRATIONS, '0003_drop_body.sql'), "SET lock_timeout = '5s';\nALTER TABLE notes DROP COLUMN body;\n");
  const config = writeConfig('3');
  const sources = await uploadBuildContexts(cp.client, { config, dir: app.dir, services: ['web'] });
  const { deployments } = await cp.client.deploy({ config, env: 'staging', services: ['web'], sources });
  const staged = await waitDeployment(cp.client, deployments[0]!.id);
  const stagedLog = await deploymentLog(cp.client, staged.id);
  assert.equal(staged.state, 'succeeded', `${staged.error}\n${stagedLog}`);
  // Staging applies all three at once: dropping columns of a table created in the same run locks nobody.
  assert.match(stagedLog, /no findings in 3 file\(s\)/);
  assert.ok(!stepNames(staged).includes('backup'), 'staging has no backup before its releases by default');

  const blocked = await waitDeployment(cp.client, (await cp.client.promote({ config, from: 'staging', to: 'production', services: ['web'] })).deployments[0]!.id);
  assert.equal(blocked.state, 'failed', await deploymentLog(cp.client, blocked.id));
  assert.equal(blocked.errorCode, 'SLW_MIGRATION_BLOCKED');
  assert.match(blocked.error ?? '', /0003_drop_body\.sql:2: .*drop-column.*slipway promote --allow-destructive/);

  const r = await cli('promote', '--from', 'staging', '--allow-destructive', '--detach', '--json', 'web');
  assert.equal(r.code, 0, r.stderr);
  const [queued] = JSON.parse(r.stdout) as DeploymentView[];
  const d = await waitDeployment(cp.client, queued!.id);
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'succeeded', `${d.error}\n${log}`);
  assert.deepEqual(stepNames(d).filter((n) => ['migration lint', 'backup', 'release command'].includes(n)), ['migration lint', 'backup', 'release command']);
  assert.match(log, /allowed by --allow-destructive/);
  assert.deepEqual(await sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'body'"), [['0']]);
  const { entries } = await cp.client.audit({ limit: 20 });
  assert.ok(entries.some((e) => e.action === 'POST /api/v1/promotions' && /allow-destructive/.test(e.detail ?? '')), 'the promotion is audited with the flag');
  console.log(`promotion blocked, then allowed, at ${elapsed()}`);
});

test('a migration that fails after its pre-release backup: the deployment fails and its log prints the exact restore command', async () => {
  writeFileSync(path.join(MIGRATIONS, '0004_broken.sql'), "SET lock_timeout = '5s';\nINSERT INTO no_such_table VALUES (1);\n");
  const d = await deploy('4');
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'failed', log);
  const [backup] = (await cp.client.backups(app.project, 'production')).backups.filter((b) => b.deploymentId === d.id);
  assert.ok(backup, 'backed up before the release command');
  assert.ok(log.includes(`slipway restore db --backup ${backup.id} --env production -p ${app.project}`), log);
  rmSync(path.join(MIGRATIONS, '0004_broken.sql'));
});
