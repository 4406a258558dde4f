import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SlipwayError } from '../core/errors';
import { formatErrors, parseProjectConfig } from '../core/parse-config';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forcePushAllowed, genericSigningInput, parsePush, verifyGeneric, verifyGithub, Webhooks } from './webhooks';
import type { DeployEngine, DeployRequest } from './deploy-engine';
import type { EngineContext } from './engine-context';

const secret = 'a'.repeat(64);
const body = Buffer.from(JSON.stringify({ ref: 'main', commit: 'c'.repeat(40) }));
const now = 1_750_000_000_000;
const ts = String(now / 1000);
const sign = (input: string | Buffer) => `sha256=${createHmac('sha256', secret).update(input).digest('hex')}`;
const generic = (over: Record<string, string> = {}, signWith = { ts, id: 'd-1' }) => ({
  'x-slipway-signature': sign(genericSigningInput(signWith.ts, signWith.id, body)),
  'x-slipway-timestamp': ts,
  'x-slipway-delivery': 'd-1',
  ...over,
});
const refused = (re: RegExp) => (err: unknown) => err instanceof SlipwayError && err.code === 'SLW_UNAUTHORIZED' && re.test(err.message);

test('the generic form signs "<timestamp>.<delivery id>.<body>"', () => {
  assert.equal(genericSigningInput(ts, 'd-1', body).toString(), `${ts}.d-1.${body.toString()}`);
  const ok = verifyGeneric(secret, generic(), body, now);
  assert.equal(ok.deliveryId, 'slipway:d-1');
  assert.match(ok.signedSha256, /^[0-9a-f]{64}$/);
});

test('the generic form refuses a changed delivery id or timestamp, the old body-only scheme, and malformed headers', () => {
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-delivery': 'd-2' }), body, now), refused(/does not match "<X-Slipway-Timestamp>\.<X-Slipway-Delivery>\.<body>"/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-timestamp': String(Number(ts) - 1) }), body, now), refused(/does not match/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-signature': sign(`${ts}.${body.toString()}`) }), body, now), refused(/does not match/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-delivery': '' }), body, now), refused(/X-Slipway-Delivery must be a unique id/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-delivery': 'a.b' }), body, now), refused(/X-Slipway-Delivery/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-timestamp': `${ts}.0` }), body, now), refused(/X-Slipway-Timestamp must be/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-timestamp': '1e9' }), body, now), refused(/X-Slipway-Timestamp must be/));
  assert.throws(() => verifyGeneric(secret, generic(), body, now + 6 * 60 * 1000), refused(/5 minutes off/));
});

test('two deliveries of the same generic body hash differently; GitHub hashes the body', () => {
  const a = verifyGeneric(secret, generic(), body, now);
  const b = verifyGeneric(secret, generic({ 'x-slipway-delivery': 'd-2' }, { ts, id: 'd-2' }), body, now);
  assert.notEqual(a.signedSha256, b.signedSha256);
  const gh = (id: string) => verifyGithub(secret, { 'x-hub-signature-256': sign(body), 'x-github-delivery': id }, body);
  assert.equal(gh('1').signedSha256, gh('2').signedSha256, 'GitHub does not sign the delivery id: the same body is the same push');
});

test('a push: forced is read and must be a boolean; the body must be an object', () => {
  const push = (o: unknown, github = true) => parsePush(Buffer.from(JSON.stringify(o)), github);
  assert.equal(push({ ref: 'refs/heads/main', after: 'c'.repeat(40), forced: true }).forced, true);
  assert.equal(push({ ref: 'refs/heads/main', after: 'c'.repeat(40) }).forced, false);
  assert.throws(() => push({ ref: 'main', commit: 'c'.repeat(40), forced: 'yes' }, false), (e: unknown) => e instanceof SlipwayError && e.code === 'SLW_BAD_REQUEST' && e.details?.[0]?.path === 'forced');
  assert.throws(() => push(null), (e: unknown) => e instanceof SlipwayError && e.code === 'SLW_BAD_REQUEST');
});

