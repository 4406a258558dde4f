/**
 * Backups through a real control plane (issue 21), on the stack example (web ×2 + worker +
 * Postgres + Redis) behind the real edge: scheduled backups and their verifications under load
 * with 0 failed requests; `slipway backup`, `backups`, `backups verify`, `restore` (a new
 * accessory, then in place) from the CLI; a backup before a production release command, linked
 * to its deployment and shown by `slipway deployment`; a failing one failing the deployment
 * before its release command; the control plane and pgBackRest SIGKILLed mid-backup; the
 * dashboard's Backups page (a real browser) marking that failure red.
 *
 * Run: SLIPWAY_STRICT_RESPONSES=1 node --import tsx --test --test-concurrency=1 test/backups-api.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import Docker from 'dockerode';
import { startLoad } from '../bench/lib/load-generator';
import { deployDirectory } from '../src/client/upload-contexts';
import type { BackupView, DeploymentView } from '../src/core/contract/views';
import { ControlPlaneProcess } from './support/control-plane-process';
import { cliFor } from './support/cli';
import { StackProject, type StackVariant } from './support/stack-project';
import { deploymentLog, waitDeployment } from './support/wait-deployment';
import { ensureAccessoryImage } from './support/accessory-image';
import { removeStackLeftovers } from './support/stack-cleanup';
import { until } from './support/until';
import { openBrowser, testOutputDir } from './support/browser';

const cp = await ControlPlaneProcess.create('backups');
const app = new StackProject('bka');
const docker = new Docker();
const cli = cliFor(cp, app.dir);
const SCHEDULED = { backup: { schedule: '* * * * *', verify: { sql: ['select count(*) from visits'] } } };
const MANUAL = { backup: { schedule: false, verify: { sql: ['select count(*) from visits'] } } };
const DASHBOARD_PASSWORD = 'backups-dashboard-password';
const variant = (version: string, db: Record<string, unknown>): StackVariant => ({ version, db });

before(async () => {
  await ensureAccessoryImage('postgres', '15');
  await ensureAccessoryImage('redis', '7');
}, { timeout: 3_600_000 });

before(async () => {
  await cp.start({ SLIPWAY_BACKUP_TICK: '2s' });
  await cp.client.createBaseImage('node');
});

after(async () => {
  await cp.destroy();
  await removeStackLeftovers(cp, [app]);
});

function edge(method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: cp.httpPort, method, path, headers: { host: app.domain }, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject).end();
  });
}

async function count(): Promise<number> {
  const r = await edge('GET', '/visits/count');
  assert.equal(r.status, 200, r.body);
  return (JSON.parse(r.body) as { count: number }).count;
}

async function write(n: number): Promise<void> {
  for (let i = 0; i < n; i++) assert.equal((await edge('POST', '/visits')).status, 201);
}

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 180_000) => until(what, fn, { timeoutMs, everyMs: 1000, context: () => cp.tail(40) });

async function deploy(v: StackVariant, services?: string[]): Promise<DeploymentView[]> {
  const { deployments } = await deployDirectory(cp.client, { ...app.write(v), ...(services ? { services } : {}) });
  const done = await Promise.all(deployments.map((d) => waitDeployment(cp.client, d.id)));
  for (const d of done) assert.equal(d.state, 'succeeded', `${d.service} ${d.state}: ${d.error}\n${await deploymentLog(cp.client, d.id)}\n${cp.tail()}`);
  return done;
}

async function list(): Promise<BackupView[]> {
  return (await cp.client.backups(app.project, 'production', { accessory: 'db', limit: 100 })).backups;
}

async function dbContainer(): Promise<Docker.ContainerInfo> {
  const [c] = await docker.listContainers({ filters: { label: [`slipway.accessory.project=${app.project}`, 'slipway.accessory.name=db'] } });
  assert.ok(c, 'the db container runs');
  return c;
}

/** A shell script's output in the db container (a TTY: one plain stream). */
async function dbShell(script: string): Promise<string> {
  const exec = await docker.getContainer((await dbContainer()).Id).exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true, Tty: true });
  const stream = await exec.start({ hijack: true, stdin: false, Tty: true });
  let out = '';
  for await (const chunk of stream) out += (chunk as Buffer).toString('utf8');
  return out.trim();
}

const KILL_PGBACKREST = 'for p in /proc/[0-9]*; do if head -c 11 "$p/cmdline" 2>/dev/null | grep -q "^pgbackrest"; then kill -9 "${p#/proc/}"; fi; done';

