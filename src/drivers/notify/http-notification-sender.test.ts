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
