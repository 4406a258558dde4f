import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from '../core/domain';
import type { Store } from '../core/ports/store';
import { SlipwayMetrics } from './slipway-metrics';

const deployment = (over: Partial<Deployment>): Deployment => ({
  id: 'd1', serviceId: 1, environmentId: 1, kind: 'deploy', state: 'succeeded', releaseId: 1, previousReleaseId: null, source: null, triggeredBy: null, git: null,
  errorCode: null, error: null, createdAt: '2026-01-01T00:00:00.000Z', startedAt: '2026-01-01T00:00:01.000Z', finishedAt: '2026-01-01T00:00:04.000Z', ...over,
});

function metrics(found: Deployment | null = deployment({})) {
  return new SlipwayMetrics({
    outboxBacklog: async () => ({ events: 2, pendingDeliveries: 5 }),
    ingestStats: () => ({ lines: 10, malformed: 1, counted: 8, unrouted: 1 }),
    deployment: async () => found,
  });
}

/** The value of one series in the exposition text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('requests are counted per service, env, release and status class, with a duration histogram', async () => {
  const m = metrics();
  for (let i = 0; i < 3; i++) m.recordRequest({ project: 'shop', service: 'web', env: 'production', release: 2, status: 200, durationMs: 12 });
  m.recordRequest({ project: 'shop', service: 'web', env: 'production', release: 2, status: 503, durationMs: 700 });
  m.recordRequest({ project: 'shop', service: 'web', env: 'production', release: null, status: -1, durationMs: 3 });
  const text = await m.render();
  assert.equal(sample(text, 'slipway_http_requests_total{project="shop",service="web",env="production",release="v2",code_class="2xx"}'), 3);
  assert.equal(sample(text, 'slipway_http_requests_total{project="shop",service="web",env="production",release="v2",code_class="5xx"}'), 1);
  assert.equal(sample(text, 'slipway_http_requests_total{project="shop",service="web",env="production",release="none",code_class="none"}'), 1);
  assert.equal(sample(text, 'slipway_http_request_duration_seconds_bucket{le="0.025",project="shop",service="web",env="production",release="v2"}'), 3);
  assert.equal(sample(text, 'slipway_http_request_duration_seconds_bucket{le="1",project="shop",service="web",env="production",release="v2"}'), 4);
  assert.equal(sample(text, 'slipway_http_request_duration_seconds_count{project="shop",service="web",env="production",release="v2"}'), 4);
});

test('outbox backlog and request-log ingestion are read at scrape time', async () => {
  const text = await metrics().render();
  assert.equal(sample(text, 'slipway_outbox_backlog{kind="events"}'), 2);
  assert.equal(sample(text, 'slipway_outbox_backlog{kind="deliveries"}'), 5);
  assert.equal(sample(text, 'slipway_request_log_lines_total{result="counted"}'), 8);
  assert.match(text, /slipway_process_resident_memory_bytes \d+/, 'process metrics are there too');
});

test('deployments are counted when they end, with their duration; other states are not', async () => {
  const m = metrics(deployment({ kind: 'rollback' }));
  m.onDeploymentState('d1', 'rolling');
  m.onDeploymentState('d1', 'succeeded');
  await new Promise((r) => setImmediate(r));
  const text = await m.render();
  assert.equal(sample(text, 'slipway_deployments_total{kind="rollback",outcome="succeeded"}'), 1);
  assert.equal(sample(text, 'slipway_deployment_duration_seconds_sum{kind="rollback",outcome="succeeded"}'), 3);
  assert.equal(sample(text, 'slipway_deployment_duration_seconds_bucket{le="2",kind="rollback",outcome="succeeded"}'), 0);
  assert.equal(sample(text, 'slipway_deployment_duration_seconds_bucket{le="5",kind="rollback",outcome="succeeded"}'), 1);
});

test('loop rounds and store operations are timed; the timed store behaves like the store', async () => {
  const m = metrics();
  m.loopDone('notifier', 0.003);
  const store = { getSetting: async (k: string) => `value of ${k}`, failing: async () => { throw new Error('boom'); } } as unknown as Store;
  const timed = m.timedStore(store);
  assert.equal(await timed.getSetting('x'), 'value of x');
  await assert.rejects((timed as unknown as { failing(): Promise<void> }).failing(), /boom/);
  const text = await m.render();
  assert.equal(sample(text, 'slipway_loop_duration_seconds_count{loop="notifier"}'), 1);
  assert.equal(sample(text, 'slipway_store_operation_duration_seconds_count{operation="getSetting"}'), 1);
  assert.equal(sample(text, 'slipway_store_operation_duration_seconds_count{operation="failing"}'), 1, 'failures are timed too');
});
