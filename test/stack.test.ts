/**
 * Issue 20's acceptance: examples/stack (web ×2 + worker + Postgres + Redis) from its one
 * slipway.yml, against a real control plane, Docker, HAProxy and the built-in accessory images
 * (built on first use: minutes the first time, then reused).
 *  (a) it deploys and answers through the edge; the worker reaches `db` and `cache` by name;
 *  (d) the app role cannot CREATE/ALTER/DROP/TRUNCATE; the release command (owner) created and
 *      altered the tables; the app role reads and writes them;
 *  (b) ten rolling deploys of web under load: 0 failed requests, every row written before a
 *      deploy is there after it, the accessories are the same containers (never restarted);
 *  (c) a control-plane restart (under load: 0 failed) and stop-everything-then-start (the
 *      reconciler restarts the accessories and repairs the services): data intact, healthy again;
 *  (f) a changed accessory is recreated (one container at a time on its volume) with its data;
 *  (e) staging and production are isolated (a staging container cannot connect to production's
 *      db; different credentials); a second project's `db` is its own;
 *  (g) generated credentials never appear in `slipway logs`, deployment logs, one-off output,
 *      API answers (`status --json`, `accessories --json`) or the dashboard.
 * The blocks share one control plane and run in this order; each prints what it measured.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import Docker from 'dockerode';
import { startLoad, type LoadRun } from '../bench/lib/load-generator';
import { deployDirectory } from '../src/client/upload-contexts';
import type { AccessoryView, DeploymentView } from '../src/core/contract/views';
import { ACTIVE_STATES } from '../src/core/domain';
import { ControlPlaneProcess } from './support/control-plane-process';
import { cliFor } from './support/cli';
import { StackProject, type StackVariant } from './support/stack-project';
import { deploymentLog, waitDeployment } from './support/wait-deployment';
import { openBrowser } from './support/browser';
import { ensureAccessoryImage } from './support/accessory-image';
import { removeStackLeftovers } from './support/stack-cleanup';
import { until as waitUntil } from './support/until';

const cp = await ControlPlaneProcess.create('stack');
const app = new StackProject('stk');
const other = new StackProject('stk2');
const docker = new Docker();
const cli = cliFor(cp, app.dir);
const cliOther = cliFor(cp, other.dir);
/** Every deployment the test started: their logs are searched for credentials in (g). */
const deploymentIds: string[] = [];
/** Ids of rows POSTed to /visits so far: every one must survive every deploy and restart. */
const written: number[] = [];
const DASHBOARD_PASSWORD = 'stack-test-dashboard-password';

/** A careless app: web and its release command print their connection URLs (Slipway masks them). */
const ECHO = { ECHO_ENV: 'DATABASE_URL,REDIS_URL' };
const ENVIRONMENTS = { staging: { services: { web: { replicas: 1, domains: [app.domainOf('staging')] } } } };
const variant = (version: string, extra: Partial<StackVariant> = {}): StackVariant => ({ version, webEnv: ECHO, environments: ENVIRONMENTS, ...extra });

// The built-in images take minutes on a fresh machine: built here with their own time limit (reused when present).
before(async () => {
  await ensureAccessoryImage('postgres', '15');
  await ensureAccessoryImage('redis', '7');
}, { timeout: 3_600_000 });

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});

after(async () => {
  await cp.destroy();
  await removeStackLeftovers(cp, [app, other]);
});

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One request through the edge (a fresh connection: no keep-alive reuse across deploys). */
function edge(method: string, path: string, host = app.domain): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: cp.httpPort, method, path, headers: { host }, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject).end();
  });
}

async function edgeJson<T = Record<string, unknown>>(method: string, path: string, host = app.domain, expect = [200]): Promise<T> {
  const res = await edge(method, path, host);
  assert.ok(expect.includes(res.status), `${method} ${path} (${host}) → ${res.status} ${res.body}`);
  return JSON.parse(res.body) as T;
}

const until = <T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 120_000) => waitUntil(what, fn, { timeoutMs, context: () => cp.tail(30) });

