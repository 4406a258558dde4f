/**
 * Issue 18, the gap left by finding 4: a build for a token restricted to one project reads
 * only images that token could deploy. A Dockerfile that says `FROM` (or `COPY --from=`)
 * another project's image is refused (403 naming build.dockerfile and the line) before
 * anything is built; Slipway's base images are always allowed; an image the admin allowed
 * (`slipway images allow`) builds; an unrestricted token keeps building from any image.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { SlipwayClient } from '../src/client/api-client';
import { deployDirectory } from '../src/client/upload-contexts';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';
import { refusal } from './support/refusal';

const cp = await ControlPlaneProcess.create('project-build-from');
const shop = new TestProject('pbf-shop');
const blog = new TestProject('pbf-blog');
/** The image Slipway built for shop (tagged per release by the deploy). */
const SHOP_IMAGE = 'slipway/pbf-shop-web:production-v1';
const variant = { version: 'one', replicas: 1 };
const docker = new Docker();

let blogClient: SlipwayClient;
let blogToken: string;

/** Replaces blog's Dockerfile and returns what deployDirectory needs. */
function blogWith(dockerfile: string) {
  writeFileSync(path.join(blog.dir, 'Dockerfile'), dockerfile);
  return blog.write(variant);
}

/** Images tagged for blog's web service: what a build for blog leaves behind. */
async function blogImages(): Promise<string[]> {
  const images = await docker.listImages({ filters: JSON.stringify({ reference: ['slipway/pbf-blog-web'] }) });
  return images.flatMap((i) => i.RepoTags ?? []).sort();
}

const FROM_SHOP = `FROM ${SHOP_IMAGE}\nCOPY package.json server.js worker.js /app/\n`;
const COPY_FROM_SHOP = [
  'ARG BASE=slipway/node:20',
  'FROM ${BASE}',
  'WORKDIR /app',
  `COPY --from=${SHOP_IMAGE} /app/ /app/`,
  'USER node',
  'ENV PORT=3000',
  'CMD ["node", "/app/server.js"]',
  '',
].join('\n');

/** Images an earlier run left (the control plane removes containers, not images): "nothing built" must mean this run. */
async function removeImages(repository: string): Promise<void> {
  const images = await docker.listImages({ filters: JSON.stringify({ reference: [repository] }) });
  for (const tag of images.flatMap((i) => i.RepoTags ?? [])) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
}

before(async () => {
  await removeImages('slipway/pbf-blog-web');
  await removeImages('slipway/pbf-shop-web');
  await cp.start();
  await cp.client.createBaseImage('node');
  writeFileSync(path.join(shop.dir, 'shop-only.txt'), 'shop secret\n');
  const first = await deployAndWait(cp.client, shop.write(variant));
  assert.equal(first.state, 'succeeded', await deploymentLog(cp.client, first.id));
  const url = `http://127.0.0.1:${cp.apiPort}`;
  blogToken = (await cp.client.createToken({ name: 'blog-ci', scope: 'deploy', project: 'pbf-blog' })).token;
  blogClient = new SlipwayClient({ url, token: blogToken });
});
after(async () => {
  await cp.destroy();
  await removeImages('slipway/pbf-blog-web');
  await removeImages('slipway/pbf-shop-web');
});

test("a blog token's Dockerfile cannot FROM or COPY --from shop's image: 403 naming build.dockerfile and the line, nothing built", async () => {
  const from = await refusal(deployDirectory(blogClient, blogWith(FROM_SHOP)));
  assert.equal(from.status, 403);
  assert.equal(from.code, 'SLW_FORBIDDEN');
  assert.match(from.message, /^services\.web\.build\.dockerfile: line 1: FROM "slipway\/pbf-shop-web:production-v1": image "slipway\/pbf-shop-web:production-v1" was not built for project "pbf-blog" nor allowed by an admin; .*slipway images allow slipway\/pbf-shop-web:production-v1/);
  assert.deepEqual(from.details.map((d) => d.path), ['services.web.build.dockerfile']);

  const copy = await refusal(deployDirectory(blogClient, blogWith(COPY_FROM_SHOP)));
  assert.equal(copy.status, 403);
  assert.match(copy.message, /^services\.web\.build\.dockerfile: line 4: COPY --from "slipway\/pbf-shop-web:production-v1"/);

  // A build arg cannot point an allowed default elsewhere either.
  const viaArg = await refusal(deployDirectory(blogClient, { ...blogWith('ARG BASE=slipway/node:20\nFROM ${BASE}\n'), config: blog.configText({ ...variant, service: { build: { context: '.', args: { BASE: SHOP_IMAGE } } } }) }));
  assert.equal(viaArg.status, 403);
  assert.match(viaArg.message, /line 2: FROM "slipway\/pbf-shop-web:production-v1"/);

  assert.equal((await refusal(cp.client.deployments('pbf-blog', { limit: 1 }))).status, 404, 'no deployment recorded: blog does not even exist');
  assert.deepEqual(await blogImages(), [], 'nothing built');

  // The CLI shows the refusal and the way out.
  blogWith(FROM_SHOP);
  const cli = await cliFor(cp, blog.dir, blogToken)('deploy');
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /build\.dockerfile: line 1: FROM .*not built for project "pbf-blog" nor allowed by an admin/);
});

test('a blog token builds FROM Slipway base image (the usual Dockerfile)', async () => {
  const usual = blogWith(
    'ARG BASE=slipway/node:20\nFROM ${BASE} AS app\nWORKDIR /app\nCOPY package.json server.js worker.js /app/\nFROM app\nUSER node\nENV PORT=3000\nCMD ["node", "/app/server.js"]\n',
  );
  const d = await deployAndWait(blogClient, usual);
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  assert.equal((await getWithHost(cp.httpPort, blog.domain)).status, 200);
});

test("after an admin allows shop's image, the blog token builds FROM it; an unrestricted token never needed that", async () => {
  const allow = await cliFor(cp, blog.dir)('images', 'allow', SHOP_IMAGE);
  assert.equal(allow.code, 0, allow.stderr);
  const d = await deployAndWait(blogClient, blogWith(FROM_SHOP));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  assert.match(await deploymentLog(cp.client, d.id), /building slipway\/pbf-blog-web:src-/);
  assert.deepEqual((await cp.client.disallowImage(SHOP_IMAGE)).changed, [SHOP_IMAGE]);
  assert.equal((await refusal(deployDirectory(blogClient, blogWith(FROM_SHOP)))).status, 403, 'refused again once disallowed');

  // The admin's own token is not restricted: COPY --from any image builds, as before.
  const admin = await deployDirectory(cp.client, blogWith(COPY_FROM_SHOP));
  const done = await waitDeployment(cp.client, admin.deployments[0]!.id);
  assert.equal(done.state, 'succeeded', await deploymentLog(cp.client, done.id));
});
