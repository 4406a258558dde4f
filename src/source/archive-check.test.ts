import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { checkArchiveDockerfile, readArchiveDockerfile } from './archive-check';

type Entry = { name: string; type: 'file' | 'directory' | 'symlink'; linkname?: string; content?: string };

async function archive(dir: string, entries: Entry[]): Promise<string> {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.tar`);
  const pack = tarStream.pack();
  const done = pipeline(pack, createWriteStream(file));
  for (const e of entries) {
    if (e.type === 'file') pack.entry({ name: e.name, type: 'file' }, e.content ?? 'FROM scratch\n');
    else pack.entry({ name: e.name, type: e.type, linkname: e.linkname });
  }
  pack.finalize();
  await done;
  return file;
}

test('an uploaded context whose Dockerfile is or goes through a symlink entry is refused, naming build.dockerfile', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-archive-'));
  const field = 'services.web.build.dockerfile';
  const refused = (p: Promise<void>, re: RegExp) =>
    assert.rejects(p, (e: { code: string; message: string; details: Array<{ path: string }> }) => {
      assert.equal(e.code, 'SLW_CONFIG_INVALID');
      assert.equal(e.details[0]?.path, field);
      assert.match(e.message, re);
      return true;
    });
  try {
    const linked = await archive(dir, [
      { name: 'Dockerfile', type: 'symlink', linkname: '/etc/shadow' },
      { name: 'docker', type: 'symlink', linkname: '/root' },
      { name: 'app.js', type: 'file', content: '1' },
    ]);
    await refused(checkArchiveDockerfile(linked, 'Dockerfile', field), /^services\.web\.build\.dockerfile: "Dockerfile" goes through the symlink "Dockerfile"/);
    await refused(checkArchiveDockerfile(linked, './docker/Dockerfile', field), /"\.\/docker\/Dockerfile" goes through the symlink "docker"/);
    await refused(checkArchiveDockerfile(linked, 'missing/Dockerfile', field), /no file "missing\/Dockerfile"/);
    await refused(checkArchiveDockerfile(linked, '../Dockerfile', field), /must be a path inside the build context/);

    // The last entry of a name wins when the daemon unpacks: a file replaced by a link is a link.
    const replaced = await archive(dir, [
      { name: 'Dockerfile', type: 'file' },
      { name: './Dockerfile', type: 'symlink', linkname: '../../etc/passwd' },
    ]);
    await refused(checkArchiveDockerfile(replaced, 'Dockerfile', field), /goes through the symlink "Dockerfile"/);

    const fine = await archive(dir, [
      { name: 'docker/', type: 'directory' },
      { name: './docker/Dockerfile', type: 'file' },
      { name: 'Dockerfile', type: 'file' },
      { name: 'link', type: 'symlink', linkname: '/etc' },
    ]);
    await checkArchiveDockerfile(fine, 'Dockerfile', field);
    await checkArchiveDockerfile(fine, 'docker/Dockerfile', field);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readArchiveDockerfile returns the Dockerfile Docker reads (the last entry of its path), refuses a large one and a symlinked one", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-archive-'));
  const field = 'services.web.build.dockerfile';
  try {
    const twice = await archive(dir, [
      { name: 'Dockerfile', type: 'file', content: 'FROM slipway/node:20\n' },
      { name: 'app.js', type: 'file', content: '1' },
      { name: './Dockerfile', type: 'file', content: 'FROM other/image:1\n' },
    ]);
    assert.equal(await readArchiveDockerfile(twice, 'Dockerfile', field, 1024), 'FROM other/image:1\n');
    assert.equal(await readArchiveDockerfile(await archive(dir, [{ name: 'docker/Dockerfile.web', type: 'file', content: 'FROM a:1' }]), './docker/Dockerfile.web', field, 1024), 'FROM a:1');
    await assert.rejects(readArchiveDockerfile(twice, 'Dockerfile', field, 10), (e: { code: string; message: string; details: Array<{ path: string }> }) => {
      assert.equal(e.code, 'SLW_CONFIG_INVALID');
      assert.match(e.message, /^services\.web\.build\.dockerfile: "Dockerfile" is larger than 10 bytes$/);
      assert.equal(e.details[0]?.path, field);
      return true;
    });
    const linked = await archive(dir, [{ name: 'Dockerfile', type: 'symlink', linkname: '/etc/shadow' }]);
    await assert.rejects(readArchiveDockerfile(linked, 'Dockerfile', field, 1024), { code: 'SLW_CONFIG_INVALID' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