/** Deploys every service of the file (and its accessories) and waits for all of them. */
async function deploy(project: StackProject, v: StackVariant, env?: string, services?: string[]): Promise<DeploymentView[]> {
  const { deployments } = await deployDirectory(cp.client, { ...project.write(v, env), ...(services ? { services } : {}) });
  deploymentIds.push(...deployments.map((d) => d.id));
  const done = await Promise.all(deployments.map((d) => waitDeployment(cp.client, d.id)));
  for (const d of done) assert.equal(d.state, 'succeeded', `${d.service} ${d.state}: ${d.error}\n${await deploymentLog(cp.client, d.id)}\n${cp.tail()}`);
  return done;
}

async function logsOf(ds: DeploymentView[]): Promise<string> {
  return (await Promise.all(ds.map(async (d) => `--- ${d.service}\n${await deploymentLog(cp.client, d.id)}`))).join('\n');
}

async function accessories(project = app.project, env = 'production'): Promise<AccessoryView[]> {
  const r = await cliFor(cp, project === app.project ? app.dir : other.dir)('accessories', '--env', env, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AccessoryView[];
}

/** The accessory containers Docker runs for a project's environment (by their own labels). */
async function accessoryContainers(project: string, env: string, name?: string): Promise<Docker.ContainerInfo[]> {
  const label = [`slipway.accessory.project=${project}`, `slipway.accessory.env=${env}`, ...(name ? [`slipway.accessory.name=${name}`] : [])];
  return docker.listContainers({ all: true, filters: { label } });
}

/** What must not change when only services deploy: each accessory's container id and start time. */
async function accessoryIdentity(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const a of await accessories()) {
    const [c, ...more] = await accessoryContainers(app.project, 'production', a.name);
    assert.equal(more.length, 0, `one container for ${a.name}`);
    out[a.name] = `${c?.Id.slice(0, 12)} started ${a.startedAt}`;
  }
  return out;
}

/** Writes `n` rows through the web service and remembers their ids. */
async function writeRows(n: number): Promise<void> {
  for (let i = 0; i < n; i++) written.push((await edgeJson<{ id: number }>('POST', '/visits', app.domain, [201])).id);
}

async function assertRowsIntact(when: string): Promise<void> {
  if (written.length === 0) return; // a block run alone (--test-name-pattern) before any write
  const r = await edgeJson<{ found: number[]; missing: number[] }>('GET', `/visits?ids=${written.join(',')}`);
  assert.deepEqual(r.missing, [], `${when}: rows written before are still there`);
  assert.equal(r.found.length, written.length);
}

async function visitCounter(): Promise<number> {
  const page = await edge('GET', '/');
  assert.equal(page.status, 200, page.body);
  const m = /<strong id="visits">(\d+)<\/strong>/.exec(page.body);
  assert.ok(m, page.body);
  return Number(m[1]);
}

/** A job through Redis to the worker, written by it into Postgres, visible through web. */
async function workerRoundTrip(t: TestContext, when: string): Promise<void> {
  const { job } = await edgeJson<{ job: number }>('POST', '/jobs', app.domain, [202]);
  const w = await until(`the worker to process job ${job} (${when})`, async () => {
    const r = await edgeJson<{ heartbeat: string | null; processed: number; lastJob: number | null }>('GET', '/worker');
    return r.lastJob !== null && r.lastJob >= job ? r : null;
  });
  assert.ok(w.heartbeat && Date.now() - Date.parse(w.heartbeat) < 60_000, `a fresh heartbeat: ${w.heartbeat}`);
  t.diagnostic(`${when}: worker processed job ${job} (${w.processed} processed, heartbeat ${w.heartbeat})`);
}

async function healthy(host = app.domain): Promise<void> {
  await until(`/health 200 through the edge (${host})`, async () => {
    const r = await edge('GET', '/health', host);
    return r.status === 200 ? r : null;
  }, 240_000);
}

/** A TCP connect from inside a container to argv[1]:5432; exit 0 "connected", else 3 "unreachable: …". */
const PROBE = `const s=require('net').connect(5432,process.argv[1]);s.setTimeout(3000);s.on('connect',()=>{console.log('connected');process.exit(0)});s.on('timeout',()=>{console.log('unreachable: timeout');process.exit(3)});s.on('error',(e)=>{console.log('unreachable: '+e.code);process.exit(3)})`;
/** A fingerprint of the connection URLs a one-off gets: compares credentials without printing them. */
const FINGERPRINT = `console.log('fp:'+require('crypto').createHash('sha256').update(process.env.DATABASE_URL+' '+process.env.REDIS_URL).digest('hex'))`;

