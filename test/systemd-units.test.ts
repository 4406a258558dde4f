/**
 * `slipway install` / `uninstall` as an operator runs them, into a temporary root (`--root`, like
 * systemctl --root: nothing on this host changes), against a real control plane and a real
 * HAProxy edge: the unit written is valid for systemd, the edge outlives what KillMode=process
 * does on `systemctl restart slipway` (SIGTERM to the node process only), uninstall keeps the
 * edge and the data unless --stop-edge is asked for.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { renderControlPlaneUnit } from '../src/cli/systemd-units';
import { ControlPlaneProcess } from './support/control-plane-process';

const execFileP = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/slipway.mjs');
const root = mkdtempSync(path.join(os.tmpdir(), 'slipway-sysroot-'));
const unitFile = path.join(root, 'etc/systemd/system/slipway.service');
const wantsLink = path.join(root, 'etc/systemd/system/multi-user.target.wants/slipway.service');
const envFile = path.join(root, 'etc/slipway/slipway.env');
const hasSystemctl = spawnSync('systemctl', ['--version']).status === 0;
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const cp = await ControlPlaneProcess.create('systemd');

after(async () => {
  await cp.destroy();
  rmSync(root, { recursive: true, force: true });
});

async function slipway(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // No SLIPWAY_DATA_DIR from the test runner's environment: --data-dir or the system default.
  const env = { ...process.env };
  delete env.SLIPWAY_DATA_DIR;
  try {
    return { code: 0, ...(await execFileP(process.execPath, [BIN, ...args], { env })) };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function edgePid(): number {
  return Number(readFileSync(path.join(cp.dataDir, 'edge/haproxy.pid'), 'utf8').trim().split('\n')[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Whether something accepts connections on the edge's port. */
function edgeListening(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(cp.httpPort, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

test('install --dry-run prints the unit and writes nothing', async () => {
  const r = await slipway('install', '--dry-run', '--root', root, '--data-dir', cp.dataDir, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { dryRun: boolean; files: Array<{ path: string; mode: string; content: string }> };
  assert.deepEqual(
    out.files.map((f) => [f.path, f.mode]),
    [
      ['/etc/slipway/slipway.env', '600'],
      ['/etc/systemd/system/slipway.service', '644'],
    ],
  );
  assert.match(out.files[1]!.content, new RegExp(`^ExecStart=${process.execPath} ${BIN} server --data-dir ${cp.dataDir}$`, 'm'));
  assert.equal(existsSync(path.join(root, 'etc')), false);
});

test('bad input is refused naming the option, and nothing is written', async () => {
  const user = await slipway('install', '--root', root, '--user', 'Bad User');
  assert.equal(user.code, 1);
  assert.match(user.stderr, /--user: expected a user name .*got "Bad User"/);
  const dir = await slipway('install', '--root', root, '--data-dir', '/srv/my slipway');
  assert.equal(dir.code, 1);
  assert.match(dir.stderr, /--data-dir: expected an absolute path .*got "\/srv\/my slipway"/);
  assert.equal(existsSync(path.join(root, 'etc')), false);
});

test('install writes a valid unit with absolute paths, enabled at boot, and keeps the operator’s settings', async () => {
  const r = await slipway('install', '--root', root, '--data-dir', cp.dataDir, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { files: Array<{ path: string; action: string }>; systemd: string; ran: string[] };
  assert.equal(out.systemd, 'offline');
  assert.deepEqual(out.files, [
    { path: '/etc/slipway/slipway.env', action: 'written' },
    { path: '/etc/systemd/system/slipway.service', action: 'written' },
  ]);
  const unit = readFileSync(unitFile, 'utf8');
  assert.equal(unit, renderControlPlaneUnit({ nodeBin: process.execPath, slipwayBin: BIN, repoDir: ROOT, dataDir: cp.dataDir, user: 'root', envFile: '/etc/slipway/slipway.env' }));
  assert.equal(statSync(unitFile).mode & 0o777, 0o644);
  assert.equal(statSync(envFile).mode & 0o777, 0o600);
  if (hasSystemctl) {
    assert.deepEqual(out.ran, [`systemctl --root=${root} enable slipway.service`]);
    assert.ok(lstatSync(wantsLink).isSymbolicLink(), 'enabled: multi-user.target wants slipway.service');
  }
  if (hasAnalyze) {
    const v = spawnSync('systemd-analyze', ['verify', '--man=no', unitFile], { encoding: 'utf8' });
    assert.equal(`${v.status} ${v.stdout}${v.stderr}`.trim(), '0', 'systemd-analyze verify finds nothing to complain about');
  }

  // Upgrade: a second install rewrites the unit and leaves the settings the operator wrote alone.
  writeFileSync(envFile, 'SLIPWAY_HTTP_PORT=8080\n');
  const again = await slipway('install', '--root', root, '--data-dir', cp.dataDir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^kept +.*slipway\.env$/m);
  assert.equal(readFileSync(envFile, 'utf8'), 'SLIPWAY_HTTP_PORT=8080\n');
  assert.equal(readFileSync(unitFile, 'utf8'), unit);
});

test('the edge outlives a control-plane restart and uninstall; --stop-edge stops it', async () => {
  await cp.start();
  const pid = edgePid();
  assert.ok(alive(pid) && (await edgeListening()), 'the control plane started the edge');

  // While a control plane runs it would restart the edge: --stop-edge refuses, and removes nothing.
  const refused = await slipway('uninstall', '--root', root, '--data-dir', cp.dataDir, '--stop-edge');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--stop-edge: a control plane \(pid \d+\) still runs/);
  assert.ok(alive(pid));

  // `systemctl restart slipway` with KillMode=process: SIGTERM to the node process only.
  await cp.stop();
  assert.ok(alive(pid) && (await edgeListening()), 'the edge keeps serving while the control plane is down');
  await cp.start();
  assert.equal(edgePid(), pid, 'the new control plane adopted the running edge');
  await cp.stop();

  const r = await slipway('uninstall', '--root', root, '--data-dir', cp.dataDir, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { removed: string[]; edge: string };
  assert.deepEqual(out.removed, [unitFile]);
  assert.equal(out.edge, 'kept');
  assert.equal(existsSync(unitFile), false);
  assert.equal(existsSync(wantsLink), false, 'disabled');
  assert.ok(existsSync(envFile) && existsSync(path.join(cp.dataDir, 'edge')), 'settings and data stay');
  assert.ok(alive(pid) && (await edgeListening()), 'uninstall leaves the edge serving');

  const stop = await slipway('uninstall', '--root', root, '--data-dir', cp.dataDir, '--stop-edge');
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, /edge: stopped/);
  assert.equal(alive(pid), false);
  assert.equal(await edgeListening(), false);
});
