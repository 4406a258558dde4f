/**
 * Workers and jobs. Workers: services without a port. Readiness is the image's Docker HEALTHCHECK when it
 * has one, else "running min_ready without exiting"; they roll by default and deploy and
 * roll back like web services; `strategy: recreate` never lets two replicas of a
 * singleton overlap; a worker that crashes fails the deployment and the old ones stay.
 * Jobs: a service with a schedule runs as a one-off of its live release at each tick;
 * a tick that comes while the previous run goes on is skipped and recorded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject, type Variant } from './support/test-project';
import { deploymentLog, waitDeployment } from './support/wait-deployment';
import { deployDirectory } from '../src/client/upload-contexts';

const cp = await ControlPlaneProcess.create('workers');
const app = new TestProject('workers');
const docker = new Docker();

const variant = (version: string, extra: { failJobs?: boolean } = {}): Variant => ({
  version,
  replicas: 1,
  services: {
    jobs: {
      build: '.',
      command: ['node', '/app/worker.js'],
      replicas: 2,
      min_ready: '1s',
      deploy: { stop_timeout: '5s' },
      env: { APP_VERSION: version, ...(extra.failJobs ? { FAIL_AFTER_MS: '300' } : {}) },
    },
    singleton: {
      build: { context: '.', dockerfile: 'Dockerfile.worker' },
      replicas: 1,
      deploy: { strategy: 'recreate', stop_timeout: '5s' },
      health: { deadline: '30s' },
      env: { APP_VERSION: version },
    },
  },
});

async function deploy(v: Variant, services: string[]) {
  const { deployments } = await deployDirectory(cp.client, { ...app.write(v), services });
  return Promise.all(deployments.map((d) => waitDeployment(cp.client, d.id)));
}

async function running(service: string) {
  return docker.listContainers({ filters: { label: ['slipway.project=workers', `slipway.service=${service}`], status: ['running'] } });
}

/** Samples how many replicas of a service run, every 100 ms, while `during` runs. */
async function sampleRunning<T>(service: string, during: () => Promise<T>): Promise<{ result: T; min: number; max: number }> {
  let min = Infinity;
  let max = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const n = (await running(service)).length;
      min = Math.min(min, n);
      max = Math.max(max, n);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const result = await during();
  done = true;
  await sampler;
  return { result, min, max };
}

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

test('workers become ready by min_ready or by HEALTHCHECK, with no route', async () => {
  const ds = await deploy(variant('1'), ['jobs', 'singleton']);
  for (const d of ds) assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  const jobsLog = await deploymentLog(cp.client, ds.find((d) => d.service === 'jobs')!.id);
  const singletonLog = await deploymentLog(cp.client, ds.find((d) => d.service === 'singleton')!.id);
  assert.match(jobsLog, /is ready \(running without restart after \d+ ms\)/);
  assert.match(singletonLog, /is ready \(HEALTHCHECK healthy after \d+ ms\)/);
  assert.doesNotMatch(jobsLog, /edge route/);

  const status = await cp.client.status('workers');
  const jobs = status.services.find((s) => s.service === 'jobs')!;
  const singleton = status.services.find((s) => s.service === 'singleton')!;
  assert.equal(jobs.type, 'worker');
  assert.deepEqual([jobs.readyReplicas, jobs.desiredReplicas, jobs.urls.length], [2, 2, 0]);
  assert.deepEqual([singleton.readyReplicas, singleton.desiredReplicas], [1, 1]);
  const [worker] = await running('jobs');
  const env = (await docker.getContainer(worker!.Id).inspect()).Config.Env;
  // The image's own ENV PORT=3000 stays; Slipway adds no PORT of its own for a worker.
  assert.deepEqual(env.filter((e) => e.startsWith('PORT=')), ['PORT=3000']);
});

test('a rolling worker never drops below its replicas; a recreate singleton never overlaps', async () => {
  const jobs = await sampleRunning('jobs', () => deploy(variant('2'), ['jobs']));
  assert.equal(jobs.result[0]!.state, 'succeeded', await deploymentLog(cp.client, jobs.result[0]!.id));
  assert.ok(jobs.min >= 2, `jobs dipped to ${jobs.min} running replicas`);
  assert.ok(jobs.max >= 3, 'rolling surges one above');

  const single = await sampleRunning('singleton', () => deploy(variant('2'), ['singleton']));
  assert.equal(single.result[0]!.state, 'succeeded', await deploymentLog(cp.client, single.result[0]!.id));
  assert.equal(single.max, 1, 'two singletons ran at the same time');
  const [c] = await running('singleton');
  assert.equal(c?.Labels['slipway.release'], '2');
});

test('workers roll back; a crashing worker fails its deployment and the old replicas keep running', async () => {
  const back = await cp.client.rollback('workers', 'singleton', {});
  assert.equal((await waitDeployment(cp.client, back.deployment.id)).state, 'succeeded');
  assert.equal((await running('singleton'))[0]?.Labels['slipway.release'], '1');

  const [failed] = await deploy(variant('3', { failJobs: true }), ['jobs']);
  assert.equal(failed!.state, 'failed');
  assert.match(failed!.error ?? '', /exited before becoming ready \(exit code 3\)/);
  const left = await running('jobs');
  assert.equal(left.length, 2);
  assert.ok(left.every((c) => c.Labels['slipway.release'] === '2'), 'v2 keeps running');

  const jobsBack = await cp.client.rollback('workers', 'jobs', { release: 1 });
  assert.equal((await waitDeployment(cp.client, jobsBack.deployment.id)).state, 'succeeded');
  assert.deepEqual((await running('jobs')).map((c) => c.Labels['slipway.release']), ['1', '1']);
});