/** The IP of an accessory on its environment's network (the test reads it from Docker, as an attacker on the host could). */
async function accessoryIp(project: string, env: string, name: string): Promise<string> {
  const [c] = await accessoryContainers(project, env, name);
  assert.ok(c, `${project}/${env} ${name} runs`);
  const nets = Object.values((await docker.getContainer(c.Id).inspect()).NetworkSettings.Networks);
  assert.equal(nets.length, 1, 'an accessory joins its environment network only');
  return nets[0]!.IPAddress;
}

test('(a) the stack deploys from one slipway.yml and answers through the edge; the worker reaches db and cache by name', async (t) => {
  const t0 = Date.now();
  const ds = await deploy(app, variant('a'));
  t.diagnostic(`first deploy: ${((Date.now() - t0) / 1000).toFixed(1)} s (accessory images built when missing), services ${ds.map((d) => d.service).join(', ')}`);

  await healthy();
  const page = await edge('GET', '/');
  assert.equal(page.status, 200, page.body);
  assert.match(page.body, /Visits \(Redis counter\): <strong id="visits">\d+<\/strong>/);
  assert.match(page.body, /Rows in <code>visits<\/code> \(Postgres\): <strong id="rows">\d+<\/strong>/);
  assert.deepEqual(await edgeJson('GET', '/version'), { version: 'a', release: 'v1' });

  const acc = await accessories();
  t.diagnostic(`accessories: ${acc.map((a) => `${a.name} ${a.kind} ${a.state} ready=${a.ready} ${a.address} ${a.image} used by ${a.usedBy.join('+')}`).join('; ')}`);
  const byName = new Map(acc.map((a) => [a.name, a]));
  assert.deepEqual([...byName.keys()].sort(), ['cache', 'db']);
  assert.equal(byName.get('db')!.kind, 'postgres');
  assert.equal(byName.get('db')!.address, 'db:5432');
  assert.equal(byName.get('cache')!.address, 'cache:6379');
  for (const a of acc) {
    assert.equal(a.state, 'running');
    assert.equal(a.ready, true);
    assert.deepEqual([...a.usedBy].sort(), ['web', 'worker']);
    // Postgres has its backup repository beside its data (backups are on by default).
    assert.deepEqual(a.volumes.map((v) => v.volume), a.kind === 'postgres' ? ['data', 'backup'] : ['data'], `${a.name}'s volumes`);
  }

  // By name only: the URLs the services got name the accessories, and nothing is published on the host.
  const [replica] = await docker.listContainers({ filters: { label: [`slipway.project=${app.project}`, 'slipway.service=worker'] } });
  assert.ok(replica, 'the worker runs');
  const env = (await docker.getContainer(replica.Id).inspect()).Config.Env;
  assert.ok(env.some((e) => /^DATABASE_URL=postgres:\/\/app:[0-9a-f]+@db:5432\/stk$/.test(e)), 'DATABASE_URL names db (the app role, database stk)');
  assert.ok(env.some((e) => /^REDIS_URL=redis:\/\/default:[0-9a-f]+@cache:6379$/.test(e)), 'REDIS_URL names cache');
  for (const c of await accessoryContainers(app.project, 'production')) {
    assert.deepEqual(c.Ports.filter((p) => p.PublicPort), [], `${c.Names[0]} publishes no port on the host`);
  }
  await workerRoundTrip(t, 'first deploy');
});

test('(d) two-user model: the release command (owner) made the tables; the app role reads and writes them but cannot CREATE, ALTER, DROP or TRUNCATE', async () => {
  const releaseLog = (await Promise.all(deploymentIds.map((id) => deploymentLog(cp.client, id)))).join('\n');
  assert.match(releaseLog, /migrating database stk as owner/, 'the release command ran as the owner');
  assert.match(releaseLog, /create table visits: ok/);
  assert.match(releaseLog, /alter table visits add column replica: ok/, 'the owner may ALTER');

  const who = await edgeJson<{ user: string; database: string }>('GET', '/db/whoami');
  assert.equal(who.user, 'app');
  assert.equal(who.database, 'stk');
  const p = await edgeJson<{ user: string; results: Record<string, { allowed: boolean; code?: string; error?: string }> }>('GET', '/db/privileges');
  assert.equal(p.user, 'app');
  assert.equal(p.results.select!.allowed, true, JSON.stringify(p.results.select));
  assert.equal(p.results.insert!.allowed, true, JSON.stringify(p.results.insert));
  for (const ddl of ['create', 'alter', 'drop', 'truncate']) {
    assert.equal(p.results[ddl]!.allowed, false, `the app role may not ${ddl}: ${JSON.stringify(p.results[ddl])}`);
    assert.equal(p.results[ddl]!.code, '42501', `insufficient_privilege for ${ddl}: ${p.results[ddl]!.error}`);
  }
  await writeRows(3);
  await assertRowsIntact('after the first writes');
  // The table survived the attempts (they ran in rolled-back transactions, and were refused anyway).
  assert.ok((await edgeJson<{ count: number }>('GET', '/visits/count')).count >= 3);
});

