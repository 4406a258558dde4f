/**
 * Accessories through the API and the CLI, against a real control plane, Docker and HAProxy,
 * with a cheap `container` accessory (slipway/static: busybox httpd, tcp readiness):
 * `accessories` (table and --json), `status` with its accessories table, `accessories logs`,
 * `accessories restart` (a new container on the same volume), `volumes`, `db shell` refusing a
 * non-postgres accessory and running psql on a real postgres one (slipway/postgres:15, built on
 * first use), and `env destroy` keeping the volumes, or deleting them with --delete-volumes --yes.
 * Then, each with a project of its own: a service's `volumes:` mounted into its replicas and
 * kept across a redeploy (and listed by `volumes` with the service as owner), and an accessory
 * that never becomes ready failing the deploy before any release, release command or replica.
 * Everything it creates in Docker goes with cp.destroy().
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Docker from 'dockerode';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';
import { cliFor } from './support/cli';
import { ensureAccessoryImage } from './support/accessory-image';
import { getWithHost } from './support/http-get';
import { execInContainer } from '../src/drivers/docker/exec';
import type { AccessoryView, VolumeView } from '../src/core/contract/views';

const cp = await ControlPlaneProcess.create('accapi');
const app = new TestProject('accapi');
const docker = new Docker();
const search = {
  kind: 'container',
  image: 'slipway/static:latest',
  port: 8080,
  // Something in its log at start; httpd -v logs each request to stderr.
  command: ['sh', '-c', 'echo "search listening on 8080"; exec httpd -f -v -p 8080 -h /www'],
  volumes: ['data:/data'],
  resources: { memory: '64m', cpus: 0.5 },
  health: { kind: 'tcp' },
};
const variant = {
  version: 'one',
  replicas: 1,
  accessories: { search },
  service: { uses: { search: { url: 'SEARCH_ADDR' } }, resources: { memory: '256m', cpus: 1.5 } },
  environments: Object.fromEntries(['staging', 'qa'].map((env) => [env, { services: { web: { domains: [`${env}.${app.domain}`] } } }])),
};
let cli: ReturnType<typeof cliFor>;
const BIN = path.resolve(import.meta.dirname, '../bin/slipway.mjs');

const volumeName = (env: string) => `${cp.network}_accapi_${env}_search_data`;
const accessoryContainers = async (env: string) =>
  docker.listContainers({ all: true, filters: { label: [`slipway.accessory.project=accapi`, `slipway.accessory.env=${env}`, 'slipway.accessory.name=search'] } });
const volumeExists = async (name: string) => ((await docker.listVolumes({ filters: { name: [name] } })).Volumes ?? []).some((v) => v.Name === name);

// On a fresh machine slipway/postgres:15 takes minutes to build (the Debian base first): built here,
// with its own time limit, rather than inside the db shell test's deploy.
before(() => ensureAccessoryImage('postgres', '15'), { timeout: 3_600_000 });

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
  await cp.client.createBaseImage('static');
  cli = cliFor(cp, app.dir);
  for (const env of ['production', 'staging', 'qa']) {
    const d = await deployAndWait(cp.client, app.write(variant, env === 'production' ? undefined : env));
    assert.equal(d.state, 'succeeded', `${env}: ${await deploymentLog(cp.client, d.id)}`);
  }
});
after(() => cp.destroy());

test('accessories and status list the accessory: kind, state, readiness, address, volume, users, limits', async () => {
  const json = await cli('accessories', '--json');
  assert.equal(json.code, 0, json.stderr);
  const [a] = JSON.parse(json.stdout) as AccessoryView[];
  assert.ok(a, json.stdout);
  assert.equal(a.name, 'search');
  assert.equal(a.kind, 'container');
  assert.equal(a.state, 'running');
  assert.equal(a.ready, true);
  assert.equal(a.address, 'search:8080');
  assert.deepEqual(a.usedBy, ['web']);
  assert.deepEqual(a.resources, { memoryBytes: 64 * 1024 * 1024, cpus: 0.5 });
  assert.deepEqual(a.volumes.map((v) => [v.volume, v.path, v.dockerName]), [['data', '/data', volumeName('production')]]);

  const table = await cli('accessories', 'status', '--env', 'staging');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^NAME\s+KIND\s+STATE\s+READY\s+ADDRESS\s+IMAGE\s+VOLUMES\s+USED BY\s+LIMITS/m);
  assert.match(table.stdout, /^search\s+container\s+running\s+yes\s+search:8080\s+slipway\/static:latest\s+data:\/data\s+web\s+64 MiB, 0\.5 cpu/m);

  const status = await cli('status');
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /\naccessories:\n/);
  assert.match(status.stdout, /^search\s+container\s+running/m);
  const statusJson = JSON.parse((await cli('status', '--json')).stdout) as { accessories: AccessoryView[]; services: Array<{ replicas: Array<{ resources?: unknown }> }> };
  assert.deepEqual(statusJson.accessories.map((x) => x.name), ['search']);
  // Replicas' limits, in the answer and as a column of the table.
  assert.deepEqual(statusJson.services[0]!.replicas[0]!.resources, { memoryBytes: 256 * 1024 * 1024, cpus: 1.5 });
  assert.match(status.stdout, /\bLIMITS\n/);
  assert.match(status.stdout, /256 MiB, 1\.5 cpu\n/);

  // The web service reaches it by name on the environment's network, with the variable uses: named.
  const reach = await cli('run', 'web', '--', 'node', '-e', 'const [h,p]=process.env.SEARCH_ADDR.split(":");require("net").connect(+p,h).on("connect",()=>{console.log("reached",process.env.SEARCH_ADDR);process.exit(0)}).on("error",e=>{console.error(e.message);process.exit(1)})');
  assert.equal(reach.code, 0, reach.stderr);
  assert.match(reach.stdout, /reached search:8080/);
});

test('accessories logs shows its output; restart replaces the container on the same volume', async () => {
  const logs = await cli('accessories', 'logs', 'search', '--json');
  assert.equal(logs.code, 0, logs.stderr);
  const lines = logs.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { container: string; line: string });
  assert.ok(lines.some((l) => l.line.includes('search listening on 8080')), logs.stdout);
  assert.match(lines[0]!.container, /^accapi-search-production-[0-9a-f]{6}$/);
  const human = await cli('accessories', 'logs', 'search', '--tail', '1');
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, / search \| /);

  const before = await accessoryContainers('production');
  assert.equal(before.length, 1);
  const restart = await cli('accessories', 'restart', 'search', '--json');
  assert.equal(restart.code, 0, restart.stderr);
  const res = JSON.parse(restart.stdout) as { accessory: AccessoryView; detail: string };
  assert.equal(res.accessory.state, 'running');
  assert.equal(res.accessory.ready, true);
  const afterRestart = await accessoryContainers('production');
  assert.equal(afterRestart.length, 1, 'never two containers on one volume');
  assert.notEqual(afterRestart[0]!.Id, before[0]!.Id, 'a new container');
  assert.ok(afterRestart[0]!.Mounts.some((m) => m.Name === volumeName('production')), 'on the same volume');
  const audit = await cp.client.audit({ limit: 20 });
  assert.ok(audit.entries.some((e) => e.action === 'POST /api/v1/projects/:project/envs/:env/accessories/:name/restart' && e.outcome === 'ok'), 'audited');

  const unknown = await cli('accessories', 'restart', 'nope');
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /accessory "nope" does not exist in accapi production \(accessories: search\)/);
});

test('volumes lists the accessory volumes with sizes and users; db shell refuses a non-postgres accessory', async () => {
  const json = await cli('volumes', '--json');
  assert.equal(json.code, 0, json.stderr);
  const volumes = JSON.parse(json.stdout) as VolumeView[];
  assert.deepEqual(volumes.map((v) => v.name).sort(), ['production', 'qa', 'staging'].map(volumeName));
  const prod = volumes.find((v) => v.env === 'production')!;
  assert.equal(prod.owner, 'search');
  assert.equal(prod.volume, 'data');
  assert.match(prod.usedBy.join(','), /accapi-search-production-/);
  const table = await cli('volumes', '--env', 'production');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^NAME\s+ENV\s+OWNER\s+VOLUME\s+SIZE\s+USED BY/m);
  assert.ok(table.stdout.includes(volumeName('production')), table.stdout);
  assert.ok(!table.stdout.includes(volumeName('qa')), '--env filters');

  const shell = await cli('db', 'shell', 'search', '-c', 'select 1');
  assert.notEqual(shell.code, 0);
  assert.match(shell.stderr, /accessory "search" is a container accessory: db shell runs psql against postgres accessories only/);
  const noDb = await cli('db', 'shell', '-c', 'select 1');
  assert.notEqual(noDb.code, 0);
  assert.match(noDb.stderr, /accapi has no postgres accessory/);
});

test('env destroy: refused without --yes (saying what would go); keeps volumes unless --delete-volumes', async () => {
  const refused = await cli('env', 'destroy', 'staging');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /refusing to destroy accapi\/staging without confirmation: pass --yes/);
  assert.match(refused.stderr, /accessories: search/);
  assert.match(refused.stderr, new RegExp(`volumes kept: ${volumeName('staging')}`));
  const refusedDelete = await cli('env', 'destroy', 'qa', '--delete-volumes');
  assert.notEqual(refusedDelete.code, 0, 'deleting data always needs --yes');
  assert.match(refusedDelete.stderr, new RegExp(`volumes DELETED with their data: ${volumeName('qa')}`));
  assert.equal((await accessoryContainers('staging')).length, 1, 'nothing changed');

  const kept = await cli('env', 'destroy', 'staging', '--yes');
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stdout, /destroyed accapi\/staging: 1 replica\(s\) removed, .*1 accessory\(ies\) removed \(search\)/);
  assert.match(kept.stdout, new RegExp(`kept 1 volume\\(s\\) \\(their data stays on this host\\): ${volumeName('staging')}`));
  assert.match(kept.stdout, /to delete them too: slipway env destroy staging -p accapi --delete-volumes --yes/);
  assert.equal((await accessoryContainers('staging')).length, 0, 'the accessory is gone');
  assert.ok(await volumeExists(volumeName('staging')), 'its volume is kept');

  const deleted = await cli('env', 'destroy', 'qa', '--delete-volumes', '--yes', '--json');
  assert.equal(deleted.code, 0, deleted.stderr);
  const d = JSON.parse(deleted.stdout) as { accessoriesStopped: string[]; volumesDeleted: string[]; volumesKept: string[] };
  assert.deepEqual(d.accessoriesStopped, ['search']);
  assert.deepEqual(d.volumesDeleted, [volumeName('qa')]);
  assert.deepEqual(d.volumesKept, []);
  assert.equal(await volumeExists(volumeName('qa')), false, 'deleted');

  // Production untouched.
  assert.equal((await accessoryContainers('production')).filter((c) => c.State === 'running').length, 1);
  assert.ok(await volumeExists(volumeName('production')));
});

test('db shell: psql as the owner on a real postgres accessory (-c, a piped script, errors stop it, after a rotation too); audited without the SQL', async () => {
  const pg = new TestProject('accdb');
  const d = await deployAndWait(cp.client, pg.write({ version: 'one', replicas: 1, accessories: { db: { kind: 'postgres' } }, service: { uses: ['db'] } }));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  const pgCli = cliFor(cp, pg.dir);

  // No name: the only postgres accessory of slipway.yml.
  const who = await pgCli('db', 'shell', '-c', 'select current_user, current_database();');
  assert.equal(who.code, 0, who.stderr);
  assert.match(who.stdout, /\bowner\s+\|\s+accdb\b/);

  const script = "create table notes (body text);\ninsert into notes values ('kept; with a semicolon');\nselect count(*) as n from notes;\n";
  const piped = spawnSync(process.execPath, [BIN, 'db', 'shell', 'db'], { cwd: pg.dir, input: script, encoding: 'utf8', env: { ...process.env, SLIPWAY_URL: `http://127.0.0.1:${cp.apiPort}`, SLIPWAY_TOKEN: cp.token } });
  assert.equal(piped.status, 0, piped.stderr);
  assert.match(piped.stdout, /CREATE TABLE/);
  assert.match(piped.stdout, /INSERT 0 1/);
  assert.match(piped.stdout, /\bn\b[\s\S]*\b1\b/);
  assert.doesNotMatch(piped.stdout + piped.stderr, /postgres:\/\/|PGPASSWORD/);

  const failing = await pgCli('db', 'shell', '-c', 'select * from missing; select 42;', '--json');
  assert.notEqual(failing.code, 0, 'ON_ERROR_STOP: psql exits non-zero');
  const events = failing.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; line?: string; exitCode?: number });
  assert.ok(events.some((e) => e.type === 'output' && /relation "missing" does not exist/.test(e.line ?? '')), failing.stdout);
  assert.ok(!events.some((e) => e.type === 'output' && /\b42\b/.test(e.line ?? '')), 'stopped at the error');
  assert.equal(events.at(-1)!.type, 'exit');

  const deployToken = (await cp.client.createToken({ name: 'db-deployer', scope: 'deploy' })).token;
  const refused = await cliFor(cp, pg.dir, deployToken)('db', 'shell', '-c', 'select 1');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /admin scope/);

  // Rotation: new credentials, web redeployed with them (followed), and the shell still gets in as the owner.
  const rotated = await pgCli('accessories', 'rotate', 'db', '--follow', '--json');
  assert.equal(rotated.code, 0, rotated.stderr);
  const r = JSON.parse(rotated.stdout) as { version: number; rollouts: Array<{ service: string; deploymentId: string | null }>; outcomes: Array<{ service: string; state: string }> };
  assert.equal(r.version, 2);
  assert.deepEqual(r.rollouts.map((x) => x.service), ['web']);
  assert.ok(r.rollouts[0]!.deploymentId);
  assert.deepEqual(r.outcomes.map((o) => [o.service, o.state]), [['web', 'succeeded']]);
  assert.equal((JSON.parse((await pgCli('accessories', '--json')).stdout) as AccessoryView[])[0]!.credentialsVersion, 2);
  const after = await pgCli('db', 'shell', '-c', 'select count(*) as n from notes;');
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /\b1\b/);

  const { entries } = await cp.client.audit({ project: 'accdb', limit: 50 });
  const shells = entries.filter((e) => e.action === 'POST /api/v1/projects/:project/envs/:env/accessories/:name/sql');
  assert.ok(shells.some((e) => e.outcome === 'ok' && e.detail === 'db shell: 3 statement(s); exit 0' && e.target === 'accessory db env production'), JSON.stringify(shells));
  assert.ok(shells.some((e) => e.outcome === 'denied'), 'the refused call too');
  assert.doesNotMatch(JSON.stringify(entries), /semicolon|create table|missing/i, 'never the SQL');
});

test('a service volume (services.web.volumes) is mounted into its replicas: a file written by one release is read by the next; volumes lists it owned by the service, with its size', async () => {
  const vol = new TestProject('accvol');
  const volCli = cliFor(cp, vol.dir);
  const volumeOf = `${cp.network}_accvol_production_web_uploads`;
  // /home/node is the app user's (uid 1000) in the image: Docker gives the new volume that owner, so the app can write.
  const variantOf = (version: string) => ({ version, replicas: 1, service: { volumes: ['uploads:/home/node'] } });
  const replicas = async () => docker.listContainers({ all: true, filters: { label: ['slipway.project=accvol', 'slipway.service=web'] } });
  const run = async (id: string, code: string) => execInContainer(docker, id, ['node', '-e', code], { timeoutMs: 30_000 });

  const first = await deployAndWait(cp.client, vol.write(variantOf('one')));
  assert.equal(first.state, 'succeeded', await deploymentLog(cp.client, first.id));
  const [v1] = await replicas();
  assert.ok(v1, 'a replica of v1');
  assert.equal(v1.Labels['slipway.release'], '1');
  assert.deepEqual(v1.Mounts.filter((m) => m.Type === 'volume').map((m) => [m.Name, m.Destination, m.RW]), [[volumeOf, '/home/node', true]]);
  // Written by the app's user inside the running replica: 64 KiB, so the size column has something to show.
  const write = await run(v1.Id, 'require("fs").writeFileSync("/home/node/uploaded.txt", `written by ${process.env.SLIPWAY_RELEASE}\\n` + "x".repeat(65536)); console.log("wrote")');
  assert.equal(write.exitCode, 0, write.output);

  // A redeploy: a new container of v2 replaces v1's and finds the file on the same volume.
  const second = await deployAndWait(cp.client, vol.write(variantOf('two')));
  assert.equal(second.state, 'succeeded', await deploymentLog(cp.client, second.id));
  const after = await replicas();
  assert.equal(after.length, 1, 'v1 is gone');
  const v2 = after[0]!;
  assert.notEqual(v2.Id, v1.Id, 'a new container');
  assert.equal(v2.Labels['slipway.release'], '2');
  const read = await run(v2.Id, 'process.stdout.write(require("fs").readFileSync("/home/node/uploaded.txt", "utf8").split("\\n")[0])');
  assert.equal(read.exitCode, 0, read.output);
  assert.equal(read.output.trim(), 'written by v1', 'the file v1 wrote, read by v2');

  const json = await volCli('volumes', '--json');
  assert.equal(json.code, 0, json.stderr);
  const volumes = JSON.parse(json.stdout) as VolumeView[];
  assert.deepEqual(volumes.map((v) => [v.name, v.project, v.env, v.owner, v.volume]), [[volumeOf, 'accvol', 'production', 'web', 'uploads']]);
  assert.ok((volumes[0]!.sizeBytes ?? 0) >= 65536, `its size: ${volumes[0]!.sizeBytes}`);
  assert.deepEqual(volumes[0]!.usedBy, [v2.Names[0]!.replace(/^\//, '')], 'mounted by the v2 replica only');
  const table = await volCli('volumes');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`^${volumeOf}\\s+production\\s+web\\s+uploads\\s+\\d+(\\.\\d+)? (KiB|MiB)\\s+accvol-web-`, 'm'));
});

test('an accessory that never becomes ready fails the deploy naming it, before any release, release command or replica; the live release serves on', async () => {
  const nr = new TestProject('accnr');
  const live = await deployAndWait(cp.client, nr.write({ version: 'one', replicas: 1 }));
  assert.equal(live.state, 'succeeded', await deploymentLog(cp.client, live.id));
  const containers = async () => (await docker.listContainers({ all: true, filters: { label: ['slipway.project=accnr'] } })).map((c) => c.Id).sort();
  const before = await containers();
  assert.equal(before.length, 1);
  const releasesBefore = (await cp.client.releases('accnr', 'web')).releases.map((r) => r.number);
  assert.deepEqual(releasesBefore, [1]);

  // Running, but its check never passes (exec `false`) within its 3 s deadline.
  const stuck = { kind: 'container', image: 'slipway/static:latest', port: 8080, command: ['sh', '-c', 'echo "stuck is up"; exec httpd -f -p 8080 -h /www'], health: { kind: 'exec', command: ['false'], interval: '200ms', deadline: '3s' } };
  const d = await deployAndWait(cp.client, nr.write({ version: 'two', replicas: 1, accessories: { stuck }, service: { uses: { stuck: { url: 'STUCK_ADDR' } }, release_command: ['node', '-e', 'console.log("the release command ran")'] } }));
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'failed', log);
  assert.equal(d.errorCode, 'SLW_HEALTH_FAILED');
  assert.match(d.error ?? '', /^accessory stuck did not become ready within 3s \(exec check; last: /);
  assert.match(log, /^accessory stuck: not ready; its last log lines:$/m);
  assert.match(log, /^ {2}stuck is up$/m, "the accessory's own log relayed");
  const steps = d.steps.map((s) => [s.name, s.status]);
  assert.deepEqual(steps.find(([name]) => name === 'accessories'), ['accessories', 'failed'], JSON.stringify(steps));
  for (const name of ['release', 'release command', 'edge route']) assert.ok(!steps.some(([n]) => n === name), `no "${name}" step: ${JSON.stringify(steps)}`);
  assert.doesNotMatch(log, /the release command ran|running release command/, 'no release command ran');
  assert.doesNotMatch(log, /started accnr-web-/, 'no replica of the new release started');

  assert.deepEqual(await containers(), before, 'the runtime has no new container of the project (replica or one-off)');
  assert.deepEqual((await cp.client.releases('accnr', 'web')).releases.map((r) => r.number), releasesBefore, 'no release recorded');
  const res = await getWithHost(cp.httpPort, nr.domain);
  assert.equal(res.status, 200);
  assert.match(res.body, /"version":"one"/);
});
