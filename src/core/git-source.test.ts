import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gitRefProblem, gitUrlProblem, redactGitUrl, repoPathProblem, sourceTag } from './git-source';

test('repository URLs: the usual forms pass, credentials and odd schemes do not', () => {
  for (const ok of ['https://github.com/acme/shop.git', 'ssh://git@host:2222/acme/shop.git', 'git@github.com:acme/shop.git', 'file:///srv/git/shop.git', '/srv/git/shop.git']) {
    assert.equal(gitUrlProblem(ok), null, ok);
  }
  assert.match(gitUrlProblem('https://user:hunter2@github.com/acme/shop.git')!, /credentials/);
  assert.match(gitUrlProblem('https://ghp_token@github.com/acme/shop.git')!, /credentials/);
  assert.match(gitUrlProblem('ftp://host/x')!, /must use one of/);
  assert.match(gitUrlProblem('--upload-pack=evil')!, /must not start with "-"/);
  assert.match(gitUrlProblem('shop')!, /repository URL such as/);
  assert.match(gitUrlProblem('https://host/a b')!, /spaces/);
});

test('refs: branches, tags and SHAs pass; option-like and traversing names do not', () => {
  for (const ok of ['main', 'release/2.1', 'v1.2.3', '3f2a9c1', 'a'.repeat(40)]) assert.equal(gitRefProblem(ok), null, ok);
  for (const bad of ['', '-x', '--upload-pack=x', 'a..b', '/main', 'main/', 'a b', 'x.lock']) assert.notEqual(gitRefProblem(bad), null, bad);
});

test('the path of slipway.yml stays inside the repository', () => {
  assert.equal(repoPathProblem(''), null);
  assert.equal(repoPathProblem('deploy/app'), null);
  assert.notEqual(repoPathProblem('../x'), null);
  assert.notEqual(repoPathProblem('/etc'), null);
});

test('URLs are shown without user-info except ssh user names', () => {
  assert.equal(redactGitUrl('https://u:p@host/r.git'), 'https://***@host/r.git');
  assert.equal(redactGitUrl('ssh://git@host/r.git'), 'ssh://git@host/r.git');
  assert.equal(redactGitUrl('https://host/r.git'), 'https://host/r.git');
});

test('tags name a build by short commit, else by short content hash', () => {
  assert.equal(sourceTag(`git:${'ab12cd3'.padEnd(40, '0')}`), 'ab12cd3');
  assert.equal(sourceTag('content:0123456789abcdef'), '0123456789ab');
  assert.equal(sourceTag(null), null);
});
