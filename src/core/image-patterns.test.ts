import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imagePatternProblem, matchImagePatterns, normalizeImagePattern, normalizeImageRef } from './image-patterns';

test("references are compared in Docker's short form", () => {
  assert.equal(normalizeImageRef('nginx'), 'nginx:latest');
  assert.equal(normalizeImageRef('docker.io/library/nginx'), 'nginx:latest');
  assert.equal(normalizeImageRef('docker.io/acme/app:2'), 'acme/app:2');
  assert.equal(normalizeImageRef('registry.local:5000/app'), 'registry.local:5000/app:latest');
  assert.equal(normalizeImageRef('registry.local:5000/app:1.2'), 'registry.local:5000/app:1.2');
  assert.equal(normalizeImageRef(`app@sha256:${'a'.repeat(64)}`), `app@sha256:${'a'.repeat(64)}`);
  assert.equal(normalizeImageRef(`sha256:${'b'.repeat(64)}`), `sha256:${'b'.repeat(64)}`);
  assert.equal(normalizeImagePattern('registry.local/base/*'), 'registry.local/base/*');
  assert.equal(normalizeImagePattern('docker.io/library/nginx:*'), 'nginx:*');
});

test('an exact reference matches itself in any spelling, and only itself', () => {
  assert.equal(matchImagePatterns(['nginx'], ['nginx:latest']), 'nginx');
  assert.equal(matchImagePatterns(['nginx:latest'], ['docker.io/library/nginx']), 'nginx:latest');
  assert.equal(matchImagePatterns(['nginx'], ['nginx:1.25']), null, 'an untagged pattern means :latest');
  assert.equal(matchImagePatterns(['nginx:1.25'], ['nginx:1.25.1']), null);
  assert.equal(matchImagePatterns(['slipway/shop-web:production-v1'], ['slipway/shop-web:production-v10']), null);
});

test('"*" matches any run of characters, "/" included', () => {
  assert.equal(matchImagePatterns(['nginx:*'], ['nginx:1.25-alpine']), 'nginx:*');
  assert.equal(matchImagePatterns(['nginx:*'], ['nginx']), 'nginx:*', 'untagged is :latest');
  assert.equal(matchImagePatterns(['nginx:*'], ['nginx-evil:1']), null);
  assert.equal(matchImagePatterns(['nginx:*'], ['evil/nginx:1']), null);
  assert.equal(matchImagePatterns(['registry.local/base/*'], ['registry.local/base/node:20']), 'registry.local/base/*');
  assert.equal(matchImagePatterns(['registry.local/base/*'], ['registry.local/base/team/x']), 'registry.local/base/*');
  assert.equal(matchImagePatterns(['registry.local/base/*'], ['registry.local/other/node:20']), null);
  assert.equal(matchImagePatterns(['registry.local/base/*'], ['registry.local/basement:1']), null);
  assert.equal(matchImagePatterns(['slipway/shop-*'], ['slipway/shop-web:production-v1']), 'slipway/shop-*');
  assert.equal(matchImagePatterns(['*'], ['anything/at:all']), '*');
});

test('the dots and other characters of a pattern are literal', () => {
  assert.equal(matchImagePatterns(['registry.local/app:1'], ['registryXlocal/app:1']), null);
  assert.equal(matchImagePatterns(['app:1.2'], ['app:1x2']), null);
});

test('any of the candidate references may match (the reference asked for, or a tag of the image it names)', () => {
  assert.equal(matchImagePatterns(['nginx:1.25'], [`sha256:${'c'.repeat(64)}`, 'nginx:1.25']), 'nginx:1.25');
  assert.equal(matchImagePatterns(['nginx:1.25'], [`sha256:${'c'.repeat(64)}`]), null);
  assert.equal(matchImagePatterns([], ['nginx']), null);
});

test('bad patterns are refused with what is expected', () => {
  assert.equal(imagePatternProblem('nginx:*'), null);
  assert.equal(imagePatternProblem('registry.local:5000/x/*'), null);
  assert.match(imagePatternProblem('') ?? '', /must not be empty/);
  assert.match(imagePatternProblem('foo\nbar') ?? '', /must be an image reference/);
  assert.match(imagePatternProblem('nginx latest') ?? '', /must be an image reference/);
  assert.match(imagePatternProblem('/etc/passwd') ?? '', /must start with an image name/);
  assert.match(imagePatternProblem('x'.repeat(301)) ?? '', /at most 300/);
});