test('scheduled backups and their verifications run under load: 0 failed requests', { timeout: 600_000 }, async (t) => {
  await deploy(variant('1', SCHEDULED));
  await write(20);
  const load = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, concurrency: 4, path: '/' });
  let report;
  try {
    const verified = await waitFor('a scheduled backup, verified', async () => (await list()).find((b) => b.trigger === 'schedule' && b.verification?.state === 'passed'), 240_000);
    t.diagnostic(`scheduled backup ${verified.id}: ${verified.type}, ${verified.sizeBytes} bytes in ${verified.durationMs} ms; verified in ${verified.verification?.durationMs} ms: ${verified.verification?.checks.map((c) => c.name).join(', ')}`);
    assert.ok((verified.rows ?? 0) >= 20, 'the visits rows were counted');
  } finally {
    report = await load.stop();
  }
  t.diagnostic(`load during backups and verifications: ${report.total} requests, ${report.failed} failed, p99 ${report.latencyMs.p99.toFixed(1)} ms`);
  assert.ok(report.total > 200, `enough traffic (${report.total})`);
  assert.equal(report.failed, 0, `failed: ${JSON.stringify(report.errors)} ${JSON.stringify(report.firstFailures.slice(0, 5))}`);
  // No more scheduled work from here: the rest is by hand. The container is not recreated (the schedule is not part of it).
  const before = (await dbContainer()).Id;
  await deploy(variant('1', MANUAL), ['web']);
  assert.equal((await dbContainer()).Id, before, 'a schedule change does not recreate the accessory');
  await waitFor('no backup running', async () => !(await list()).some((b) => b.state === 'running' || b.verification?.state === 'running'));
});

let manual: BackupView;

test('slipway backup, backups, backups verify; status shows the backup state', { timeout: 600_000 }, async () => {
  const r = await cli('backup', 'db', '--env', 'production', '--full', '--json');
  assert.equal(r.code, 0, r.stderr);
  manual = JSON.parse(r.stdout) as BackupView;
  assert.deepEqual([manual.state, manual.type, manual.trigger], ['succeeded', 'full', 'manual']);
  assert.match(r.stderr, /backup: \d+%/, 'progress streamed');
  const listed = await cli('backups', '--env', 'production');
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(manual.id.slice(0, 8)));
  // The accessory filter: with a snapshot of cache in the environment too, `backups db` lists db's only.
  const cache = await cli('backup', 'cache', '--env', 'production', '--json');
  assert.equal(cache.code, 0, cache.stderr);
  const everyOne = JSON.parse((await cli('backups', '--env', 'production', '--json')).stdout) as BackupView[];
  assert.ok(everyOne.some((b) => b.id === (JSON.parse(cache.stdout) as BackupView).id), 'cache\'s snapshot is listed without the filter');
  const dbOnly = await cli('backups', 'db', '--env', 'production', '--json');
  assert.equal(dbOnly.code, 0, dbOnly.stderr);
  const dbs = JSON.parse(dbOnly.stdout) as BackupView[];
  assert.ok(dbs.some((b) => b.id === manual.id), 'db\'s backups are listed');
  assert.deepEqual([...new Set(dbs.map((b) => b.accessory))], ['db'], 'only db\'s');
  const v = await cli('backups', 'verify', manual.id, '--json');
  assert.equal(v.code, 0, v.stderr);
  assert.equal((JSON.parse(v.stdout) as BackupView).verification?.state, 'passed');
  const status = await cp.client.status(app.project);
  assert.equal(status.accessories?.find((a) => a.name === 'db')?.backup?.state, 'ok');
});