test('a scheduled job runs on its schedule with its release env; overlapping ticks are skipped; history is listed', async () => {
  const v = variant('1');
  v.services!.tick = {
    build: '.',
    // Runs ~2.5 s on a 2 s schedule: every other tick finds it still running.
    command: ['node', '-e', "console.log('job ran with ' + process.env.APP_VERSION); setTimeout(() => {}, 2500)"],
    schedule: '*/2 * * * * *',
    env: { APP_VERSION: 'job-v1' },
  };
  const [d] = await deploy(v, ['tick']);
  assert.equal(d!.state, 'succeeded', await deploymentLog(cp.client, d!.id));
  assert.match(await deploymentLog(cp.client, d!.id), /scheduled job "\*\/2 \* \* \* \* \*" \(UTC\): next run at/);
  assert.equal((await running('tick')).length, 0, 'a job keeps no replicas');

  const deadline = Date.now() + 30_000;
  let runs = (await cp.client.jobRuns('workers', { service: 'tick', limit: 50 })).runs;
  while (Date.now() < deadline && !(runs.some((r) => r.status === 'succeeded') && runs.some((r) => r.status === 'skipped'))) {
    await new Promise((r) => setTimeout(r, 500));
    runs = (await cp.client.jobRuns('workers', { service: 'tick', limit: 50 })).runs;
  }
  const ok = runs.find((r) => r.status === 'succeeded');
  const skipped = runs.find((r) => r.status === 'skipped');
  assert.ok(ok && skipped, JSON.stringify(runs, null, 1));
  assert.equal(ok.exitCode, 0);
  assert.equal(ok.release, 1);
  assert.match(skipped.note ?? '', /the previous run \(#\d+\) was still running/);
  assert.ok(runs.filter((r) => r.status === 'running').length <= 1, 'runs never overlap');

  const slipway = cliFor(cp, app.dir);
  const show = await slipway('jobs', 'show', String(ok.id));
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /job ran with job-v1/);
  const table = await slipway('jobs', 'tick');
  assert.match(table.stdout, /RUN\s+JOB\s+RELEASE\s+SCHEDULED/);
  assert.match(table.stdout, /skipped/);
});

test('a job with schedule off in production is released there but never run on schedule; staging runs it; slipway jobs says which; slipway run still runs it', async () => {
  const v = variant('1');
  v.services!.report = {
    build: '.',
    command: ['node', '-e', "console.log('report ran in ' + process.env.SLIPWAY_ENV)"],
    schedule: '* * * * * *',
  };
  v.environments = { staging: {}, production: { services: { report: { schedule: 'off' } } } };
  const [prod] = await deploy(v, ['report']);
  assert.equal(prod!.state, 'succeeded', await deploymentLog(cp.client, prod!.id));
  assert.match(await deploymentLog(cp.client, prod!.id), /job with schedule off in production: never run on schedule here; run it by hand with slipway run report --env production/);
  const { deployments } = await deployDirectory(cp.client, { ...app.write(v, 'staging'), services: ['report'] });
  const staging = await waitDeployment(cp.client, deployments[0]!.id);
  assert.equal(staging.state, 'succeeded', await deploymentLog(cp.client, staging.id));
  assert.equal((await running('report')).length, 0, 'a job keeps no replicas, off or not');

  // Every second in staging: once it has run twice, production (same release content, same ticks) would have too.
  const deadline = Date.now() + 30_000;
  let stagingRuns = (await cp.client.jobRuns('workers', { env: 'staging', service: 'report' })).runs;
  while (Date.now() < deadline && stagingRuns.filter((r) => r.status === 'succeeded').length < 2) {
    await new Promise((r) => setTimeout(r, 500));
    stagingRuns = (await cp.client.jobRuns('workers', { env: 'staging', service: 'report' })).runs;
  }
  assert.ok(stagingRuns.filter((r) => r.status === 'succeeded').length >= 2, JSON.stringify(stagingRuns, null, 1));
  const prodAnswer = await cp.client.jobRuns('workers', { env: 'production', service: 'report' });
  assert.deepEqual(prodAnswer.runs, [], 'no run and no skipped tick in production');
  assert.deepEqual(prodAnswer.schedules, [{ service: 'report', release: 1, schedule: null, nextRunAt: null }]);
  const stagingSchedule = (await cp.client.jobRuns('workers', { env: 'staging', service: 'report' })).schedules;
  assert.deepEqual(stagingSchedule.map((s) => [s.service, s.schedule]), [['report', '* * * * * *']]);

  const slipway = cliFor(cp, app.dir);
  const table = await slipway('jobs', 'report');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^report \(v1\): schedule off in production, never run on schedule here \(by hand: slipway run report --env production -- <command>\)$/m);
  assert.match(table.stdout, /no job runs yet in production for report/);
  const byHand = await slipway('run', 'report', '--', 'node', '-e', "console.log('by hand in ' + process.env.SLIPWAY_ENV)");
  assert.equal(byHand.code, 0, byHand.stderr);
  assert.match(byHand.stdout, /by hand in production/);
  assert.deepEqual((await cp.client.jobRuns('workers', { env: 'production', service: 'report' })).runs, [], 'a run by hand is not a scheduled run');
});
