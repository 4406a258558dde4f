/**
 * A built-in accessory image built on first use by a deploy, against a real control plane,
 * Docker and HAProxy. The shared `slipway/*` images are built before the lane (other files run
 * on them side by side and are never touched), so this control plane runs with
 * SLIPWAY_ACCESSORY_IMAGE_PREFIX set to a repository of its own: its `kind: redis` accessory (the
 * cheapest image) is missing there, so the deploy builds it, the build's lines streamed into the
 * deployment log, then starts and waits for the accessory with it; the next deploy reuses it
 * without building. The image tagged here is removed afterwards (an untag only, when Docker's
 * layer cache made it the same image as `slipway/redis:7`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import type { AccessoryView } from '../src/core/contract/views';
import { RECIPE_LABEL, accessoryRecipe } from '../src/drivers/docker/accessory-recipes';
import { ensureAccessoryImage } from './support/accessory-image';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const docker = new Docker();
const prefix = `slipway-test-firstuse-${randomBytes(3).toString('hex')}`;
const ref = `${prefix}/redis:7`;
const cp = await ControlPlaneProcess.create('firstuse');
const app = new TestProject('firstuse');
const variant = (version: string) => ({ version, replicas: 1, accessories: { cache: { kind: 'redis' } }, service: { uses: ['cache'] } });

// The Debian base the recipe starts FROM (and slipway/redis:7): built once before the lane; here only when missing.
before(() => ensureAccessoryImage('redis', '7'), { timeout: 3_600_000 });
before(async () => {
  await cp.start({ SLIPWAY_ACCESSORY_IMAGE_PREFIX: prefix });
  await cp.client.createBaseImage('node');
});
after(async () => {
  await cp.destroy();
  // By tag, never forced: when it is the same image as slipway/redis:7 this only removes the tag.
  await docker.getImage(ref).remove().catch(() => undefined);
  for (const img of await docker.listImages({ filters: { reference: ['slipway/firstuse-web'] } })) await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
});

test('a deploy builds the missing built-in redis image on first use, its build streamed into the deployment log, and the accessory runs it', { timeout: 1_800_000 }, async () => {
  assert.equal(await docker.getImage(ref).inspect().then(() => true, () => false), false, `${ref} must be missing before the deploy`);

  const d = await deployAndWait(cp.client, app.write(variant('one')));
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'succeeded', log);
  // The build, from the driver's first line to its last, inside the accessories step of this deployment.
  const lines = log.split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const start = at(new RegExp(`^accessory cache: building ${ref} from Debian bookworm packages$`));
  const built = at(new RegExp(`^accessory cache: built ${ref} in [\\d.]+ s$`));
  assert.ok(start >= 0 && built > start, log);
  assert.ok(at(/^▶ accessories$/) < start, 'inside the accessories step');
  // Docker's own build output, streamed line by line with the accessory's prefix.
  const buildLines = lines.slice(start + 1, built);
  assert.ok(buildLines.some((l) => /^accessory cache: Step 1\/\d+ : FROM slipway\/debian:bookworm$/.test(l)), log);
  assert.ok(buildLines.some((l) => /^accessory cache: Step \d+\/\d+ : RUN set -eux; groupadd --system --gid 999 redis/.test(l)), log);
  assert.ok(buildLines.some((l) => l === `accessory cache: Successfully tagged ${ref}`), log);
  assert.ok(buildLines.length >= 10, `the build's lines, not a summary:\n${buildLines.join('\n')}`);
  assert.match(log, /^accessory cache: credentials generated \(version 1\)$/m);
  assert.match(log, new RegExp(`^accessory cache: started ${ref}; ready$`, 'm'));
  assert.ok(at(/^accessory cache: started/) > built && at(/started firstuse-web-/) > built, 'started, and the service after it, once the image is built');

  const image = await docker.getImage(ref).inspect();
  assert.equal(image.Config.Labels?.[RECIPE_LABEL], accessoryRecipe('redis', '7').hash, 'the current recipe');
  const containers = await docker.listContainers({ filters: { label: ['slipway.accessory.project=firstuse', 'slipway.accessory.name=cache'] } });
  assert.equal(containers.length, 1);
  assert.equal(containers[0]!.ImageID, image.Id, 'the accessory runs the image built here');

  const cli = cliFor(cp, app.dir);
  const listed = await cli('accessories', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  const [cache] = JSON.parse(listed.stdout) as AccessoryView[];
  assert.equal(cache?.image, ref, 'shown under the tag it runs');
  assert.equal(cache?.ready, true);
  // The service reaches it with the URL it was handed.
  const ping = await cli('run', 'web', '--', 'node', '-e', 'const u=new URL(process.env.REDIS_URL);require("net").connect(+u.port,u.hostname).on("connect",function(){this.write(`AUTH ${decodeURIComponent(u.password)}\\r\\nPING\\r\\n`)}).on("data",(b)=>{if(/PONG/.test(String(b))){console.log("redis answered PONG");process.exit(0)}}).on("error",(e)=>{console.error(e.message);process.exit(1)})');
  assert.equal(ping.code, 0, ping.stderr);
  assert.match(ping.stdout, /redis answered PONG/);

  // Present now: the next deploy reuses it, building nothing, and leaves the accessory running.
  const again = await deployAndWait(cp.client, app.write(variant('two')));
  const againLog = await deploymentLog(cp.client, again.id);
  assert.equal(again.state, 'succeeded', againLog);
  assert.doesNotMatch(againLog, /accessory cache: (building|built|Step \d)/);
  assert.match(againLog, /^accessory cache: running, unchanged, ready$/m);
});