test('allow_force_push: true, or a list of branches', () => {
  assert.equal(forcePushAllowed(true, 'main'), true);
  assert.equal(forcePushAllowed(false, 'main'), false);
  assert.equal(forcePushAllowed(['staging'], 'main'), false);
  assert.equal(forcePushAllowed(['staging', 'main'], 'main'), true);
});

test('slipway.yml webhooks.allow_force_push: boolean or branch list, validated with the field named', () => {
  const file = (policy: string) => `project: shop\n${policy}\nservices:\n  web:\n    image: shop:1\n    port: 3000\n`;
  const ok = (policy: string) => {
    const r = parseProjectConfig(file(policy));
    assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
    return r.config.allowForcePush;
  };
  assert.equal(ok(''), false);
  assert.equal(ok('webhooks: { allow_force_push: true }'), true);
  assert.deepEqual(ok('webhooks: { allow_force_push: [main, release/1] }'), ['main', 'release/1']);
  for (const bad of ['webhooks: { allow_force_push: "yes" }', 'webhooks: { allow_force_push: ["a b"] }', 'webhooks: { allow_forcepush: true }']) {
    const r = parseProjectConfig(file(bad));
    assert.equal(r.ok, false, bad);
    assert.match(r.ok ? '' : formatErrors(r.errors), /webhooks/, bad);
  }
});

// ---- Webhooks.receive on fake ports: which ref deploys what, where, recorded how ----

/** A repository: commits (slipway.yml text, parent) and annotated tag objects (→ commit). */
interface FakeRepo {
  commits: Map<string, { yml: string; parent: string | null }>;
  tagObjects: Map<string, string>;
}
const sha = (c: string) => c.repeat(40);

