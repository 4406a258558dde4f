import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutboxEvent } from '../../core/domain';
import { slackText } from './http-notification-sender';

const event = (payload: Record<string, unknown>): OutboxEvent => ({ seq: 1, eventId: 'e1', type: 'replica.oom_killed', project: 'shop', payload, createdAt: '2026-01-01T00:00:00Z' });

test('replica.oom_killed in Slack names the replica, its release and the memory limit', () => {
  const text = slackText(event({ project: 'shop', service: 'worker', env: 'production', replica: 'shop-worker-4-abc', release: 4, memoryLimitMiB: 32 }));
  assert.equal(text, ":boom: shop/worker/production: replica shop-worker-4-abc (v4) was killed by the kernel's OOM killer (memory limit 32 MiB); the reconciler replaces it");
  assert.match(slackText(event({ project: 'shop', service: 'worker', env: 'production', replica: 'r', release: 4, memoryLimitMiB: null })), /no memory limit: the host ran out of memory/);
});

test('alert.firing and alert.resolved in Slack name the rule, the subject, the measured value and where to look', () => {
  const firing = slackText({ seq: 1, eventId: 'e', type: 'alert.firing', project: 'shop', createdAt: '2026-12-08T01:00:00.000Z', payload: { rule: 'error_rate', subject: 'shop/production/web', summary: '31 % of 240 requests answered 5xx in the last 60 s (rule: over 5 %)', explain: 'slipway requests web --project shop --env production --errors', startedAt: '2026-12-08T01:00:00.000Z' } });
  assert.equal(firing, ':rotating_light: alert error_rate firing on shop/production/web: 31 % of 240 requests answered 5xx in the last 60 s (rule: over 5 %) (slipway requests web --project shop --env production --errors)');
  const resolved = slackText({ seq: 2, eventId: 'f', type: 'alert.resolved', project: 'shop', createdAt: '2026-12-08T01:10:00.000Z', payload: { rule: 'error_rate', subject: 'shop/production/web', summary: '0 % of 200 requests answered 5xx', startedAt: '2026-12-08T01:00:00.000Z' } });
  assert.match(resolved, /^:white_check_mark: alert error_rate resolved on shop\/production\/web \(since 2026-12-08T01:00:00.000Z\)/);
});