test('restore into a new accessory (a backup, then a moment: the command it prints to inspect it counts the rows), then in place: the rows written after the backup are gone, the services serve again', { timeout: 600_000 }, async () => {
  const at = await count();
  await write(2);
  // A moment between two writes (the containers read the host's clock).
  await new Promise((r) => setTimeout(r, 1100));
  const moment = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 1100));
  await write(3);
  assert.equal(await count(), at + 5);
  const copy = await cli('restore', 'db', '--backup', manual.id, '--env', 'production', '--json');
  assert.equal(copy.code, 0, copy.stderr);
  const outcome = JSON.parse(copy.stdout) as { accessory: string; next: string[] };
  assert.match(outcome.accessory, /^db-restored-\d{12}$/);
  assert.ok((await cp.client.accessories(app.project, 'production')).accessories.some((a) => a.name === outcome.accessory && a.ready));
  assert.equal(await count(), at + 5, 'the live db is untouched');
  const removed = await cli('accessories', 'remove', outcome.accessory, '--env', 'production', '--delete-volumes', '--yes');
  assert.equal(removed.code, 0, removed.stderr);

  // --to-time from the CLI: the copy holds exactly the rows committed before the moment.
  const pit = await cli('restore', 'db', '--to-time', moment, '--env', 'production', '--json');
  assert.equal(pit.code, 0, pit.stderr);
  const pitOut = JSON.parse(pit.stdout) as { accessory: string; toTime: string | null; next: string[] };
  assert.match(pitOut.accessory, /^db-restored-\d{12}(-\d+)?$/);
  assert.equal(pitOut.toTime, moment);
  const inspect = pitOut.next.find((l) => l.startsWith('inspect it: '));
  assert.equal(inspect, `inspect it: slipway db shell ${pitOut.accessory} --env production -p ${app.project} -c 'select count(*) from <table>'   (the services still use db)`, pitOut.next.join('\n'));
  // That command as printed, its table filled in.
  const [, shellArgs, query] = /^inspect it: slipway (.+?) -c '(.+?)'/.exec(inspect)!;
  const counted = await cli(...shellArgs!.split(' '), '-c', query!.replace('<table>', 'visits'));
  assert.equal(counted.code, 0, counted.stderr);
  assert.match(counted.stdout, new RegExp(`^\\s*${at + 2}\\s*$`, 'm'), `the 2 rows before the moment, not the 3 after: ${counted.stdout}`);
  assert.equal(await count(), at + 5, 'the live db is untouched');
  const pitRemoved = await cli('accessories', 'remove', pitOut.accessory, '--env', 'production', '--delete-volumes', '--yes');
  assert.equal(pitRemoved.code, 0, pitRemoved.stderr);

  const refused = await cli('restore', 'db', '--backup', manual.id, '--env', 'production', '--in-place');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /--yes/);
  const inPlace = await cli('restore', 'db', '--backup', manual.id, '--env', 'production', '--in-place', '--yes', '--json');
  assert.equal(inPlace.code, 0, inPlace.stderr);
  const done = JSON.parse(inPlace.stdout) as { inPlace: boolean; safetyBackup: BackupView | null };
  assert.equal(done.inPlace, true);
  assert.equal(done.safetyBackup?.trigger, 'restore');
  // The services using db were stopped first, the current state backed up next, the services started again last.
  const said = inPlace.stderr.split('\n');
  const where = (re: RegExp) => {
    const i = said.findIndex((l) => re.test(l));
    assert.ok(i >= 0, `${re} in the restore's output:\n${inPlace.stderr}`);
    return i;
  };
  const stopping = where(/^restoring into db in place; stopping (web, worker|worker, web) first$/);
  const stopped = Math.max(where(/^stopped web$/), where(/^stopped worker$/));
  const backingUp = where(/^taking a backup of the current state first$/);
  const backedUp = where(new RegExp(`^backup ${done.safetyBackup!.id} succeeded`));
  const started = [where(/^started web again$/), where(/^started worker again$/)];
  assert.ok(stopping < stopped && stopped < backingUp && backingUp < backedUp && started.every((i) => i > backedUp), `stop, back up, start again, in that order:\n${inPlace.stderr}`);
  // The restore answers once the services are back: their repairs ran to the end.
  const active = (await cp.client.deployments(app.project)).deployments.filter((d) => ['queued', 'building', 'releasing', 'rolling'].includes(d.state));
  assert.deepEqual(active.map((d) => `${d.service} ${d.kind} ${d.state}`), []);
  assert.equal((await edge('GET', '/health')).status, 200, 'web serves again');
  assert.equal(await count(), at, 'the rows written after the backup are gone');
  // The restore began a new timeline: its history file reaches the repository (a later restore to any moment finds that timeline taken).
  await waitFor('the new timeline history in the repository', async () => Number(await dbShell('ls /var/lib/pgbackrest/archive/main/*/ | grep -c "[.]history$" || true')) >= 1, 90_000);
  // A second restore in place to the same (older) point: recovery finds that timeline taken and
  // starts another; the safety backup before it proves WAL archiving works on the restored one.
  await write(2);
  const again = await cli('restore', 'db', '--backup', manual.id, '--env', 'production', '--in-place', '--yes', '--json');
  assert.equal(again.code, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as { safetyBackup: BackupView | null }).safetyBackup?.state, 'succeeded');
  assert.equal(await count(), at);
  await waitFor('a second timeline history in the repository', async () => Number(await dbShell('ls /var/lib/pgbackrest/archive/main/*/ | grep -c "[.]history$" || true')) >= 2, 90_000);
});