test('(b) ten rolling deploys of web under load: 0 failed requests, rows kept, accessories untouched', async (t) => {
  const identity = await accessoryIdentity();
  t.diagnostic(`accessories before: ${JSON.stringify(identity)}`);
  const counterBefore = await visitCounter();
  let load: LoadRun | null = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, concurrency: 8, path: '/' });
  try {
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 1; i <= 10; i++) {
      await writeRows(2);
      const started = Date.now();
      const [web] = await deploy(app, variant(`b${i}`), undefined, ['web']);
      await assertRowsIntact(`after deploy ${i}`);
      assert.deepEqual(await accessoryIdentity(), identity, `deploy ${i} left the accessories running as they were`);
      const snap = load.snapshot();
      t.diagnostic(`deploy ${i}: web v${web!.releaseNumber} in ${((Date.now() - started) / 1000).toFixed(1)} s; ${snap.total} requests so far, ${snap.failed} failed`);
    }
    const report = await load.stop();
    load = null;
    t.diagnostic(`load: ${report.total} requests, ${report.failed} failed, p99 ${report.latencyMs.p99.toFixed(1)} ms`);
    assert.ok(report.total > 500, `enough traffic to mean something (${report.total})`);
    assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.errors)} first: ${JSON.stringify(report.firstFailures.slice(0, 5))}`);
    assert.ok((await visitCounter()) > counterBefore + report.ok, 'every GET / was counted in Redis');
  } finally {
    await load?.stop();
  }
  assert.equal((await edgeJson('GET', '/version')).version, 'b10');
  const web = (await cp.client.status(app.project)).services.find((s) => s.service === 'web')!;
  assert.equal(web.replicas.length, 2, 'no leftover replicas');
});

test('(c) control-plane restart, then stop-everything-then-start: data intact, services healthy again', async (t) => {
  const identity = await accessoryIdentity();
  const load = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, concurrency: 4, path: '/' });
  try {
    await cp.stop();
    await new Promise((r) => setTimeout(r, 1000));
    await cp.start();
    await new Promise((r) => setTimeout(r, 3000));
  } finally {
    const report = await load.stop();
    t.diagnostic(`control-plane restart under load: ${report.total} requests, ${report.failed} failed`);
    assert.equal(report.failed, 0, `${JSON.stringify(report.errors)} ${JSON.stringify(report.firstFailures.slice(0, 5))}`);
  }
  await assertRowsIntact('after a control-plane restart');
  assert.deepEqual(await accessoryIdentity(), identity, 'a control-plane restart does not restart accessories');

  // Everything down at once (a host reboot without restart policies), then the control plane comes back.
  await writeRows(2);
  const counter = await visitCounter();
  await cp.stop();
  const everything = [
    ...(await docker.listContainers({ filters: { label: [`slipway.project=${app.project}`] } })),
    ...(await accessoryContainers(app.project, 'production')).filter((c) => c.State === 'running'),
  ];
  t.diagnostic(`stopping ${everything.length} containers: ${everything.map((c) => c.Names[0]).join(', ')}`);
  assert.ok(everything.length >= 5, 'web ×2, worker, db, cache');
  await Promise.all(everything.map((c) => docker.getContainer(c.Id).stop({ t: 10 }).catch(() => undefined)));
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  await cp.start();
  t.diagnostic(`control plane answering after ${since()}`);
  await until('the accessories to run again', async () => (await accessories()).every((a) => a.state === 'running' && a.ready), 240_000);
  t.diagnostic(`accessories running and ready after ${since()}`);
  await healthy();
  t.diagnostic(`/health 200 through the edge after ${since()}`);
  await until('web ×2 and the worker to run again', async () => {
    const s = await cp.client.status(app.project);
    const web = s.services.find((x) => x.service === 'web')!;
    const worker = s.services.find((x) => x.service === 'worker')!;
    return web.replicas.filter((r) => r.state === 'running' && r.edge === 'ready').length === 2 && worker.replicas.some((r) => r.state === 'running');
  });
  t.diagnostic(`web ×2 and the worker running after ${since()}`);
  // The reconciler replaces the dead replicas under each service's lease: a deploy now would be refused (SLW_DEPLOY_LOCKED).
  await until('the repairs to finish', async () => {
    const { deployments } = await cp.client.deployments(app.project);
    return deployments.every((d) => !ACTIVE_STATES.includes(d.state));
  });
  await assertRowsIntact('after stop-everything-then-start');
  assert.ok((await visitCounter()) > counter, 'the Redis counter kept its value (appendonly on the volume)');
  await workerRoundTrip(t, 'after stop-everything-then-start');
});

test('(f) a changed accessory is recreated with its data; the services reconnect', async (t) => {
  const [dbBefore] = await accessoryContainers(app.project, 'production', 'db');
  const [cacheBefore] = await accessoryContainers(app.project, 'production', 'cache');
  const volumeBefore = (await docker.getContainer(dbBefore!.Id).inspect()).Mounts.map((m) => m.Name).sort();
  await writeRows(2);
  const ds = await deploy(app, variant('f', { db: { resources: { memory: '256m' } } }));
  const log = await logsOf(ds);
  t.diagnostic(log.split('\n').filter((l) => /\bdb\b/.test(l)).slice(0, 10).join('\n'));
  assert.match(log, /recreat/i, 'the deploy says the accessory was recreated');

  const dbs = await accessoryContainers(app.project, 'production', 'db');
  assert.equal(dbs.length, 1, 'one db container (never two on one volume)');
  assert.notEqual(dbs[0]!.Id, dbBefore!.Id, 'a new container');
  const inspected = await docker.getContainer(dbs[0]!.Id).inspect();
  assert.equal(inspected.HostConfig.Memory, 256 * 1024 * 1024, 'the new limit');
  assert.deepEqual(inspected.Mounts.map((m) => m.Name).sort(), volumeBefore, 'the same volumes (Docker lists mounts in no fixed order)');
  const [cacheAfter] = await accessoryContainers(app.project, 'production', 'cache');
  assert.equal(cacheAfter!.Id, cacheBefore!.Id, 'the unchanged accessory kept running');
  const db = (await accessories()).find((a) => a.name === 'db')!;
  assert.equal(db.resources.memoryBytes, 256 * 1024 * 1024);

  await healthy();
  await assertRowsIntact('after the db was recreated');
  await workerRoundTrip(t, 'after the db was recreated');
});

test('(e) staging and production are isolated; a second project gets its own db', async (t) => {
  const staging = await deploy(app, variant('f', { db: { resources: { memory: '256m' } } }), 'staging');
  t.diagnostic(`staging: ${staging.map((d) => `${d.service} v${d.releaseNumber}`).join(', ')}`);
  const stagingHost = app.domainOf('staging');
  await healthy(stagingHost);
  const prodWho = await edgeJson<{ user: string; database: string; server: string }>('GET', '/db/whoami');
  const stagingWho = await edgeJson<{ user: string; database: string; server: string }>('GET', '/db/whoami', stagingHost);
  assert.notEqual(stagingWho.server, prodWho.server, 'staging talks to its own db');
  assert.equal((await edgeJson<{ missing: number[] }>('GET', `/visits?ids=${written.join(',')}`, stagingHost)).missing.length, written.length, "staging's db has none of production's rows");

  const prodDbIp = await accessoryIp(app.project, 'production', 'db');
  assert.equal(prodDbIp, prodWho.server);
  const fromProd = await cli('run', 'web', '--', 'node', '-e', PROBE, prodDbIp);
  assert.equal(fromProd.code, 0, `control: production reaches its own db at ${prodDbIp}: ${fromProd.stdout}${fromProd.stderr}`);
  assert.match(fromProd.stdout, /connected/);
  const fromStaging = await cli('run', 'web', '--env', 'staging', '--', 'node', '-e', PROBE, prodDbIp);
  t.diagnostic(`staging → production db ${prodDbIp}: exit ${fromStaging.code}, ${fromStaging.stdout.trim()}`);
  assert.notEqual(fromStaging.code, 0);
  assert.match(fromStaging.stdout, /unreachable/);

  const fingerprint = async (run: typeof cli, env: string) => {
    const r = await run('run', 'web', '--env', env, '--', 'node', '-e', FINGERPRINT);
    assert.equal(r.code, 0, r.stderr);
    return /fp:([0-9a-f]{64})/.exec(r.stdout)![1];
  };
  const prodFp = await fingerprint(cli, 'production');
  assert.notEqual(await fingerprint(cli, 'staging'), prodFp, 'staging has its own credentials');

  // A second project with an accessory named db: its own server, credentials and network.
  const second = await deploy(other, { version: 'a' });
  t.diagnostic(`second project: ${second.map((d) => `${d.service} v${d.releaseNumber}`).join(', ')}`);
  await healthy(other.domain);
  const otherWho = await edgeJson<{ server: string; database: string }>('GET', '/db/whoami', other.domain);
  assert.equal(otherWho.database, 'stk2');
  assert.notEqual(otherWho.server, prodWho.server);
  assert.notEqual(await fingerprint(cliOther, 'production'), prodFp, 'the second project has its own credentials');
  const crossProject = await cliOther('run', 'web', '--', 'node', '-e', PROBE, prodDbIp);
  assert.notEqual(crossProject.code, 0, `another project cannot reach stk's db: ${crossProject.stdout}`);
});

