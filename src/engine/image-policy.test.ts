import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Release } from '../core/domain';
import type { ImageInfo } from '../core/ports/runtime';
import type { Store } from '../core/ports/store';
import { IMAGE_PROJECT_LABEL, ImagePolicy } from './image-policy';

/** The few store calls the policy makes: settings, and one project "shop" with a release of digest sha256:old. */
function fakeStore(): Store {
  const settings = new Map<string, string>();
  return {
    getSetting: async (k: string) => settings.get(k) ?? null,
    setSetting: async (k: string, v: string) => void settings.set(k, v),
    getProject: async (name: string) => (name === 'shop' ? { id: 1, name: 'shop', createdAt: '' } : null),
    listServices: async () => [{ id: 10, projectId: 1, name: 'web', type: 'web' }],
    listEnvironments: async () => [{ id: 20, projectId: 1, name: 'production' }],
    listReleases: async () => [{ imageDigest: 'sha256:old' } as Release],
  } as unknown as Store;
}

const image = (id: string, tags: string[], labels: Record<string, string> = {}): ImageInfo => ({ id, tags, repoDigests: [], sizeBytes: 1, labels });

test('allow normalizes and deduplicates; disallow takes the entry as given or as listed; bad entries name their index', async () => {
  const policy = new ImagePolicy({ store: fakeStore() });
  assert.deepEqual(await policy.allowed(), []);
  assert.deepEqual(await policy.allow(['docker.io/library/nginx', 'nginx:latest', 'redis:*']), { allowed: ['nginx:latest', 'redis:*'], changed: ['nginx:latest', 'redis:*'] });
  assert.deepEqual((await policy.allow(['nginx'])).changed, []);
  await assert.rejects(policy.allow(['ok:1', 'bad ref']), (err: { code: string; details: Array<{ path: string; message: string }> }) => {
    assert.equal(err.code, 'SLW_BAD_REQUEST');
    assert.equal(err.details[0]!.path, 'images.1');
    assert.match(err.details[0]!.message, /must be an image reference/);
    return true;
  });
  assert.deepEqual(await policy.allowed(), ['nginx:latest', 'redis:*'], 'nothing of a refused request is applied');
  assert.deepEqual((await policy.disallow(['nginx'])).changed, ['nginx:latest']);
  assert.deepEqual(await policy.allowed(), ['redis:*']);
  // Concurrent changes are applied one after the other: none is lost.
  await Promise.all(['a:1', 'b:1', 'c:1'].map((p) => policy.allow([p])));
  assert.deepEqual((await policy.allowed()).sort(), ['a:1', 'b:1', 'c:1', 'redis:*']);
});

test('an image passes when labelled for the project, allowed by reference or by one of its tags, or in the project releases; else 403 naming the field', async () => {
  const policy = new ImagePolicy({ store: fakeStore() });
  await policy.check('shop', 'slipway/shop-web:production-v3', image('sha256:new', [], { [IMAGE_PROJECT_LABEL]: 'shop' }), 'image');
  await policy.check('shop', 'slipway/shop-web:production-v1', image('sha256:old', []), 'image');
  const blogs = image('sha256:blog', ['slipway/blog-web:production-v1'], { [IMAGE_PROJECT_LABEL]: 'blog' });
  await assert.rejects(policy.check('shop', 'slipway/blog-web:production-v1', blogs, 'services.web.image'), (err: { code: string; message: string; details: Array<{ path: string }> }) => {
    assert.equal(err.code, 'SLW_FORBIDDEN');
    assert.match(err.message, /^services\.web\.image: image "slipway\/blog-web:production-v1" was not built for project "shop" nor allowed by an admin; an admin can allow it with "slipway images allow slipway\/blog-web:production-v1" \(or a pattern such as "slipway\/blog-web:\*"\)$/);
    assert.deepEqual(err.details.map((d) => d.path), ['services.web.image']);
    return true;
  });
  // Asked by image ID, the image's tags still decide.
  await assert.rejects(policy.check('shop', 'sha256:blog', blogs, 'image'), { code: 'SLW_FORBIDDEN' });
  await policy.allow(['slipway/blog-web:*']);
  await policy.check('shop', 'sha256:blog', blogs, 'image');
  await policy.check('shop', 'slipway/blog-web:production-v1', blogs, 'image');
  // A label for another project is no pass, and neither is an unknown project.
  await assert.rejects(policy.check('news', 'other:1', image('sha256:x', ['other:1'], { [IMAGE_PROJECT_LABEL]: 'shop' }), 'image'), { code: 'SLW_FORBIDDEN' });
});

