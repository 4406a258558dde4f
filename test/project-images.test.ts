/**
 * Issue 18, finding 4: a token restricted to one project deploys only images Slipway built
 * for that project, or images an admin allowed (`slipway images allow`); an unrestricted
 * token may still deploy any image on the host. Uploaded build contexts are kept per
 * project: another project neither sees a hash nor deploys from it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SlipwayClient } from '../src/client/api-client';
import { uploadBuildContexts } from '../src/client/upload-contexts';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';
import { refusal } from './support/refusal';

const cp = await ControlPlaneProcess.create('project-images');
const shop = new TestProject('pimg-shop');
const blog = new TestProject('pimg-blog');
const slipway = cliFor(cp, blog.dir);
/** The image Slipway built for shop (tagged per release by the deploy). */
const SHOP_IMAGE = 'slipway/pimg-shop-web:production-v1';
const variant = { version: 'one', replicas: 1 };

let blogClient: SlipwayClient;
let blogToken: string;
let unrestricted: SlipwayClient;
let shopArchive: string;

/** blog's slipway.yml with a prebuilt image instead of its build. */
const blogWithImage = (image: string) => blog.configText(variant).replace(/^ {4}build: \.$/m, `    image: ${image}`);

async function deploymentCount(project: string): Promise<number> {
  return (await cp.client.deployments(project, { limit: 200 })).deployments.length;
}

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
  // shop's context differs from blog's (the same bytes uploaded by both would be two copies, one each).
  writeFileSync(path.join(shop.dir, 'shop-only.txt'), 'shop\n');
  const shopDeploy = shop.write(variant);
  shopArchive = (await uploadBuildContexts(cp.client, shopDeploy)).web!.sha256;
  const first = await deployAndWait(cp.client, shopDeploy);
  assert.equal(first.state, 'succeeded', await deploymentLog(cp.client, first.id));
  const second = await deployAndWait(cp.client, blog.write(variant));
  assert.equal(second.state, 'succeeded', await deploymentLog(cp.client, second.id));
  const url = `http://127.0.0.1:${cp.apiPort}`;
  blogToken = (await cp.client.createToken({ name: 'blog-ci', scope: 'deploy', project: 'pimg-blog' })).token;
  blogClient = new SlipwayClient({ url, token: blogToken });
  unrestricted = new SlipwayClient({ url, token: (await cp.client.createToken({ name: 'ops', scope: 'deploy' })).token });
});
after(async () => {
  await cp.destroy();
});

test("a blog token cannot deploy shop's image, neither as image: in slipway.yml nor with redeploy --image; nothing is recorded", async () => {
  const before = await deploymentCount('pimg-blog');
  const viaConfig = await refusal(blogClient.deploy({ config: blogWithImage(SHOP_IMAGE) }));
  assert.equal(viaConfig.status, 403);
  assert.equal(viaConfig.code, 'SLW_FORBIDDEN');
  assert.match(viaConfig.message, /^services\.web\.image: image "slipway\/pimg-shop-web:production-v1" was not built for project "pimg-blog" nor allowed by an admin; an admin can allow it with "slipway images allow slipway\/pimg-shop-web:production-v1"/);
  assert.deepEqual(viaConfig.details.map((d) => d.path), ['services.web.image']);

  const viaFlag = await refusal(blogClient.deploy({ config: blog.configText(variant), image: SHOP_IMAGE }));
  assert.equal(viaFlag.status, 403);

  const viaRedeploy = await refusal(blogClient.redeploy('pimg-blog', 'web', { image: SHOP_IMAGE }));
  assert.equal(viaRedeploy.status, 403);
  assert.equal(viaRedeploy.code, 'SLW_FORBIDDEN');
  assert.match(viaRedeploy.message, /^image: image "slipway\/pimg-shop-web:production-v1" was not built for project "pimg-blog" nor allowed by an admin/);
  assert.deepEqual(viaRedeploy.details.map((d) => d.path), ['image']);
  // The same image by its ID, or by another of its tags, is the same image.
  const shopDigest = (await cp.client.releases('pimg-shop', 'web')).releases[0]!.imageDigest;
  assert.equal((await refusal(blogClient.redeploy('pimg-blog', 'web', { image: shopDigest }))).status, 403);
  assert.equal(await deploymentCount('pimg-blog'), before, 'no deployment recorded');

  // The CLI shows the refusal and the way out.
  const cli = await cliFor(cp, blog.dir, blogToken)('redeploy', 'web', '--image', SHOP_IMAGE);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /not built for project "pimg-blog" nor allowed by an admin.*slipway images allow/);

  // run reaches only the token's own project: shop's live release is out of reach.
  const run = await refusal((async () => {
    for await (const _ of blogClient.run('pimg-shop', 'web', { argv: ['cat', '/app/server.js'] })) void _;
  })());
  assert.equal(run.status, 403);
});

