import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import tarStream from 'tar-stream';
import { DiskSourceArchives } from './disk-source-archives';
import { writeSourceArchive } from '../../source/source-archive';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'slipway-src-'));

async function archives() {
  const store = new DiskSourceArchives({ dir: path.join(tmp(), 'sources'), logger: pino({ level: 'silent' }) });
  await store.init();
  return store;
}

/** A tar built by hand, to send what our own packer never would. */
async function tarOf(entries: Array<{ name: string; type?: 'file' | 'symlink' | 'character-device'; content?: string; linkname?: string }>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, size: e.content?.length ?? 0 }, e.content ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('the same tree packs to the same bytes whatever the mtimes; a changed file changes the address', async () => {
  const dir = tmp();
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(path.join(dir, 'app.js'), 'console.log(1)\n');
  const out = tmp();
  const a = await writeSourceArchive(dir, 'Dockerfile', path.join(out, 'a.tar'));
  utimesSync(path.join(dir, 'app.js'), new Date(2001, 1, 1), new Date(2001, 1, 1));
  const b = await writeSourceArchive(dir, 'Dockerfile', path.join(out, 'b.tar'));
  assert.equal(a.sha256, b.sha256);
  assert.equal(a.files, 2);
  writeFileSync(path.join(dir, 'app.js'), 'console.log(2)\n');
  const c = await writeSourceArchive(dir, 'Dockerfile', path.join(out, 'c.tar'));
  assert.notEqual(c.sha256, a.sha256);
});

test('an upload is stored under its sha256 once, and a second upload says it existed', async () => {
  const store = await archives();
  const body = await tarOf([{ name: 'Dockerfile', content: 'FROM scratch\n' }, { name: 'src/a.js', content: 'x' }]);
  const first = await store.receive('shop', sha(body), Readable.from([body]), 1 << 20);
  assert.deepEqual(first, { sha256: sha(body), bytes: body.length, files: 2, existed: false });
  assert.ok(await store.find('shop', sha(body)));
  assert.deepEqual(await store.describe('shop', sha(body)), { sha256: sha(body), bytes: body.length, files: 2 });
  assert.equal((await store.receive('shop', sha(body), Readable.from([body]), 1 << 20)).existed, true);
});

test('damaged, oversized and escaping uploads are refused and leave nothing behind', async () => {
  const store = await archives();
  const good = await tarOf([{ name: 'Dockerfile', content: 'FROM scratch\n' }]);
  await assert.rejects(store.receive('shop', '0'.repeat(64), Readable.from([good]), 1 << 20), { code: 'SLW_BAD_REQUEST', message: /hash to .* not 0000/ });
  await assert.rejects(store.receive('shop', sha(good), Readable.from([good]), 100), { code: 'SLW_TOO_LARGE', message: /larger than the server accepts/ });
  const escaping = await tarOf([{ name: '../../etc/cron.d/x', content: 'boom' }]);
  await assert.rejects(store.receive('shop', sha(escaping), Readable.from([escaping]), 1 << 20), { code: 'SLW_BAD_REQUEST', message: /"\.\.\/\.\.\/etc\/cron\.d\/x" has a "\.\." segment/ });
  const absolute = await tarOf([{ name: '/etc/passwd', content: 'x' }]);
  await assert.rejects(store.receive('shop', sha(absolute), Readable.from([absolute]), 1 << 20), { code: 'SLW_BAD_REQUEST', message: /absolute path/ });
  const device = await tarOf([{ name: 'dev', type: 'character-device' }]);
  await assert.rejects(store.receive('shop', sha(device), Readable.from([device]), 1 << 20), { code: 'SLW_BAD_REQUEST', message: /is a character-device/ });
  const garbage = Buffer.from('this is not a tar archive at all '.repeat(40));
  await assert.rejects(store.receive('shop', sha(garbage), Readable.from([garbage]), 1 << 20), { code: 'SLW_BAD_REQUEST' });
  for (const s of [good, escaping, absolute, device, garbage]) assert.equal(await store.find('shop', sha(s)), null);
  assert.deepEqual(readdirSync(path.join(store.dir, 'tmp')), [], 'no partial upload is left');
  assert.deepEqual(readdirSync(store.dir).sort(), ['projects', 'scratch', 'tmp']);
  assert.deepEqual(readdirSync(path.join(store.dir, 'projects')), [], 'no project directory for refused uploads');
});

test('a scratch directory is removed after use, even when the work fails', async () => {
  const store = await archives();
  let seen = '';
  await assert.rejects(
    store.withScratchDir(async (d) => {
      seen = d;
      writeFileSync(path.join(d, 'f'), 'x');
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.throws(() => readdirSync(seen), /ENOENT/);
});

test("archives are kept per project: another project neither sees nor finds one, and removeProject removes them", async () => {
  const store = await archives();
  const body = await tarOf([{ name: 'Dockerfile', content: 'FROM scratch\n' }]);
  const other = await tarOf([{ name: 'Dockerfile', content: 'FROM scratch\nCOPY . /\n' }]);
  assert.equal((await store.receive('shop', sha(body), Readable.from([body]), 1 << 20)).existed, false);
  await store.receive('shop', sha(other), Readable.from([other]), 1 << 20);
  assert.equal(await store.find('blog', sha(body)), null);
  assert.equal(await store.describe('blog', sha(body)), null);
  assert.equal(await store.find('blog', sha(body), { legacy: true }), null, 'the legacy pool is not a way into another project');
  // The same bytes uploaded by another project are new to it, stored apart.
  assert.equal((await store.receive('blog', sha(body), Readable.from([body]), 1 << 20)).existed, false);
  assert.notEqual(await store.find('blog', sha(body)), await store.find('shop', sha(body)));
  assert.equal(await store.removeProject('shop'), 2);
  assert.equal(await store.find('shop', sha(body)), null);
  assert.equal(await store.find('shop', sha(other)), null);
  assert.ok(await store.find('blog', sha(body)), "another project's archives stay");
  assert.equal(await store.removeProject('shop'), 0);
  assert.equal(await store.removeProject('never-uploaded'), 0);
  await assert.rejects(store.removeProject('../sources'), { code: 'SLW_BAD_REQUEST' });
  await assert.rejects(store.receive('../x', sha(body), Readable.from([body]), 1 << 20), { code: 'SLW_BAD_REQUEST', message: /not a project name/ });
});

test('an archive of the legacy shared pool is found only by a lookup that asks for it (unrestricted callers)', async () => {
  const store = await archives();
  const body = await tarOf([{ name: 'Dockerfile', content: 'FROM scratch\n' }]);
  // Where servers before per-project archives stored uploads.
  writeFileSync(path.join(store.dir, `${sha(body)}.tar`), body);
  writeFileSync(path.join(store.dir, `${sha(body)}.json`), JSON.stringify({ sha256: sha(body), bytes: body.length, files: 1 }));
  assert.equal(await store.find('shop', sha(body)), null);
  assert.equal(await store.describe('shop', sha(body)), null);
  assert.equal(await store.find('shop', sha(body), { legacy: true }), path.join(store.dir, `${sha(body)}.tar`));
  assert.deepEqual(await store.describe('shop', sha(body), { legacy: true }), { sha256: sha(body), bytes: body.length, files: 1 });
  assert.equal(await store.removeProject('shop'), 0, 'the legacy pool belongs to no project');
});
