/**
 * `slipway project delete`: against a real Docker engine and HAProxy, a project with two
 * environments, a secret, a webhook and a local certificate is deleted; its containers,
 * edge backend and route, records, sources, images and certificate are gone, `slipway
 * status` says it does not exist, the deletion is audited, and another project keeps
 * serving with everything it had. Without a terminal and without --yes it is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import Docker from 'dockerode';
import { ApiError } from '../src/client/api-client';
import { backendName } from '../src/core/ports/edge';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('pdel');
const gone = new TestProject('pdel');
const kept = new TestProject('pkeep');
const docker = new Docker();
const SECRET = 'pdel-secret-value-7c1e';

const sourcesOf = (project: string) => path.join(cp.dataDir, 'sources', 'projects', project);
const tarsOf = (project: string) => (existsSync(sourcesOf(project)) ? readdirSync(sourcesOf(project)).filter((f) => f.endsWith('.tar')) : []);
const imageTags = async (project: string) => (await docker.listImages({ filters: { reference: [`slipway/${project}-web`] } })).flatMap((i) => i.RepoTags ?? []);
const containersOf = async (project: string) => docker.listContainers({ all: true, filters: { label: [`slipway.project=${project}`] } });
const edgeConfig = () => readFileSync(path.join(cp.dataDir, 'edge', 'haproxy.cfg'), 'utf8');
const notFound = (re: RegExp) => (e: ApiError) => e.status === 404 && re.test(e.message);

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

test('project delete: refused without a terminal and --yes; then everything of the project is gone and another project is untouched', async () => {
  for (const app of [gone, kept]) {
    const d = await deployAndWait(cp.client, app.write({ version: app.project, replicas: 1 }));
    assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  }
  const staging = await deployAndWait(cp.client, gone.write({ version: 'staging', replicas: 1, environments: { staging: { services: { web: { domains: [`staging.${gone.domain}`] } } } } }, 'staging'));
  assert.equal(staging.state, 'succeeded', await deploymentLog(cp.client, staging.id));
  for (const p of ['pdel', 'pkeep']) await cp.client.changeSecrets(p, 'production', { set: { API_KEY: SECRET }, deploy: false });
  await cp.client.createWebhook('pdel', { repository: 'https://git.example.com/acme/pdel.git', path: '' });
  await cp.client.createWebhook('pkeep', { repository: 'https://git.example.com/acme/pkeep.git', path: '' });
  const hasCert = async (domain: string) => (await cp.client.certificates()).certificates.some((c) => c.domain === domain && c.status === 'valid');
  for (const app of [gone, kept]) await until(`the local certificate of ${app.domain}`, async () => ((await hasCert(app.domain)) ? true : undefined));

  // What there is to delete (and what must stay).
  assert.equal((await containersOf('pdel')).length, 2);
  assert.ok(tarsOf('pdel').length >= 1, 'its uploaded build context is stored');
  assert.ok((await imageTags('pdel')).length >= 1, 'images were built for it');
  assert.match(edgeConfig(), new RegExp(backendName('pdel', 'web', 'production')));
  const keptBefore = { tars: tarsOf('pkeep'), images: (await imageTags('pkeep')).sort(), containers: (await containersOf('pkeep')).map((c) => c.Id).sort() };

  const cli = cliFor(cp, gone.dir);
  const refused = await cli('project', 'delete', 'pdel');
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stderr, /refusing to delete project pdel without confirmation: pass --yes/);
  const wrongConfirm = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/projects/pdel?confirm=pkeep`, { method: 'DELETE', headers: { authorization: `Bearer ${cp.token}` } });
  assert.equal(wrongConfirm.status, 400);
  assert.match(((await wrongConfirm.json()) as { error: { message: string } }).error.message, /confirm: must repeat the project name "pdel"/);
  assert.equal((await cp.client.status('pdel', 'production')).services[0]!.readyReplicas, 1, 'nothing changed without confirmation');
  assert.equal((await getWithHost(cp.httpPort, gone.domain)).status, 200);

  const res = await cli('project', 'delete', 'pdel', '--yes', '--json');
  assert.equal(res.code, 0, res.stderr);
  const report = JSON.parse(res.stdout) as { project: string; environments: string[]; replicasRemoved: number; routesRemoved: number; webhookRemoved: boolean; certificatesRemoved: string[]; sourcesRemoved: number; imagesRemoved: string[]; imagesKept: unknown[] };
  assert.equal(report.project, 'pdel');
  assert.deepEqual(report.environments.sort(), ['production', 'staging']);
  assert.equal(report.replicasRemoved, 2);
  assert.equal(report.routesRemoved, 2);
  assert.equal(report.webhookRemoved, true);
  assert.ok(report.certificatesRemoved.includes(gone.domain), JSON.stringify(report));
  assert.ok(report.sourcesRemoved >= 1);
  assert.ok(report.imagesRemoved.length >= 1);
  assert.deepEqual(report.imagesKept, []);
  assert.ok(!res.stdout.includes(SECRET) && !res.stderr.includes(SECRET));

  // Containers, edge backends and routes, sources, images, certificate: gone.
  assert.equal((await containersOf('pdel')).length, 0);
  assert.equal((await getWithHost(cp.httpPort, gone.domain)).status, 404);
  assert.equal((await getWithHost(cp.httpPort, `staging.${gone.domain}`)).status, 404);
  for (const env of ['production', 'staging']) assert.doesNotMatch(edgeConfig(), new RegExp(backendName('pdel', 'web', env)));
  assert.deepEqual(tarsOf('pdel'), []);
  assert.deepEqual(await imageTags('pdel'), []);
  assert.equal(await hasCert(gone.domain), false);
  // Records: environments, secrets, webhook, the project itself.
  await assert.rejects(cp.client.environments('pdel'), notFound(/project "pdel" does not exist/));
  const secrets = await cp.client.secrets('pdel', 'production');
  assert.deepEqual([secrets.version, secrets.secrets], [null, []], 'no secrets version left');
  await assert.rejects(cp.client.webhook('pdel'), (e: ApiError) => e.status === 404);
  assert.ok(!(await cp.client.projects()).projects.some((p) => p.name === 'pdel'));
  // No row left behind that the API cannot show (secrets of a vanished environment…).
  const db = new Database(path.join(cp.dataDir, 'slipway.db'), { readonly: true });
  try {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    assert.equal(count("SELECT count(*) AS n FROM projects WHERE name = 'pdel'"), 0);
    assert.equal(count('SELECT count(*) AS n FROM environments WHERE project_id NOT IN (SELECT id FROM projects)'), 0);
    assert.equal(count('SELECT count(*) AS n FROM services WHERE project_id NOT IN (SELECT id FROM projects)'), 0);
    assert.equal(count('SELECT count(*) AS n FROM secrets WHERE environment_id NOT IN (SELECT id FROM environments)'), 0);
    assert.equal(count('SELECT count(*) AS n FROM secrets'), 1, "pkeep's one version");
    assert.equal(count('SELECT count(*) AS n FROM releases WHERE environment_id NOT IN (SELECT id FROM environments)'), 0);
    assert.equal(count("SELECT count(*) AS n FROM webhooks WHERE project = 'pdel'"), 0);
  } finally {
    db.close();
  }
  const status = await cli('status', '-p', 'pdel');
  assert.equal(status.code, 1);
  assert.match(status.stderr, /project "pdel" does not exist/);
  const audit = (await cp.client.audit({ project: 'pdel' })).entries.find((e) => e.action === 'DELETE /api/v1/projects/:project' && e.outcome === 'ok');
  assert.ok(audit, 'the deletion is in the audit log');
  assert.match(audit.detail ?? '', /environments production, staging/);

  // The other project: still serving, with its records, secret, webhook, sources and images.
  assert.equal((await getWithHost(cp.httpPort, kept.domain)).status, 200);
  assert.equal((await cp.client.status('pkeep', 'production')).services[0]!.readyReplicas, 1);
  assert.deepEqual((await containersOf('pkeep')).map((c) => c.Id).sort(), keptBefore.containers);
  assert.deepEqual((await cp.client.secrets('pkeep', 'production')).secrets.map((s) => s.name), ['API_KEY']);
  assert.equal((await cp.client.webhook('pkeep')).webhook.repository, 'https://git.example.com/acme/pkeep.git');
  assert.deepEqual(tarsOf('pkeep'), keptBefore.tars);
  assert.deepEqual((await imageTags('pkeep')).sort(), keptBefore.images);
  assert.equal(await hasCert(kept.domain), true, 'its certificate stays');

  // The name can be deployed again from scratch.
  const again = await deployAndWait(cp.client, gone.write({ version: 'again', replicas: 1 }));
  assert.equal(again.state, 'succeeded', await deploymentLog(cp.client, again.id));
  assert.equal(again.releaseNumber, 1, 'a new project: release numbers start over');
});
