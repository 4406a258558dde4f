import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveContextPath } from './context-path';

/** A checkout with a committed-style symlink `link -> <host dir holding a secret>`, and the host dir. */
function fixture(): { repo: string; host: string; cleanup: () => void } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-ctxpath-'));
  const repo = path.join(tmp, 'repo');
  const host = path.join(tmp, 'host');
  for (const [rel, content] of Object.entries({
    'repo/Dockerfile': 'FROM scratch\n',
    'repo/apps/web/Dockerfile': 'FROM scratch\n',
    'repo/apps/shared/Dockerfile': 'FROM scratch\n',
    'repo/apps/web/docker/Dockerfile': 'FROM scratch\n',
    'host/sub/Dockerfile': 'FROM scratch\n',
    'host/sub/secret.txt': 'root-only',
  })) {
    mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
    writeFileSync(path.join(tmp, rel), content);
  }
  symlinkSync(host, path.join(repo, 'link'));
  symlinkSync('apps', path.join(repo, 'apps-link'));
  symlinkSync(path.join(host, 'sub', 'Dockerfile'), path.join(repo, 'apps', 'web', 'Linked.Dockerfile'));
  symlinkSync(path.join(host, 'sub'), path.join(repo, 'apps', 'web', 'linkdir'));
  return { repo, host, cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

const field = 'services.web.build';
const at = (repo: string, context: string, dockerfile = 'Dockerfile', base = '') => resolveContextPath({ root: repo, base, context, dockerfile, field });

test('a context inside the checkout resolves to its real path', async () => {
  const f = fixture();
  try {
    const real = realpathSync(f.repo);
    assert.deepEqual(await at(f.repo, '.'), { contextDir: real, dockerfile: 'Dockerfile', inRepo: '.' });
    assert.deepEqual(await at(f.repo, 'web', './docker/Dockerfile', 'apps'), { contextDir: path.join(real, 'apps/web'), dockerfile: 'docker/Dockerfile', inRepo: 'apps/web' });
    assert.equal((await at(f.repo, '../shared', 'Dockerfile', 'apps/web')).inRepo, 'apps/shared', 'a ".." through real directories is fine');
    // The checkout itself may sit under a symlinked directory (the data dir): only the path inside it matters.
    const viaLinkedParent = path.join(f.host, 'checkout-link');
    symlinkSync(path.dirname(f.repo), viaLinkedParent);
    assert.equal((await at(path.join(viaLinkedParent, 'repo'), 'apps/web')).contextDir, path.join(real, 'apps/web'));
  } finally {
    f.cleanup();
  }
});

test('a context reached through a committed symlink is refused, naming build.context', async () => {
  const f = fixture();
  try {
    const refused = (p: Promise<unknown>, re: RegExp) =>
      assert.rejects(p, (e: { code: string; message: string; details: Array<{ path: string }> }) => {
        assert.equal(e.code, 'SLW_CONFIG_INVALID');
        assert.equal(e.details[0]?.path, 'services.web.build.context');
        assert.match(e.message, re);
        return true;
      });
    await refused(at(f.repo, 'link/sub'), /^services\.web\.build\.context: "link\/sub" goes through the symlink "link"/);
    await refused(at(f.repo, 'link'), /goes through the symlink "link"/);
    await refused(at(f.repo, 'apps-link/web'), /goes through the symlink "apps-link"/);
    await refused(at(f.repo, 'web/linkdir', 'Dockerfile', 'apps'), /goes through the symlink "apps\/web\/linkdir"/);
    await refused(at(f.repo, 'link/..'), /goes through the symlink "link"/);
    await refused(at(f.repo, 'link/../apps/web'), /goes through the symlink "link"/);
    await refused(at(f.repo, '..'), /leaves the repository/);
    await refused(at(f.repo, 'apps/../..'), /leaves the repository/);
    await refused(at(f.repo, f.host), /must be a relative path/);
    await refused(at(f.repo, 'nope'), /does not exist/);
    await refused(at(f.repo, 'Dockerfile'), /is not a directory/);
  } finally {
    f.cleanup();
  }
});

test('a Dockerfile that is or goes through a symlink is refused, naming build.dockerfile', async () => {
  const f = fixture();
  try {
    const refused = (p: Promise<unknown>, re: RegExp) =>
      assert.rejects(p, (e: { code: string; message: string; details: Array<{ path: string }> }) => {
        assert.equal(e.code, 'SLW_CONFIG_INVALID');
        assert.equal(e.details[0]?.path, 'services.web.build.dockerfile');
        assert.match(e.message, re);
        return true;
      });
    await refused(at(f.repo, 'apps/web', 'Linked.Dockerfile'), /"Linked\.Dockerfile" goes through the symlink "Linked\.Dockerfile"/);
    await refused(at(f.repo, 'apps/web', 'linkdir/Dockerfile'), /"linkdir\/Dockerfile" goes through the symlink "linkdir"/);
    await refused(at(f.repo, 'apps/web', '../Dockerfile'), /must be a path inside the build context/);
    await refused(at(f.repo, 'apps/web', 'missing'), /no "missing" in the build context/);
    await refused(at(f.repo, 'apps/web', 'docker'), /is not a file/);
  } finally {
    f.cleanup();
  }
});