/** The generated credentials in use, read from Docker (the containers have to carry them). */
async function generatedCredentials(): Promise<string[]> {
  const values = new Set<string>();
  for (const [project, env] of [
    [app.project, 'production'],
    [app.project, 'staging'],
    [other.project, 'production'],
  ] as const) {
    const [replica] = await docker.listContainers({ filters: { label: [`slipway.project=${project}`, `slipway.env=${env}`, 'slipway.service=web'] } });
    assert.ok(replica, `${project}/${env} web runs`);
    for (const e of (await docker.getContainer(replica.Id).inspect()).Config.Env) {
      const m = /^(DATABASE_URL|REDIS_URL)=(.*)$/.exec(e);
      if (m) values.add(decodeURIComponent(new URL(m[2]!).password));
    }
    for (const c of await accessoryContainers(project, env)) {
      const info = await docker.getContainer(c.Id).inspect();
      for (const e of info.Config.Env) {
        const m = /^(POSTGRES_PASSWORD|REDIS_PASSWORD)=(.*)$/.exec(e);
        if (m) values.add(m[2]!);
      }
    }
  }
  const out = [...values].filter((v) => v.length > 0);
  assert.ok(out.length >= 9, `app, superuser and redis passwords of three environments: ${out.length}`);
  return out;
}

