import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceConfig } from '../core/config';
import type { Release } from '../core/domain';
import type { ImageInfo } from '../core/ports/runtime';
import type { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';
import type { ImagePolicy } from './image-policy';
import { checkReleaseSource, prepareReleaseImage, promotedReleaseImage, releaseCommandImage, releaseImageRepository, releaseTarget } from './release-image';

const ref = { project: 'shop', service: 'web', env: 'production' };
const base = { releaseCommand: ['migrate'] } as unknown as ServiceConfig;
const withImage = { ...base, release: { source: { kind: 'image' as const, ref: 'shop-migrator:1' } } };
const withBuild = { ...base, release: { source: { kind: 'build' as const, context: './migrator', dockerfile: 'Dockerfile', args: {} } } };
const info = { id: 'sha256:' + 'a'.repeat(64) } as ImageInfo;
const rec = { log: async () => undefined } as unknown as DeploymentRecorder;
const open = { unrestricted: true, images: {} as ImagePolicy };

function ctxWith(images: Record<string, ImageInfo>) {
  return { runtime: { inspectImage: async (r: string) => images[r] ?? null } } as unknown as EngineContext;
}

test('release images have their own repository, field and source key', () => {
  assert.equal(releaseImageRepository(ref), 'slipway/shop-web-release');
  const t = releaseTarget(ref, withBuild.release);
  assert.deepEqual([t.repository, t.field, t.sourceKey], ['slipway/shop-web-release', 'services.web.release', 'web:release']);
});

test('an image: release image is inspected and pinned by its ID; a service without one is left as is', async () => {
  const out = await prepareReleaseImage(ctxWith({ 'shop-migrator:1': info }), ref, withImage, null, rec, open);
  assert.deepEqual(out.config.release, { ...withImage.release, imageRef: 'shop-migrator:1', imageDigest: info.id });
  assert.equal(withImage.release.source.kind, 'image', 'the parsed config is not changed in place');
  assert.equal((withImage.release as { imageDigest?: string }).imageDigest, undefined);
  const none = await prepareReleaseImage(ctxWith({}), ref, base, null, rec, open);
  assert.equal(none.config, base);
  assert.equal(none.image, null);
});

test('before recording: a missing release image, or a build without its upload, is a 4xx naming the field', async () => {
  await assert.rejects(checkReleaseSource(ctxWith({}), ref, withImage, null, open), (e: Error & { code: string; details: Array<{ path: string }> }) => {
    assert.equal(e.code, 'SLW_NOT_FOUND');
    assert.match(e.message, /image "shop-migrator:1" \(the release image of web\) is not on this host/);
    assert.equal(e.details[0]!.path, 'services.web.release.image');
    return true;
  });
  await assert.rejects(checkReleaseSource(ctxWith({}), ref, withBuild, null, open), (e: Error & { code: string; details: Array<{ path: string }> }) => {
    assert.equal(e.code, 'SLW_BAD_REQUEST');
    assert.equal(e.details[0]!.path, 'sources.web:release');
    return true;
  });
  const noArchive = { ...ctxWith({}), sources: { find: async () => null } } as unknown as EngineContext;
  await assert.rejects(checkReleaseSource(noArchive, ref, withBuild, { kind: 'archive', sha256: 'b'.repeat(64), commit: null }, open), (e: Error & { details: Array<{ path: string }> }) => e.details[0]!.path === 'sources.web:release.sha256');
  await checkReleaseSource(ctxWith({}), ref, base, null, open);
});

test('the release command runs in the pinned release image, else in the release image; unpinned is refused', () => {
  const release = { number: 7, imageDigest: 'sha256:app', config: { ...withImage, release: { ...withImage.release, imageDigest: 'sha256:mig', imageRef: 'shop-migrator:1' } } } as unknown as Release;
  assert.deepEqual(releaseCommandImage(release, 'web'), { image: 'sha256:mig', own: true });
  assert.deepEqual(releaseCommandImage({ ...release, config: base }, 'web'), { image: 'sha256:app', own: false });
  assert.throws(() => releaseCommandImage({ ...release, config: withImage }, 'web'), /v7 of web has services\.web\.release but no release image pinned/);
});

test('a promotion carries the promoted release pin, never building', () => {
  const source = { config: { release: { ...withBuild.release, imageDigest: 'sha256:mig', imageRef: 'slipway/shop-web-release:src-1' } } } as unknown as Release;
  assert.deepEqual(promotedReleaseImage(withBuild, source).release, { ...withBuild.release, imageDigest: 'sha256:mig', imageRef: 'slipway/shop-web-release:src-1' });
  assert.equal(promotedReleaseImage(base, source), base);
  assert.equal(promotedReleaseImage(withBuild, { config: base } as Release), withBuild);
});
