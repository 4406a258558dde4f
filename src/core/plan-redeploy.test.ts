import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Release } from './domain';
import type { ServiceConfig } from './config';
import { planRedeploy } from './plan-redeploy';

const base: Release = {
  id: 7,
  serviceId: 1,
  environmentId: 2,
  number: 4,
  imageRef: 'slipway/shop-web:src-abc',
  imageDigest: 'sha256:aaaa',
  config: {} as ServiceConfig,
  sourceRef: 'git:0123456789abcdef0123456789abcdef01234567',
  secretsVersion: 3,
  createdAt: '2025-01-01T00:00:00.000Z',
};

test('no image: the live image again, never held for approval', () => {
  for (const approval of ['none', 'required'] as const) {
    assert.deepEqual(planRedeploy(base, null, approval), {
      image: { ref: base.imageRef, digest: base.imageDigest, sourceRef: base.sourceRef },
      changesImage: false,
      needsApproval: false,
    });
  }
});

test('another image: its reference and digest, no known source; approval as the environment says', () => {
  const other = { ref: 'shop-web:1.5', digest: 'sha256:bbbb' };
  assert.deepEqual(planRedeploy(base, other, 'none'), { image: { ...other, sourceRef: null }, changesImage: true, needsApproval: false });
  assert.deepEqual(planRedeploy(base, other, 'required'), { image: { ...other, sourceRef: null }, changesImage: true, needsApproval: true });
});

test('an image named differently but with the live digest is the same image: no approval, source kept', () => {
  const alias = { ref: 'shop-web:production-v4', digest: base.imageDigest };
  assert.deepEqual(planRedeploy(base, alias, 'required'), { image: { ...alias, sourceRef: base.sourceRef }, changesImage: false, needsApproval: false });
});
