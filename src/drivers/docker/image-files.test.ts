/** The archive side of readImageFiles: which entries are kept, their order, the size bound. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { sqlFilesOf } from './image-files';

/** A tar as Docker sends `dir/.`: `./`, then entries named `./…`. */
async function archive(entries: Array<{ name: string; type?: 'file' | 'directory' | 'symlink'; body?: string; linkname?: string }>): Promise<Readable> {
  const pack = tarStream.pack();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.body ?? '', (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Readable.from([Buffer.concat(chunks)]);
}

test('keeps regular .sql files directly in the directory, sorted by name, as text', async () => {
  const files = await sqlFilesOf(
    await archive([
      { name: './', type: 'directory' },
      { name: './0010_later.sql', body: 'DROP TABLE b;' },
      { name: './0002_b.sql', body: "INSERT INTO t VALUES ('é');" },
      { name: './README.md', body: 'not sql' },
      { name: './link.sql', type: 'symlink', linkname: '0002_b.sql' },
      { name: './sub/', type: 'directory' },
      { name: './sub/0001.sql', body: 'nested' },
      { name: './0001_a.sql', body: '' },
    ]),
    '/app/db/migrations',
    1024,
  );
  assert.deepEqual(files, [
    { name: '0001_a.sql', content: '' },
    { name: '0002_b.sql', content: "INSERT INTO t VALUES ('é');" },
    { name: '0010_later.sql', content: 'DROP TABLE b;' },
  ]);
});

test('more than maxBytes of .sql in all is refused, naming the directory', async () => {
  const big = await archive([{ name: './a.sql', body: 'x'.repeat(600) }, { name: './b.sql', body: 'y'.repeat(600) }, { name: './c.txt', body: 'z'.repeat(5000) }]);
  await assert.rejects(sqlFilesOf(big, '/m', 1000), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'SLW_TOO_LARGE');
    assert.match(err.message, /\.sql files in \/m of the image hold more than 1000 bytes/);
    return true;
  });
  assert.equal((await sqlFilesOf(await archive([{ name: './a.sql', body: 'x'.repeat(600) }, { name: './c.txt', body: 'z'.repeat(5000) }]), '/m', 1000)).length, 1, 'other files do not count');
});
