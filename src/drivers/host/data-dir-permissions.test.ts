import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ensurePrivateFile, secureDataDir } from './data-dir-permissions';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { logger, lines };
}
const mode = (p: string) => statSync(p).mode & 0o777;

test('group/other bits are removed everywhere (owner bits kept), each fix logged with the old mode; symlinks are not followed', (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'perm-'));
  const outside = mkdtempSync(path.join(os.tmpdir(), 'perm-outside-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  t.after(() => rmSync(outside, { recursive: true, force: true }));
  const dir = path.join(root, 'data');
  mkdirSync(path.join(dir, 'edge'), { recursive: true });
  chmodSync(dir, 0o755);
  chmodSync(path.join(dir, 'edge'), 0o750);
  writeFileSync(path.join(dir, 'slipway.db'), '', { mode: 0o644 });
  writeFileSync(path.join(dir, 'edge', 'run.sh'), '');
  chmodSync(path.join(dir, 'edge', 'run.sh'), 0o775); // past the umask
  writeFileSync(path.join(dir, 'ok'), '', { mode: 0o600 });
  writeFileSync(path.join(outside, 'target'), '', { mode: 0o644 });
  symlinkSync(path.join(outside, 'target'), path.join(dir, 'link'));
  symlinkSync(outside, path.join(dir, 'linkdir'));
  const { logger, lines } = capture();
  const fixes = secureDataDir(dir, logger);
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(path.join(dir, 'edge')), 0o700);
  assert.equal(mode(path.join(dir, 'slipway.db')), 0o600);
  assert.equal(mode(path.join(dir, 'edge', 'run.sh')), 0o700);
  assert.equal(mode(path.join(outside, 'target')), 0o644, 'a symlink target outside is left alone');
  assert.deepEqual(fixes.map((f) => [path.relative(dir, f.path), f.was, f.now]).sort(), [
    ['', '0755', '0700'],
    ['edge', '0750', '0700'],
    ['edge/run.sh', '0775', '0700'],
    ['slipway.db', '0644', '0600'],
  ]);
  assert.equal(lines.filter((l) => l.level === 40).length, 4);
  assert.ok(lines.some((l) => l.path === path.join(dir, 'slipway.db') && l.mode === '0644' && l.fixedTo === '0600'));
  assert.deepEqual(secureDataDir(dir, capture().logger), [], 'nothing left to fix');
});

test('a missing directory is created 0700; many fixes: 20 warnings and one summary', (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'perm-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'new', 'data');
  assert.deepEqual(secureDataDir(dir, capture().logger), []);
  assert.equal(mode(dir), 0o700);
  for (let i = 0; i < 30; i++) writeFileSync(path.join(dir, `f${i}`), '', { mode: 0o644 });
  const { logger, lines } = capture();
  assert.equal(secureDataDir(dir, logger).length, 30);
  assert.equal(lines.filter((l) => l.path).length, 20);
  assert.ok(lines.some((l) => l.more === 10));
});

test('ensurePrivateFile: creates an empty 0600 file, leaves an existing one as it is', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'perm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'slipway.db');
  ensurePrivateFile(file);
  assert.equal(mode(file), 0o600);
  assert.equal(statSync(file).size, 0);
  writeFileSync(file, 'data');
  ensurePrivateFile(file);
  assert.equal(statSync(file).size, 4);
});
