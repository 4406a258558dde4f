import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from './sqlite-store';
import { runStoreContract } from './store-contract';

const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-store-'));
let n = 0;

runStoreContract('sqlite file', () => openSqliteStore({ file: path.join(dir, `s${n++}.db`) }));
runStoreContract('sqlite memory', () => openSqliteStore({ file: ':memory:' }));

test('a file-backed store keeps its data across reopen', async () => {
  const file = path.join(dir, 'reopen.db');
  const a = await openSqliteStore({ file });
  await a.migrate();
  await a.upsertProject('kept');
  await a.close();
  const b = await openSqliteStore({ file });
  await b.migrate();
  assert.ok(await b.getProject('kept'));
  await b.close();
  rmSync(dir, { recursive: true, force: true });
});