test('a blog token deploys images built for blog: its own tagged image, and a plain redeploy', async () => {
  const own = await blogClient.redeploy('pimg-blog', 'web', { image: 'slipway/pimg-blog-web:production-v1' });
  assert.equal((await waitDeployment(blogClient, own.deployment.id)).state, 'succeeded', await deploymentLog(cp.client, own.deployment.id));
  const again = await blogClient.redeploy('pimg-blog', 'web', {});
  assert.equal((await waitDeployment(blogClient, again.deployment.id)).state, 'succeeded');
});

test("build contexts are per project: blog neither sees shop's archive nor deploys from its hash", async () => {
  assert.ok(await cp.client.source('pimg-shop', shopArchive), 'shop has it');
  assert.equal(await blogClient.source('pimg-blog', shopArchive), null, 'existence is not disclosed to blog');
  assert.equal((await refusal(blogClient.source('pimg-shop', shopArchive))).status, 403);
  const before = await deploymentCount('pimg-blog');
  const deploy = await refusal(blogClient.deploy({ config: blog.configText(variant), sources: { web: { sha256: shopArchive } } }));
  assert.equal(deploy.status, 404);
  assert.match(deploy.message, /was not uploaded for project pimg-blog/);
  assert.deepEqual(deploy.details.map((d) => d.path), ['sources.web.sha256']);
  // Not even an unrestricted token can take shop's upload into blog.
  assert.equal((await refusal(unrestricted.deploy({ config: blog.configText(variant), sources: { web: { sha256: shopArchive } } }))).status, 404);
  assert.equal(await deploymentCount('pimg-blog'), before);
});

test('after an admin allows the image (slipway images allow), the blog token can deploy it; disallowing refuses it again', async () => {
  // Only an admin changes the list.
  assert.equal((await refusal(blogClient.allowImages([SHOP_IMAGE]))).status, 403);
  const bad = await refusal(cp.client.allowImages(['nginx latest']));
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.details.map((d) => d.path), ['images.0']);

  const allow = await slipway('images', 'allow', 'slipway/pimg-shop-web:*');
  assert.equal(allow.code, 0, allow.stderr);
  assert.match(allow.stdout, /allowed slipway\/pimg-shop-web:\*/);
  const listed = await slipway('--json', 'images', 'allowed');
  assert.deepEqual(JSON.parse(listed.stdout), ['slipway/pimg-shop-web:*']);
  assert.deepEqual((await blogClient.allowedImages()).allowed, ['slipway/pimg-shop-web:*'], 'a project token may read what it can deploy');

  const disallow = await slipway('images', 'disallow', 'slipway/pimg-shop-web:*');
  assert.equal(disallow.code, 0, disallow.stderr);
  assert.deepEqual((await cp.client.allowedImages()).allowed, []);
  assert.equal((await refusal(blogClient.redeploy('pimg-blog', 'web', { image: SHOP_IMAGE }))).status, 403, 'refused again once disallowed');

  assert.deepEqual((await cp.client.allowImages(['slipway/pimg-shop-web:*'])).changed, ['slipway/pimg-shop-web:*']);
  const redeploy = await blogClient.redeploy('pimg-blog', 'web', { image: SHOP_IMAGE });
  assert.equal((await waitDeployment(blogClient, redeploy.deployment.id)).state, 'succeeded', await deploymentLog(cp.client, redeploy.deployment.id));
  const r = await getWithHost(cp.httpPort, blog.domain);
  assert.equal(r.status, 200, r.body);
  const { deployments } = await blogClient.deploy({ config: blogWithImage(SHOP_IMAGE) });
  assert.equal((await waitDeployment(blogClient, deployments[0]!.id)).state, 'succeeded', await deploymentLog(cp.client, deployments[0]!.id));
  assert.deepEqual((await cp.client.disallowImage('slipway/pimg-shop-web:*')).changed, ['slipway/pimg-shop-web:*']);
});

test('an unrestricted deploy token keeps deploying any image on the host', async () => {
  assert.deepEqual((await cp.client.allowedImages()).allowed, []);
  const d = await unrestricted.redeploy('pimg-shop', 'web', { image: 'slipway/pimg-blog-web:production-v1' });
  assert.equal((await waitDeployment(unrestricted, d.deployment.id)).state, 'succeeded', await deploymentLog(cp.client, d.deployment.id));
});
