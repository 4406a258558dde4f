/**
 * Issue 18, finding 12: the database (password hashes, the audit log, configs, deployment
 * logs) and the server log were world-readable (0644 files in a 0755 directory). A real
 * `slipway server`: a fresh data directory gets 0700/0600 without any fix being needed; one
 * whose files were opened up (as a copy or an older version leaves them) is fixed at start,
 * with a warning naming each path and its old mode.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ControlPlaneProcess } from './support/control-plane-process';

const cp = await ControlPlaneProcess.create('dirmodes');
after(() => cp.destroy());

const mode = (p: string) => statSync(p).mode & 0o777;

/** Every directory and file (sockets included) under the data directory, symlinks excluded. */
function everything(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isSymbolicLink()) return [];
    return e.isDirectory() ? [p, ...everything(p)] : [p];
  });
}

const warnings = (log: string) =>
  log
    .split('\n')
    .filter((l) => l.includes('permissions fixed'))
    .map((l) => JSON.parse(l) as { path: string; mode: string; fixedTo: string; level: number });

test('a fresh data directory: 0700 directories and 0600 files from the start, nothing to fix', async () => {
  await cp.start();
  // SIGKILL like a crash (before any assertion, so a failure leaves no server running): the
  // WAL and shared-memory files stay for the next start.
  cp.kill();
  await new Promise((r) => setTimeout(r, 500));
  const files = everything(cp.dataDir);
  for (const name of ['slipway.db', 'slipway.db-wal', 'slipway.db-shm', 'server.json', 'server.log', 'master.key', 'admin-token', 'request-log.key', 'edge/haproxy.cfg', 'edge/haproxy.pid']) {
    assert.ok(files.includes(path.join(cp.dataDir, name)), `${name} exists`);
  }
  assert.equal(mode(cp.dataDir), 0o700);
  const open = files.filter((p) => (mode(p) & 0o077) !== 0).map((p) => `${p} ${mode(p).toString(8)}`);
  assert.deepEqual(open, [], 'nothing readable by group or others');
  assert.deepEqual(warnings(readFileSync(cp.logFile, 'utf8')), [], 'no warning on a fresh directory');
});

test('a data directory opened up to 0755/0644: fixed at start, one warning per path with its old mode', async () => {
  const opened = ['slipway.db', 'slipway.db-wal', 'slipway.db-shm', 'server.log', 'server.json', 'master.key', 'admin-token', 'request-log.key', 'edge/haproxy.cfg'].map((n) => path.join(cp.dataDir, n));
  for (const p of opened) chmodSync(p, 0o644);
  chmodSync(cp.dataDir, 0o755);
  chmodSync(path.join(cp.dataDir, 'edge'), 0o755);
  const logBefore = readFileSync(cp.logFile, 'utf8').length;
  await cp.start();
  for (const p of opened) assert.equal(mode(p), 0o600, p);
  assert.equal(mode(cp.dataDir), 0o700);
  assert.equal(mode(path.join(cp.dataDir, 'edge')), 0o700);
  const fixed = warnings(readFileSync(cp.logFile, 'utf8').slice(logBefore));
  assert.ok(fixed.every((w) => w.level === 40), 'warnings');
  const byPath = new Map(fixed.map((w) => [w.path, w]));
  assert.deepEqual(byPath.get(cp.dataDir), { ...byPath.get(cp.dataDir)!, mode: '0755', fixedTo: '0700' });
  for (const p of opened) assert.deepEqual(byPath.get(p), { ...byPath.get(p)!, mode: '0644', fixedTo: '0600' }, p);
  assert.ok(fixed.length <= 20, 'individual warnings are bounded');
  const open = everything(cp.dataDir).filter((p) => (mode(p) & 0o077) !== 0);
  assert.deepEqual(open, []);
  assert.equal((await cp.client.health()).ok, true, 'the server runs on the fixed directory');
});