test("a restricted build's Dockerfile reads only the project's images, Slipway's base images and allowed ones; else 403 naming the field and line", async () => {
  const policy = new ImagePolicy({ store: fakeStore() });
  const host = new Map<string, ImageInfo>([
    ['slipway/node:20', image('sha256:node', ['slipway/node:20'], { 'slipway.base': 'node' })],
    ['slipway/shop-web:production-v3', image('sha256:shop3', ['slipway/shop-web:production-v3'], { [IMAGE_PROJECT_LABEL]: 'shop' })],
    ['slipway/blog-web:production-v1', image('sha256:blog', ['slipway/blog-web:production-v1'], { [IMAGE_PROJECT_LABEL]: 'blog' })],
    ['sha256:blog', image('sha256:blog', ['slipway/blog-web:production-v1'], { [IMAGE_PROJECT_LABEL]: 'blog' })],
  ]);
  const inspect = async (ref: string) => host.get(ref) ?? null;
  const field = 'services.web.build.dockerfile';
  const check = (text: string, args: Record<string, string> = {}) => policy.checkDockerfile('shop', text, args, field, inspect);
  const refusedWith = (re: RegExp) => (err: { code: string; message: string; details: Array<{ path: string; message: string }> }) => {
    assert.equal(err.code, 'SLW_FORBIDDEN');
    assert.match(err.message, re);
    assert.deepEqual(err.details.map((d) => d.path), [field]);
    return true;
  };
  // The base images (even absent from the host: the build then fails by itself), the project's own image, scratch and stages.
  await check('ARG BASE=slipway/node:20\nFROM ${BASE} AS b\nFROM slipway/static:latest\nCOPY --from=b /app /app\nFROM slipway/shop-web:production-v3\nFROM scratch');
  await check('FROM slipway/debian:bookworm\nRUN apt-get update');
  await assert.rejects(
    check('FROM slipway/node:20\nCOPY --from=slipway/blog-web:production-v1 /app /stolen'),
    refusedWith(/^services\.web\.build\.dockerfile: line 2: COPY --from "slipway\/blog-web:production-v1": image "slipway\/blog-web:production-v1" was not built for project "shop" nor allowed by an admin; .*slipway images allow slipway\/blog-web:production-v1/),
  );
  await assert.rejects(check('FROM sha256:blog'), refusedWith(/line 1: FROM "sha256:blog"/));
  await assert.rejects(check('FROM slipway/node:20\nRUN --mount=type=bind,from=slipway/blog-web:production-v1,target=/b cat /b/x'), refusedWith(/line 2: RUN --mount from/));
  // A build arg that points the FROM elsewhere is what counts, not the ARG's default.
  await assert.rejects(check('ARG BASE=slipway/node:20\nFROM ${BASE}', { BASE: 'slipway/blog-web:production-v1' }), refusedWith(/line 2: FROM "slipway\/blog-web:production-v1"/));
  // Unknown at check time: refused, saying why.
  await assert.rejects(check('FROM ${TARGET}'), refusedWith(/line 1: FROM "\$\{TARGET\}" cannot be checked before the build: the variable TARGET has no value known/));
  // An image not on the host is refused unless allowed by reference (the builder would look for it elsewhere).
  await assert.rejects(check('FROM elsewhere/x:1'), refusedWith(/not on this host/));
  // Not a base image: a look-alike name.
  await assert.rejects(check('FROM slipway/node-web:1'), { code: 'SLW_FORBIDDEN' });
  await policy.allow(['slipway/blog-web:*', 'elsewhere/*']);
  await check('FROM slipway/node:20\nCOPY --from=slipway/blog-web:production-v1 /app /app\nFROM elsewhere/x:1\nFROM sha256:blog');
});