/**
 * The careless app's lines `DATABASE_URL=…` are there (it did print them) and carry no
 * password: whether the whole URL or only its password is masked, no 32-hex run is left.
 */
function assertPrintedMasked(what: string, text: string): void {
  const printed = [...text.matchAll(/DATABASE_URL=(\S+)/g)].map((m) => m[1]!);
  assert.ok(printed.length > 0, `${what}: the app printed DATABASE_URL`);
  for (const value of printed) assert.doesNotMatch(value, /[0-9a-f]{32}/, `${what}: DATABASE_URL is printed masked (${value.replace(/[0-9a-f]{32}/g, '<32 hex>')})`);
}

function assertNoLeak(t: TestContext, texts: Array<[string, string]>, secrets: string[]): void {
  t.diagnostic(`searched ${texts.length} texts (${texts.reduce((n, [, s]) => n + s.length, 0)} characters) for ${secrets.length} generated credentials`);
  // What is searched for is what Slipway generates (read from the containers, where they belong).
  assert.ok(secrets.every((s) => /^[0-9a-f]{32}$/.test(s)), 'generated credentials look as generated (32 hex)');
  const leaks = texts.flatMap(([what, text]) => secrets.filter((s) => text.includes(s)).map((s) => `${what} carries a credential (${s.slice(0, 4)}…)`));
  assert.deepEqual(leaks, []);
}