test('a production deployment with a release command is backed up first; the backup is linked to it', { timeout: 600_000 }, async () => {
  const [web] = await deploy(variant('2', MANUAL), ['web']);
  const log = await deploymentLog(cp.client, web!.id);
  assert.match(log, /backup/i);
  const linked = (await list()).find((b) => b.deploymentId === web!.id);
  assert.ok(linked, `a backup linked to ${web!.id}`);
  assert.deepEqual([linked.trigger, linked.state], ['release', 'succeeded']);
  const steps = (await cp.client.deployment(web!.id)).deployment.steps.map((s) => s.name);
  assert.ok(steps.indexOf('backup') >= 0 && steps.indexOf('backup') < steps.indexOf('release command'), `backup before the release command: ${steps.join(', ')}`);
  // `slipway deployment <id>` shows the backup and the command that restores it.
  const shown = await cli('deployment', web!.id);
  assert.equal(shown.code, 0, shown.stderr);
  assert.ok(shown.stdout.includes(`db: backup ${linked.id} (`), shown.stdout);
  assert.ok(shown.stdout.includes(`restore: slipway restore db --backup ${linked.id} --env production -p ${app.project}`), shown.stdout);
  const json = JSON.parse((await cli('deployment', web!.id, '--json')).stdout) as { backups: BackupView[] };
  assert.deepEqual(json.backups.map((b) => b.id), [linked.id]);
});

test('a pre-release backup that fails (its repository unwritable) fails the deployment before the release command runs', { timeout: 600_000 }, async () => {
  const live = (await cp.client.status(app.project)).services.find((s) => s.service === 'web')!.currentRelease!.number;
  // As root in the db container: pgBackRest (the postgres user) can no longer write backup sets; WAL archiving still works.
  const mode = await dbShell('stat -c %a /var/lib/pgbackrest/backup/main');
  assert.match(mode, /^\d{3}$/, mode);
  await dbShell('chmod 0555 /var/lib/pgbackrest/backup/main');
  let failed: DeploymentView;
  try {
    const { deployments } = await deployDirectory(cp.client, { ...app.write(variant('3', MANUAL)), services: ['web'] });
    failed = await waitDeployment(cp.client, deployments[0]!.id);
  } finally {
    await dbShell(`chmod ${mode} /var/lib/pgbackrest/backup/main`);
  }
  const log = await deploymentLog(cp.client, failed.id);
  assert.equal(failed.state, 'failed', log);
  assert.equal(failed.errorCode, 'SLW_BACKUP_FAILED', `${failed.error}\n${log}`);
  const steps = failed.steps.map((s) => `${s.name}:${s.status}`);
  assert.ok(steps.includes('backup:failed'), steps.join(', '));
  assert.ok(!failed.steps.some((s) => s.name === 'release command'), `the release command never ran: ${steps.join(', ')}`);
  assert.doesNotMatch(log, /release \|/, 'no release command output');
  const [linked] = await cp.client.backups(app.project, 'production', { deployment: failed.id }).then((r) => r.backups);
  assert.ok(linked, 'the failed backup is linked to the deployment');
  assert.deepEqual([linked.trigger, linked.state], ['release', 'failed']);
  assert.match(linked.error ?? '', /pgbackrest backup failed \(exit \d+\): ERROR: .*Permission denied/, 'the error is pgBackRest\'s ERROR line, not its whole log');
  assert.equal((await cp.client.status(app.project)).services.find((s) => s.service === 'web')!.currentRelease!.number, live, 'the live release is unchanged');
  assert.equal((await edge('GET', '/health')).status, 200, 'web still serves');
  const shown = await cli('deployment', failed.id);
  assert.ok(shown.stdout.includes(`db: backup ${linked.id} (`) && /✗ FAILED/.test(shown.stdout), shown.stdout);
  // With the repository writable again, the same deployment goes through.
  await deploy(variant('3', MANUAL), ['web']);
});

