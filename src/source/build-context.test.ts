import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tarStream from 'tar-stream';
import { contextFilter, normalizeDockerfilePath, packContext, parseDockerignore } from './build-context';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-ctx-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

async function tarNames(dir: string, dockerfile = 'Dockerfile'): Promise<Map<string, { type: string; uid: number; content: string }>> {
  const out = new Map<string, { type: string; uid: number; content: string }>();
  const extract = tarStream.extract();
  (await packContext(dir, dockerfile)).pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.set(entry.header.name, { type: entry.header.type ?? 'file', uid: entry.header.uid ?? -1, content: Buffer.concat(chunks).toString() });
  }
  return out;
}

test('.dockerignore patterns are read the way Docker reads them', () => {
  assert.deepEqual(parseDockerignore('# comment\n\n /secret \n./a/b/\n!keep/../keep.txt\r\n**/*.log\n'), ['secret', 'a/b', '!keep.txt', '**/*.log']);
});

test('Dockerfile paths stay inside the context', () => {
  assert.equal(normalizeDockerfilePath('./docker/Dockerfile'), 'docker/Dockerfile');
  assert.throws(() => normalizeDockerfilePath('../Dockerfile'), /inside the build context/);
  assert.throws(() => normalizeDockerfilePath('/etc/Dockerfile'), /inside the build context/);
});

test('an excluded directory is skipped unless an exception names a path under it', () => {
  const f = contextFilter(parseDockerignore('node_modules\n!node_modules/keep.js\nbuild\n*.log'), 'Dockerfile');
  assert.equal(f.entersDirectory('node_modules'), true);
  assert.equal(f.includesFile('node_modules/keep.js'), true);
  assert.equal(f.includesFile('node_modules/other.js'), false);
  assert.equal(f.entersDirectory('build'), false);
  assert.equal(f.includesFile('a.log'), false);
  assert.equal(f.includesFile('src/a.log'), true, 'Docker patterns are anchored at the context root');
});

test('the context tar honours .dockerignore and always carries the Dockerfile and .dockerignore', async () => {
  const dir = tree({
    Dockerfile: 'FROM scratch\n',
    '.dockerignore': 'Dockerfile\n.dockerignore\n*.log\nsecrets\nnode_modules\n!node_modules/keep.js\n',
    'server.js': 'ok',
    'debug.log': 'ignored',
    'secrets/key.pem': 'ignored',
    'node_modules/keep.js': 'kept',
    'node_modules/drop.js': 'ignored',
    'src/app.js': 'ok',
  });
  symlinkSync('server.js', path.join(dir, 'link.js'));
  try {
    const names = await tarNames(dir);
    assert.deepEqual([...names.keys()].sort(), ['.dockerignore', 'Dockerfile', 'link.js', 'node_modules/keep.js', 'server.js', 'src', 'src/app.js']);
    assert.equal(names.get('link.js')?.type, 'symlink');
    assert.equal(names.get('server.js')?.content, 'ok');
    assert.equal(names.get('server.js')?.uid, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Dockerfile inside an excluded directory is still sent', async () => {
  const dir = tree({ 'docker/Dockerfile': 'FROM scratch\n', 'docker/other': 'x', '.dockerignore': 'docker\n', 'a.js': '1' });
  try {
    const names = await tarNames(dir, 'docker/Dockerfile');
    assert.deepEqual([...names.keys()].sort(), ['.dockerignore', 'a.js', 'docker/Dockerfile']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing Dockerfile or context is a build error, not a Docker error', async () => {
  const dir = tree({ 'a.js': '1' });
  try {
    await assert.rejects(packContext(dir, 'Dockerfile'), { code: 'SLW_BUILD_FAILED', message: /no Dockerfile at/ });
    await assert.rejects(packContext(path.join(dir, 'nope'), 'Dockerfile'), { code: 'SLW_BUILD_FAILED', message: /is not a directory/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('packing never follows a symlink: links inside the context are packed as links, a linked root, Dockerfile or .dockerignore is refused', async () => {
  const outside = tree({ 'secret.txt': 'host secret', 'sub/inner.txt': 'host inner', Dockerfile: 'FROM scratch\n', ignore: 'secret\n' });
  const dir = tree({ Dockerfile: 'FROM scratch\n', 'app.js': '1', 'real/Dockerfile': 'FROM scratch\n' });
  symlinkSync(outside, path.join(dir, 'outside-dir'));
  symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'outside-file'));
  try {
    const names = await tarNames(dir);
    assert.deepEqual([...names.keys()].sort(), ['Dockerfile', 'app.js', 'outside-dir', 'outside-file', 'real', 'real/Dockerfile']);
    assert.equal(names.get('outside-dir')?.type, 'symlink');
    assert.equal(names.get('outside-file')?.type, 'symlink');
    for (const [, e] of names) assert.doesNotMatch(e.content, /host (secret|inner)/, 'nothing of the link targets is packed');

    const linkedRoot = path.join(dir, 'outside-dir');
    await assert.rejects(packContext(linkedRoot, 'Dockerfile'), { code: 'SLW_CONFIG_INVALID', message: /build\.context: .* is a symlink/ });

    const viaLink = tree({ 'app.js': '1' });
    symlinkSync(path.join(outside, 'Dockerfile'), path.join(viaLink, 'Dockerfile'));
    symlinkSync(outside, path.join(viaLink, 'docker'));
    await assert.rejects(packContext(viaLink, 'Dockerfile'), { code: 'SLW_CONFIG_INVALID', message: /build\.dockerfile: "Dockerfile" goes through the symlink "Dockerfile"/ });
    await assert.rejects(packContext(viaLink, 'docker/Dockerfile'), { code: 'SLW_CONFIG_INVALID', message: /build\.dockerfile: "docker\/Dockerfile" goes through the symlink "docker"/ });

    const linkedIgnore = tree({ Dockerfile: 'FROM scratch\n' });
    symlinkSync(path.join(outside, 'ignore'), path.join(linkedIgnore, '.dockerignore'));
    await assert.rejects(packContext(linkedIgnore, 'Dockerfile'), { code: 'SLW_BUILD_FAILED', message: /\.dockerignore is a symlink/ });
    rmSync(viaLink, { recursive: true, force: true });
    rmSync(linkedIgnore, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});
