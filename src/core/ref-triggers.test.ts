import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatErrors, parseProjectConfig } from './parse-config';
import { compareSpecificity, matchRef, parsePushedRef, patternRegExp, refPatternProblem, rewindAllowed, specificity } from './ref-triggers';

const env = (map: Record<string, string>, name: string) => matchRef(map, name)?.env ?? null;

test('* stays within one "/" segment, ** crosses "/", ? is one character other than "/"', () => {
  const m = (p: string, name: string) => patternRegExp(p).test(name);
  assert.equal(m('release/*', 'release/1.2'), true);
  assert.equal(m('release/*', 'release/a/b'), false, '* does not cross "/"');
  assert.equal(m('release/*', 'release'), false);
  assert.equal(m('release/**', 'release/a/b'), true, '** crosses "/"');
  assert.equal(m('release/**', 'release/1.2'), true);
  assert.equal(m('rc-*', 'rc-'), true, '* may match nothing');
  assert.equal(m('rc-*', 'rc-7'), true);
  assert.equal(m('rc-*', 'xrc-7'), false, 'anchored at the start');
  assert.equal(m('v?', 'v1'), true);
  assert.equal(m('v?', 'v10'), false);
  assert.equal(m('a?b', 'a/b'), false, '? does not match "/"');
  assert.equal(m('v1.0', 'v1x0'), false, '"." is literal');
  assert.equal(m('v1+build', 'v1+build'), true, '"+" is literal');
  assert.equal(m('*/hotfix', 'team/hotfix'), true);
  assert.equal(m('**/hotfix', 'a/b/hotfix'), true);
});

test('an exact name beats every pattern, whatever the order', () => {
  const map = { 'release/*': 'staging', '**': 'preview-all', 'release/1.2': 'production' };
  assert.deepEqual(matchRef(map, 'release/1.2'), { key: 'release/1.2', env: 'production' });
  assert.deepEqual(matchRef(map, 'release/1.3'), { key: 'release/*', env: 'staging' });
  assert.deepEqual(matchRef(map, 'feature/a/b'), { key: '**', env: 'preview-all' });
  assert.equal(matchRef({ main: 'staging' }, 'feature'), null, 'nothing matches: null');
  assert.equal(matchRef({}, 'main'), null);
  assert.equal(matchRef({ main: 'staging' }, 'constructor'), null, 'no inherited keys');
});

test('among patterns the one with the most literal characters wins', () => {
  const map = { 'release/*': 'staging', 'release/1.*': 'production', 'rel*': 'preview-rel' };
  assert.equal(env(map, 'release/1.2'), 'production');
  assert.equal(env(map, 'release/2.0'), 'staging');
  assert.equal(env(map, 'relx'), 'preview-rel');
  assert.equal(env({ 'v*': 'staging', 'v1.*.*': 'production' }, 'v1.2.3'), 'production', 'more literals even with more wildcards');
});

test('equal literals: fewer wildcards, then ? before * before **, then the first declared', () => {
  // Same literals (8: "release/"): one wildcard beats two.
  assert.equal(env({ 'release/**': 'a', 'release/*': 'b' }, 'release/1'), 'b', '* beats ** (same literals, same count)');
  assert.equal(env({ 'release/*': 'a', 'release/?': 'b' }, 'release/1'), 'b', '? beats *');
  assert.equal(env({ 'rc-**': 'a', 'rc-?*': 'b' }, 'rc-12'), 'a', 'one wildcard beats two');
  // A true tie: declaration order decides, both ways round.
  assert.equal(env({ 'a-*': 'first', '*-b': 'second' }, 'a-b'), 'first');
  assert.equal(env({ '*-b': 'first', 'a-*': 'second' }, 'a-b'), 'first');
  assert.equal(compareSpecificity(specificity('a-*'), specificity('*-b')), 0);
  assert.ok(compareSpecificity(specificity('main'), specificity('m*')) < 0, 'exact before pattern');
  assert.deepEqual(specificity('release/**'), { exact: false, literals: 8, wildcards: 1, doubleStars: 1, stars: 0 });
  assert.deepEqual(specificity('v?.*'), { exact: false, literals: 2, wildcards: 2, doubleStars: 0, stars: 1 });
});

