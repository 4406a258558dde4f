import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { HostBackupFiles } from './host-backup-files';

const root = mkdtempSync(path.join(tmpdir(), 'slipway-backup-files-'));
const files = new HostBackupFiles(root);
const folder = { project: 'shop', env: 'production', accessory: 'cache', backupId: 'b1' };

async function text(r: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

test('a written file: size and checksum returned, private modes, read back as written', async () => {
  const body = 'x'.repeat(100_000);
  const f = await files.write(folder, 'dump.tar', Readable.from([Buffer.from(body.slice(0, 70_000)), Buffer.from(body.slice(70_000))]));
  assert.deepEqual(f, { name: 'dump.tar', bytes: 100_000, sha256: createHash('sha256').update(body).digest('hex') });
  const dir = files.describe(folder);
  assert.equal(statSync(path.join(dir, 'dump.tar')).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(dir), ['dump.tar'], 'no partial file left');
  assert.equal(await text(files.read(folder, 'dump.tar')), body);
  assert.equal(await files.usage({ project: 'shop', env: 'production', accessory: 'cache' }), 100_000);
  assert.deepEqual(await files.check(folder, [f]), []);
});

test('check: a changed byte, a truncated file and a missing one are each named', async () => {
  const a = await files.write(folder, 'a', Readable.from([Buffer.from('hello world')]));
  const b = await files.write(folder, 'b', Readable.from([Buffer.from('hello world')]));
  const c = await files.write(folder, 'c', Readable.from([Buffer.from('hello world')]));
  const dir = files.describe(folder);
  writeFileSync(path.join(dir, 'a'), 'hello World');
  writeFileSync(path.join(dir, 'b'), 'hello');
  rmSync(path.join(dir, 'c'));
  const problems = await files.check(folder, [a, b, c]);
  assert.equal(problems.length, 3);
  assert.match(problems[0]!, /^a: checksum/);
  assert.match(problems[1]!, /^b: 5 bytes, 11 written/);
  assert.match(problems[2]!, /^c: missing/);
  await assert.rejects(text(files.read(folder, 'c')), /backup file .* is missing/);
});

test('a failed source leaves no file under its name; remove deletes the folder; names cannot escape the root', async () => {
  const failing = new Readable({
    read() {
      this.destroy(new Error('the copy broke'));
    },
  });
  await assert.rejects(files.write(folder, 'broken', failing), /the copy broke/);
  assert.equal(existsSync(path.join(files.describe(folder), 'broken')), false);
  await assert.rejects(files.write({ ...folder, env: '..' }, 'x', Readable.from([])), /not a backup folder name/);
  await assert.rejects(files.write(folder, '../x', Readable.from([])), /not a backup file name/);
  await files.remove(folder);
  assert.equal(existsSync(files.describe(folder)), false);
  await files.remove(folder);
});