test('(g) generated credentials never appear in logs, one-off output or API answers', async (t) => {
  const secrets = await generatedCredentials();
  const texts: Array<[string, string]> = [];
  const collect = async (what: string, r: Promise<{ code: number; stdout: string; stderr: string }>) => {
    const x = await r;
    assert.equal(x.code, 0, `${what}: ${x.stderr}`);
    texts.push([what, x.stdout + x.stderr]);
    return x.stdout;
  };

  // The careless app printed its URLs at startup; `slipway logs` shows them masked.
  const webLogs = await collect('slipway logs web', cli('logs', 'web', '--tail', '1000'));
  assertPrintedMasked('slipway logs web', webLogs);
  await collect('slipway logs web --env staging', cli('logs', 'web', '--env', 'staging', '--tail', '1000'));
  await collect('slipway logs worker', cli('logs', 'worker', '--tail', '1000'));
  await collect('slipway accessories logs db', cli('accessories', 'logs', 'db', '--tail', '1000'));
  await collect('slipway accessories logs cache', cli('accessories', 'logs', 'cache', '--tail', '1000'));
  const runOut = await collect('slipway run printing DATABASE_URL', cli('run', 'web', '--', 'node', '-e', "console.log('DATABASE_URL=' + process.env.DATABASE_URL)"));
  assertPrintedMasked('slipway run', runOut);
  await collect('slipway status --json', cli('status', '--json'));
  await collect('slipway status --json --env staging', cli('status', '--env', 'staging', '--json'));
  await collect('slipway accessories --json', cli('accessories', '--json'));
  await collect('slipway accessories', cli('accessories'));
  await collect('slipway volumes --json', cli('volumes', '--json'));
  await collect('slipway status (second project)', cliOther('status', '--json'));

  const deployLogs = (await Promise.all(deploymentIds.map((id) => deploymentLog(cp.client, id)))).join('\n');
  texts.push(['deployment logs', deployLogs]);
  // The careless release command printed the owner's URL (whose password the test cannot read elsewhere): masked too.
  assertPrintedMasked('deployment logs (release command)', deployLogs);
  texts.push(['API releases', JSON.stringify(await cp.client.releases(app.project, 'web'))]);
  texts.push(['API deployments', JSON.stringify(await cp.client.deployments(app.project))]);
  texts.push(['API accessories', JSON.stringify(await cp.client.accessories(app.project, 'production'))]);

  assertNoLeak(t, texts, secrets);
});

test('(g) generated credentials never appear in the dashboard: not rendered, not in any answer the page received', async (t) => {
  const secrets = await generatedCredentials();
  const texts: Array<[string, string]> = [];
  // The dashboard: every answer the page received and everything it rendered.
  await cp.client.createUser({ name: 'stacker', password: DASHBOARD_PASSWORD, scope: 'admin' });
  const b = await openBrowser(`http://127.0.0.1:${cp.apiPort}`);
  try {
    const { page } = b;
    // A page that could not load says so: its refused answers are the diagnosis.
    const refused = () => b.answers.filter((a) => a.status >= 400 && !a.url.endsWith('/api/v1/session') && !a.url.endsWith('/api/v1/projects')).map((a) => `${a.status} ${a.url} ${a.body.slice(0, 200)}`);
    await page.goto('/');
    await page.getByLabel('User').fill('stacker');
    await page.getByLabel('Password').fill(DASHBOARD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.waitForLoadState('networkidle');
    texts.push(['dashboard overview', await page.content()]);
    await page
      .locator('[data-testid="services-table"] a', { hasText: 'web' })
      .first()
      .click({ timeout: 30_000 })
      .catch((err: Error) => assert.fail(`the overview shows no web service: ${err.message.split('\n')[0]}; refused answers: ${JSON.stringify(refused())}`));
    await page.getByTestId('timeline').waitFor();
    await page.waitForLoadState('networkidle');
    texts.push(['dashboard web service', await page.content()]);
    await page.getByRole('tab', { name: 'Config' }).click();
    await page.waitForLoadState('networkidle');
    texts.push(['dashboard web config', await page.content()]);
  } finally {
    await b.close();
  }
  for (const a of b.answers) texts.push([`dashboard answer ${a.url}`, a.body]);
  assert.ok(b.answers.length > 5, `answers recorded: ${b.answers.length}`);
  assertNoLeak(t, texts, secrets);
});