test('pattern keys: allowed characters, no classes or braces, git ref rules', () => {
  for (const ok of ['main', 'release/*', 'rc-*', 'v*', '**', 'v?.?', 'feature/**/wip', 'v1.0.0+build', 'user@x']) assert.equal(refPatternProblem(ok), null, ok);
  assert.match(refPatternProblem('release/[')!, /"\[" is not allowed.*no character classes or braces/);
  assert.match(refPatternProblem('v{1,2}')!, /"\{" is not allowed/);
  assert.match(refPatternProblem('a b')!, /" " is not allowed/);
  assert.match(refPatternProblem('a***')!, /"\*\*\*" is not a wildcard/);
  for (const bad of ['-x', '/x', 'x/', 'a//b', 'a..b', 'x.lock']) assert.match(refPatternProblem(bad)!, /valid git ref name/, bad);
  assert.match(refPatternProblem('refs/heads/main')!, /without "refs\/heads\/"/);
  assert.equal(refPatternProblem(''), 'must not be empty');
});

test('a pushed ref: refs/heads → branch, refs/tags → tag, a bare name is a branch only in the generic form', () => {
  assert.deepEqual(parsePushedRef('refs/heads/release/1.2', false), { kind: 'branch', name: 'release/1.2', ref: 'refs/heads/release/1.2' });
  assert.deepEqual(parsePushedRef('refs/tags/v1.0.0', false), { kind: 'tag', name: 'v1.0.0', ref: 'refs/tags/v1.0.0' });
  assert.deepEqual(parsePushedRef('main', true), { kind: 'branch', name: 'main', ref: 'refs/heads/main' });
  assert.equal(parsePushedRef('main', false), null, 'GitHub always sends full refs');
  assert.equal(parsePushedRef('refs/pull/1/head', true), null);
  assert.equal(parsePushedRef('refs/tags/', true), null);
});

test('allow_force_push: true covers branches and tags; entries are branch patterns and refs/tags/<pattern>', () => {
  const branch = (name: string) => parsePushedRef(`refs/heads/${name}`, false)!;
  const tag = (name: string) => parsePushedRef(`refs/tags/${name}`, false)!;
  assert.equal(rewindAllowed(true, tag('v1')), true);
  assert.equal(rewindAllowed(false, branch('main')), false);
  assert.equal(rewindAllowed(['main'], branch('main')), true);
  assert.equal(rewindAllowed(['release/*'], branch('release/1.2')), true);
  assert.equal(rewindAllowed(['release/*'], branch('release/a/b')), false);
  assert.equal(rewindAllowed(['main', 'v*'], tag('v1')), false, 'a bare entry is a branch, never a tag');
  assert.equal(rewindAllowed(['refs/tags/v*'], tag('v1.0.1')), true);
  assert.equal(rewindAllowed(['refs/tags/v*'], branch('v1')), false, 'a tag entry is never a branch');
  assert.equal(rewindAllowed(['refs/heads/main'], branch('main')), true);
});

const file = (head: string) => `project: shop\n${head}\nservices:\n  web:\n    image: shop:1\n    port: 3000\n`;

test('slipway.yml branches: and tags: take names and patterns, in the file\'s order', () => {
  const r = parseProjectConfig(file('branches: { main: staging, "release/*": production, "rc-*": preview-rc }\ntags: { "v*": production, "v*-beta": staging }\nwebhooks: { allow_force_push: [main, "release/*", "refs/tags/v*"] }'));
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  assert.deepEqual(r.config.branches, { main: 'staging', 'release/*': 'production', 'rc-*': 'preview-rc' });
  assert.deepEqual(Object.keys(r.config.tags), ['v*', 'v*-beta']);
  assert.deepEqual(r.config.allowForcePush, ['main', 'release/*', 'refs/tags/v*']);
  assert.equal(env(r.config.tags, 'v2.0-beta'), 'staging', 'more literals');
  assert.equal(env(r.config.tags, 'v2.0'), 'production');
  const none = parseProjectConfig(file(''));
  assert.ok(none.ok);
  assert.deepEqual([none.config.branches, none.config.tags], [{}, {}]);
});

test('slipway.yml: a bad branch or tag pattern, or environment, names the field', () => {
  const errors = (head: string) => {
    const r = parseProjectConfig(file(head));
    assert.equal(r.ok, false, head);
    return r.ok ? '' : formatErrors(r.errors);
  };
  assert.match(errors('branches: { "release/[": staging }'), /^branches\.release\/\[: "\[" is not allowed/m);
  assert.match(errors('tags: { "v***": production }'), /^tags\.v\*\*\*: "\*\*\*" is not a wildcard/m);
  assert.match(errors('tags: { "v*": Prod }'), /^tags\.v\*: must be an environment name/m);
  assert.match(errors('tags: [v1]'), /^tags: must map tag names or patterns to environments/m);
  assert.match(errors('webhooks: { allow_force_push: ["refs/tags/v["] }'), /^webhooks\.allow_force_push/m);
  assert.match(errors('tag: { "v*": production }'), /unknown field "tag"/);
});
