/** GitCli.isAncestor against real repositories: within the first shallow depth, beyond it, and not at all. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GitCli } from './git-cli';

const root = mkdtempSync(path.join(os.tmpdir(), 'slipway-ancestry-'));
after(() => rmSync(root, { recursive: true, force: true }));
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@t.invalid', '-C', path.join(root, 'repo'), ...args], { encoding: 'utf8' }).trim();
execFileSync('git', ['init', '-q', '-b', 'main', path.join(root, 'repo')]);
const shas: string[] = [];
for (let i = 0; i < 70; i++) {
  git('commit', '-q', '--allow-empty', '-m', `c${i}`);
  shas.push(git('rev-parse', 'HEAD'));
}
git('checkout', '-q', '-b', 'other', shas[10]!);
git('commit', '-q', '--allow-empty', '-m', 'side');
const side = git('rev-parse', 'HEAD');
const url = `file://${path.join(root, 'repo')}`;
let n = 0;
const isAncestor = (a: string, d: string) => new GitCli().isAncestor(url, a, d, path.join(root, `h${n++}`));

test('a commit a few back, or beyond the first shallow depth, is an ancestor; the same commit is too', async () => {
  assert.equal(await isAncestor(shas[65]!, shas[69]!), true);
  assert.equal(await isAncestor(shas[1]!, shas[69]!), true);
  assert.equal(await isAncestor(shas[69]!, shas[69]!), true);
  assert.equal(await isAncestor(shas[10]!, side), true);
});

test('a newer commit, or one of another branch, is not an ancestor of an older one', async () => {
  assert.equal(await isAncestor(shas[69]!, shas[20]!), false);
  assert.equal(await isAncestor(side, shas[69]!), false);
  assert.equal(await isAncestor(shas[69]!, side), false);
});
