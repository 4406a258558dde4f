/**
 * Per-environment schedules (issue 24, item 1) on the real engine and JobScheduler over the
 * memory ports: a job whose schedule is `off` in production is deployed there (its release is
 * live, no replica starts) but never run on schedule, while staging runs it at each tick; the
 * jobs read model says which.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProjectConfig, formatErrors } from '../core/parse-config';
import { JobScheduler } from '../engine/job-scheduler';
import { Queries } from '../engine/queries';
import { engineWorld, waitFor } from './engine-world.test-support';

const YML = `project: shop
services:
  report:
    image: shop/report:1
    command: [node, report.js]
    schedule: "* * * * * *"
environments:
  staging: {}
  production:
    services:
      report: { schedule: off }
`;

function configFor(env: string) {
  const r = parseProjectConfig(YML, { env });
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  return r.config;
}

test('a job with schedule off in production is released there but never run on schedule; staging runs it every tick', async () => {
  const w = await engineWorld();
  const scheduler = new JobScheduler(w.ctx, { tickMs: 20 });
  try {
    w.runtime.addImage('shop/report:1');
    const deployed: Record<string, string[]> = {};
    for (const env of ['production', 'staging']) {
      const d = await w.engine.deploy({ config: configFor(env), service: 'report', env, source: null, unrestricted: true, triggeredBy: 'test' });
      const done = await w.settle(d.id);
      deployed[env] = await w.logs(d.id);
      assert.equal(done.state, 'succeeded', deployed[env].join('\n'));
      assert.deepEqual(await w.runtime.listReplicas({ project: 'shop', service: 'report', env }), [], `a job keeps no replicas in ${env}`);
    }
    assert.ok(deployed.production!.some((l) => /job with schedule off in production: never run on schedule here; run it by hand with slipway run report --env production/.test(l)), deployed.production!.join('\n'));
    assert.ok(deployed.production!.includes('v1 is the live release of the job'));
    assert.ok(deployed.staging!.some((l) => /scheduled job "\* \* \* \* \* \*" \(UTC\): next run at/.test(l)), deployed.staging!.join('\n'));

    const project = (await w.store.getProject('shop'))!;
    const service = (await w.store.getService(project.id, 'report'))!;
    assert.equal(service.type, 'job', 'one type in every environment');
    const envId = async (name: string) => (await w.store.getEnvironment(project.id, name))!.id;
    const runsIn = async (env: string) => w.store.listJobRuns({ environmentId: await envId(env), serviceId: service.id });
    const prodRelease = await w.store.getCurrentRelease(service.id, await envId('production'));
    assert.deepEqual([prodRelease?.number, prodRelease?.config.type, prodRelease?.config.schedule], [1, 'job', null], 'production: the release is live, its schedule off');

    await scheduler.start();
    // Every second in staging: two runs need two ticks after the scheduler first saw the release.
    await waitFor('two scheduled runs in staging', async () => (await runsIn('staging')).filter((r) => r.status === 'succeeded').length >= 2, 5000);
    await scheduler.idle();
    assert.deepEqual(await runsIn('production'), [], 'nothing run, nothing skipped in production');
    assert.ok(w.runtime.oneOffs.length >= 2);
    assert.deepEqual([...new Set(w.runtime.oneOffs.map((s) => `${s.kind} ${s.labels.env} ${s.argv.join(' ')}`))], ['job staging node report.js'], 'every one-off the scheduler started was staging\'s');

    const queries = new Queries(w.ctx);
    const now = new Date('2026-12-08T01:00:00.250Z');
    assert.deepEqual(await queries.jobSchedules('shop', 'production', undefined, now), [{ service: 'report', release: 1, schedule: null, nextRunAt: null }]);
    assert.deepEqual(await queries.jobSchedules('shop', 'staging', 'report', now), [{ service: 'report', release: 1, schedule: '* * * * * *', nextRunAt: '2026-12-08T01:00:01.000Z' }]);
    assert.deepEqual(await queries.jobSchedules('shop', 'staging', 'other', now), []);
    assert.deepEqual(await queries.jobSchedules('shop', 'preview-x', undefined, now), [], 'an environment that does not exist: no job live there');
  } finally {
    scheduler.stop();
    await scheduler.idle();
    await w.close();
  }
});