function fakeWebhooks(repo: FakeRepo, live: { env: string; commit: string }[] = []) {
  const deployed: DeployRequest[] = [];
  const pushes = new Set<string>();
  const envs = ['staging', 'production', 'preview-rc'];
  const store = {
    getWebhook: async (project: string) => ({ project, repository: 'file:///repo.git', path: '', keyId: 'k', sealed: 's', createdBy: 'test', createdAt: '' }),
    pruneWebhookDeliveries: async () => 0,
    recordDelivery: async () => true,
    recordWebhookPush: async (p: { ref: string; commit: string; bodySha256: string }) => !pushes.has(p.bodySha256) && !!pushes.add(p.bodySha256),
    getProject: async (name: string) => ({ id: 1, name, createdAt: '' }),
    getEnvironment: async (_p: number, name: string) => (envs.includes(name) ? { id: envs.indexOf(name) + 1, projectId: 1, name } : null),
    listServices: async () => [{ id: 7, projectId: 1, name: 'web', type: 'web' }],
    listCurrentReleases: async (environmentId: number) =>
      live.filter((l) => envs.indexOf(l.env) + 1 === environmentId).map((l) => ({ serviceId: 7, environmentId, sourceRef: `git:${l.commit}` })),
  };
  const peel = (ref: string) => repo.tagObjects.get(ref) ?? ref;
  const git = {
    checkout: async (_url: string, ref: string, dir: string) => {
      const commit = peel(ref);
      const c = repo.commits.get(commit);
      if (!c) throw new SlipwayError('SLW_BUILD_FAILED', `no commit ${ref}`);
      writeFileSync(path.join(dir, 'slipway.yml'), c.yml);
      return { commit };
    },
    isAncestor: async (_url: string, ancestor: string, descendant: string) => {
      for (let at: string | null = descendant; at; at = repo.commits.get(at)?.parent ?? null) if (at === ancestor) return true;
      return false;
    },
  };
  const sources = {
    withScratchDir: async <T>(fn: (dir: string) => Promise<T>): Promise<T> => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-webhook-test-'));
      try {
        return await fn(dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  const ctx = { store, git, sources, cipher: { open: () => secret } } as unknown as EngineContext;
  const engine = { deployAll: async (reqs: DeployRequest[]) => reqs.map((r, i) => (deployed.push(r), { id: `d-${deployed.length}-${i}` })) } as unknown as DeployEngine;
  const hooks = new Webhooks(ctx, engine);
  let n = 0;
  const receive = (payload: Record<string, unknown>) => {
    const raw = Buffer.from(JSON.stringify({ ...payload, n: n++ }));
    return hooks.receive('shop', { 'x-hub-signature-256': sign(raw), 'x-github-delivery': `g-${n}`, 'x-github-event': 'push' }, raw);
  };
  return { deployed, receive };
}

const shopYml = (triggers: string) => `project: shop\n${triggers}\nservices:\n  web:\n    build: { context: . }\n    port: 3000\n`;
const TRIGGERS = 'branches: { main: staging, "release/*": production, "release/1.2": staging }\ntags: { "v*": production, "v*-rc*": staging }';

test('a push to a branch matching a pattern deploys that commit to the pattern\'s environment; an exact name wins', async () => {
  const repo: FakeRepo = { commits: new Map([[sha('a'), { yml: shopYml(TRIGGERS), parent: null }]]), tagObjects: new Map() };
  const { deployed, receive } = fakeWebhooks(repo);
  const out = await receive({ ref: 'refs/heads/release/1.3', after: sha('a') });
  assert.equal(out.status, 'deploying');
  assert.deepEqual({ env: out.env, branch: out.branch, ref: out.ref, matched: out.matched, commit: out.commit }, { env: 'production', branch: 'release/1.3', ref: 'refs/heads/release/1.3', matched: 'release/*', commit: sha('a') });
  assert.match(out.message, /deploying aaaaaaa of release\/1\.3 to production \(branches: "release\/\*"\)/);
  const req = deployed.at(-1)!;
  assert.equal(req.env, 'production');
  assert.deepEqual(req.source, { kind: 'git', url: 'file:///repo.git', ref: sha('a'), path: '' });
  assert.deepEqual(req.gitTrigger, { ref: 'refs/heads/release/1.3', commit: sha('a') });
  assert.equal(req.triggeredBy, 'webhook:shop (push release/1.3 aaaaaaa)');

  const exact = await receive({ ref: 'refs/heads/release/1.2', after: sha('a') });
  assert.equal(exact.env, 'staging', 'the exact name beats release/*');
  assert.equal(exact.matched, 'release/1.2');
  assert.doesNotMatch(exact.message, /branches:/);

  const deeper = await receive({ ref: 'refs/heads/release/1.3/hotfix', after: sha('a') });
  assert.equal(deeper.status, 'ignored', '* does not cross "/"');
  assert.match(deeper.message, /^branch release\/1\.3\/hotfix deploys nowhere \(branches: in slipway\.yml maps main, release\/\*, release\/1\.2\)$/);
  assert.equal(deployed.length, 2);
});

test('a pushed annotated tag deploys the tagged commit (peeled) to the tags: environment, the ref recorded', async () => {
  const repo: FakeRepo = { commits: new Map([[sha('b'), { yml: shopYml(TRIGGERS), parent: null }]]), tagObjects: new Map([[sha('f'), sha('b')]]) };
  const { deployed, receive } = fakeWebhooks(repo);
  // GitHub's "after" for an annotated tag is the tag object.
  const out = await receive({ ref: 'refs/tags/v1.0.0', after: sha('f') });
  assert.equal(out.status, 'deploying', out.message);
  assert.deepEqual({ env: out.env, tag: out.tag, branch: out.branch, ref: out.ref, matched: out.matched, commit: out.commit }, { env: 'production', tag: 'v1.0.0', branch: undefined, ref: 'refs/tags/v1.0.0', matched: 'v*', commit: sha('b') });
  const req = deployed.at(-1)!;
  assert.equal(req.source?.kind === 'git' && req.source.ref, sha('b'), 'the build is pinned to the commit, not the tag object');
  assert.deepEqual(req.gitTrigger, { ref: 'refs/tags/v1.0.0', commit: sha('b') });
  assert.equal(req.triggeredBy, 'webhook:shop (push tag v1.0.0 bbbbbbb)');

  const rc = await receive({ ref: 'refs/tags/v1.1.0-rc1', after: sha('b') });
  assert.equal(rc.env, 'staging', 'v*-rc* has more literal characters than v*');
  const ignored = await receive({ ref: 'refs/tags/release-7', after: sha('b') });
  assert.equal(ignored.status, 'ignored');
  assert.equal(ignored.message, 'tag release-7 deploys nowhere (tags: in slipway.yml maps v*, v*-rc*)');
  const deleted = await receive({ ref: 'refs/tags/v1.0.0', after: '0'.repeat(40) });
  assert.deepEqual([deleted.status, deleted.message], ['ignored', 'tag v1.0.0 was deleted']);
  const other = await receive({ ref: 'refs/pull/3/head', after: sha('b') });
  assert.deepEqual([other.status, other.message], ['ignored', 'refs/pull/3/head is not a branch or a tag']);
  assert.equal(deployed.length, 2);
});

test('a tag of a commit older than the live one is refused unless the live slipway.yml allows it, forced or not', async () => {
  const allowing = shopYml(`${TRIGGERS}\nwebhooks: { allow_force_push: ["refs/tags/v1.*"] }`);
  // old ← live (production runs "live"); "old" is tagged after the fact.
  const repo: FakeRepo = {
    commits: new Map([
      [sha('1'), { yml: shopYml(TRIGGERS), parent: null }],
      [sha('2'), { yml: shopYml(TRIGGERS), parent: sha('1') }],
      [sha('3'), { yml: allowing, parent: sha('2') }],
    ]),
    tagObjects: new Map(),
  };
  const strict = fakeWebhooks(repo, [{ env: 'production', commit: sha('2') }]);
  for (const forced of [false, true]) {
    await assert.rejects(strict.receive({ ref: 'refs/tags/v0.9', after: sha('1'), forced }), (e: unknown) =>
      e instanceof SlipwayError && e.code === 'SLW_CONFLICT' && /^push of 1111111 \(tag v0\.9\) refused: the tagged commit does not descend from 2222222, live in production, and slipway\.yml at 2222222 does not allow tags of older commits/.test(e.message),
    );
  }
  const newer = await strict.receive({ ref: 'refs/tags/v1.0', after: sha('3') });
  assert.equal(newer.status, 'deploying', 'a tag of a descendant needs no permission');
  assert.equal(strict.deployed.length, 1);

  // Production runs "3", whose slipway.yml allows refs/tags/v1.*: an older v1.x tag deploys, a v0.x one does not.
  const lenient = fakeWebhooks(repo, [{ env: 'production', commit: sha('3') }]);
  const back = await lenient.receive({ ref: 'refs/tags/v1.0.1', after: sha('1') });
  assert.equal(back.status, 'deploying');
  assert.match(back.message, /\(a tag of a commit older than 3333333, allowed by webhooks\.allow_force_push\)$/);
  assert.deepEqual(lenient.deployed.at(-1)!.gitTrigger, { ref: 'refs/tags/v1.0.1', commit: sha('1') });
  await assert.rejects(lenient.receive({ ref: 'refs/tags/v0.8', after: sha('1') }), /does not allow tags of older commits/);
  // The branch rule is unchanged: an older commit on a branch needs forced + the policy (refs/tags/… entries do not cover branches).
  await assert.rejects(lenient.receive({ ref: 'refs/heads/release/9', after: sha('1'), forced: true }), /forced push of 1111111 \(release\/9\) refused: .*does not allow forced pushes of release\/9/);
});