test('control plane and pgBackRest SIGKILLed mid-backup: the backup is failed after the restart; earlier ones still verify', { timeout: 600_000 }, async () => {
  const db = await dbContainer();
  const stream = cp.client.createBackup(app.project, 'production', 'db', { type: 'full' });
  for await (const e of stream) {
    if (e.type === 'progress' && /backup start archive/.test(e.line)) break;
    if (e.type !== 'progress') assert.fail(`the backup ended before it could be interrupted: ${JSON.stringify(e)}`);
  }
  cp.kill();
  const exec = await docker.getContainer(db.Id).exec({ Cmd: ['sh', '-c', KILL_PGBACKREST], AttachStdout: true, AttachStderr: true });
  await exec.start({ Detach: false });
  await cp.start({ SLIPWAY_BACKUP_TICK: '2s' });
  const [newest] = await list();
  assert.equal(newest!.state, 'failed');
  assert.match(newest!.error ?? '', /control plane stopped during the backup/);
  assert.equal((await cp.client.status(app.project)).accessories?.find((a) => a.name === 'db')?.backup?.state, 'failed', 'status is red');
  const shown = await cli('status');
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`^db\\s+backups: FAILED — backup ${newest!.id.slice(0, 8)} failed: the control plane stopped during the backup`, 'm'), shown.stdout);
  let verified: BackupView | null = null;
  for await (const e of cp.client.verifyBackup(manual.id)) if (e.type === 'done') verified = e.backup;
  assert.equal(verified?.verification?.state, 'passed');
  interrupted = newest!;
});

let interrupted: BackupView;

test('the dashboard: the Backups page marks the failed backup red with its reason; the overview\'s accessory badge is red and links to it', { timeout: 300_000 }, async () => {
  assert.ok(interrupted, 'the interrupted backup exists');
  await cp.client.createUser({ name: 'backups-viewer', password: DASHBOARD_PASSWORD, scope: 'read' });
  const b = await openBrowser(`http://127.0.0.1:${cp.apiPort}`);
  try {
    const { page } = b;
    await page.goto('/');
    await page.getByLabel('User').fill('backups-viewer');
    await page.getByLabel('Password').fill(DASHBOARD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // The overview: db's backup health is a red badge with the reason, linking to the environment's backups.
    const health = page.locator('tr[data-accessory="db"].failing [data-testid="backup-health"]');
    await health.locator('.badge.bad', { hasText: 'backup failed' }).waitFor({ timeout: 30_000 });
    assert.match((await health.locator('.error').textContent()) ?? '', new RegExp(`backup ${interrupted.id.slice(0, 8)} failed: the control plane stopped`));
    await health.getByRole('link').click();
    await page.waitForURL(`**/backups/${app.project}/production`);
    const table = page.getByTestId('backups-table');
    await table.waitFor();
    // The failed backup: a red row, its state badge "failed", its reason under the id.
    const row = table.locator(`tr[data-backup="${interrupted.id}"]`);
    await row.waitFor();
    assert.match((await row.getAttribute('class')) ?? '', /\bfailing\b/);
    assert.equal(await row.locator('.badge.bad').first().textContent(), 'failed');
    assert.match((await row.locator('.error').textContent()) ?? '', /control plane stopped during the backup/);
    const red = await row.locator('td').first().evaluate((el) => getComputedStyle(el).backgroundColor);
    const plain = await table.locator(`tr[data-backup="${manual.id}"] td`).first().evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.notEqual(red, plain, `a failing row stands out (${red} vs ${plain})`);
    // The verified one: green "passed"; the failure count in the header.
    assert.equal(await table.locator(`tr[data-backup="${manual.id}"] .badge.ok`, { hasText: 'passed' }).count(), 1);
    const failures = Number.parseInt((await page.getByTestId('backup-failures').textContent()) ?? '', 10);
    const expected = (await list()).filter((x) => x.state === 'failed' || x.verification?.state === 'failed').length;
    assert.equal(failures, expected, 'the header counts every failed backup and verification');
    await page.screenshot({ path: path.join(testOutputDir('backups'), 'backups-failed.png'), fullPage: true });
    // Every environment: the same failure, under its project / environment heading.
    await page.getByRole('link', { name: 'All environments' }).click();
    await page.locator(`tr[data-backup="${interrupted.id}"].failing`).waitFor();
    assert.deepEqual(b.pageErrors, []);
  } finally {
    await b.close();
  }
});
