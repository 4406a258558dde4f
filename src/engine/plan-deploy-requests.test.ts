import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDeployRequests, type DeployInput } from './plan-deploy-requests';

const YML = `project: shop
services:
  web:
    build: { context: . }
    port: 3000
    release: { build: { context: migrations }, command: [node, migrate.js] }
  worker:
    build: { context: . }
    command: [node, worker.js]
  cache-warmer:
    image: shop/warmer:1
    command: [node, warm.js]
`;
const SHA = 'a'.repeat(64);
const input = (over: Partial<DeployInput> = {}): DeployInput => ({ config: YML, env: 'production', sources: {}, allowDestructive: false, triggeredBy: 'alice', unrestricted: true, ...over });
const errorOf = (over: Partial<DeployInput>) => {
  try {
    planDeployRequests(input(over));
  } catch (err) {
    return err as Error & { code?: string; details?: Array<{ path: string; message: string }> };
  }
  assert.fail('expected a refusal');
};

test('one request per service asked for (default: all), each with its build source; prebuilt images build nothing', () => {
  const { names, requests } = planDeployRequests(input({ sources: { web: { sha256: SHA, commit: null }, 'web:release': { sha256: SHA, commit: null }, worker: { sha256: SHA, commit: null } } }));
  assert.deepEqual(names, ['web', 'worker', 'cache-warmer']);
  assert.deepEqual(requests.map((r) => [r.service, r.source?.kind ?? null, r.releaseSource?.kind ?? null]), [['web', 'archive', 'archive'], ['worker', 'archive', null], ['cache-warmer', null, null]]);
  assert.deepEqual([requests[0]!.triggeredBy, requests[0]!.unrestricted, requests[0]!.allowDestructive, requests[0]!.env], ['alice', true, false, 'production']);
});

test('a git source builds every built service and its release image from the repository', () => {
  const git = { url: 'https://git.example.com/shop.git', ref: 'main', path: '' };
  const { requests } = planDeployRequests(input({ services: ['web'], git }));
  assert.deepEqual([requests[0]!.source, requests[0]!.releaseSource], [{ kind: 'git', ...git }, { kind: 'git', ...git }]);
});

test('a prebuilt image replaces the selected services\' sources only', () => {
  const { config, requests } = planDeployRequests(input({ services: ['worker'], image: 'shop/worker:9' }));
  assert.deepEqual(config.services.worker!.source, { kind: 'image', ref: 'shop/worker:9' });
  assert.equal(config.services.web!.source.kind, 'build');
  assert.equal(requests[0]!.source, null);
});

test('refusals name what is wrong: unknown services, uploads for no service, release uploads for no release build, an invalid file', () => {
  assert.match(errorOf({ services: ['web', 'nope'] }).message, /service\(s\) nope not defined in slipway\.yml \(defined: web, worker, cache-warmer\)/);
  const stray = errorOf({ sources: { api: { sha256: SHA, commit: null } } });
  assert.deepEqual([stray.code, stray.details], ['SLW_BAD_REQUEST', [{ path: 'sources.api', message: 'no such service' }]]);
  const release = errorOf({ sources: { 'worker:release': { sha256: SHA, commit: null } } });
  assert.deepEqual(release.details, [{ path: 'sources.worker:release', message: 'services.worker.release has no build' }]);
  const invalid = errorOf({ config: 'project: shop\nservices:\n  web: { port: 3000 }\n' });
  assert.equal(invalid.code, 'SLW_CONFIG_INVALID');
  assert.match(invalid.message, /^slipway\.yml is invalid:\n/);
});
