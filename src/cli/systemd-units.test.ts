import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkUnitSettings, renderControlPlaneUnit, renderInstallFiles, type UnitSettings } from './systemd-units';

const settings: UnitSettings = {
  nodeBin: process.execPath,
  slipwayBin: '/opt/slipway/bin/slipway.mjs',
  repoDir: '/opt/slipway',
  dataDir: '/var/lib/slipway',
  user: 'root',
  envFile: '/etc/slipway/slipway.env',
};

/** `[Section]` → `Key` → values, in order (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | null = null;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `not a key=value line inside a section: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

test('the control-plane unit restarts the control plane always and never signals the edge it started', () => {
  const unit = parseUnit(renderControlPlaneUnit(settings));
  const service = unit.get('Service')!;
  assert.deepEqual(service.get('Restart'), ['always']);
  // Only the node process is signalled on stop/restart: HAProxy, its child, keeps serving (invariant 1).
  assert.deepEqual(service.get('KillMode'), ['process']);
  assert.deepEqual(service.get('OOMPolicy'), ['continue']);
  assert.deepEqual(unit.get('Unit')!.get('StartLimitIntervalSec'), ['0']);
  assert.deepEqual(service.get('ExecStart'), [`${process.execPath} /opt/slipway/bin/slipway.mjs server --data-dir /var/lib/slipway`]);
  assert.deepEqual(service.get('EnvironmentFile'), ['-/etc/slipway/slipway.env']);
  assert.deepEqual(service.get('Environment'), ['SLIPWAY_DATA_DIR=/var/lib/slipway']);
  assert.deepEqual(unit.get('Unit')!.get('After'), ['docker.service network-online.target']);
  assert.deepEqual(unit.get('Unit')!.get('Wants'), ['docker.service network-online.target']);
  assert.deepEqual(unit.get('Install')!.get('WantedBy'), ['multi-user.target']);
  assert.equal(service.get('User'), undefined, 'root is systemd’s default: no User=');
});

test('hardening keeps the Docker socket and the data directory reachable', () => {
  const service = parseUnit(renderControlPlaneUnit(settings)).get('Service')!;
  assert.deepEqual(service.get('ProtectSystem'), ['full'], 'strict would hide /run/docker.sock and /var/lib');
  assert.deepEqual(service.get('ReadWritePaths'), ['-/var/lib/slipway -/opt/slipway/dist']);
  assert.deepEqual(service.get('NoNewPrivileges'), ['yes']);
  // A per-start mount namespace for /tmp would stay held by a left-over edge; node needs W^X off for its JIT.
  for (const key of ['PrivateTmp', 'MemoryDenyWriteExecute', 'ProtectHome', 'PrivateDevices']) assert.equal(service.get(key), undefined, key);
});

test('a non-root account gets the docker group and the right to bind the edge’s ports below 1024', () => {
  const service = parseUnit(renderControlPlaneUnit({ ...settings, user: 'slipway' })).get('Service')!;
  assert.deepEqual(service.get('User'), ['slipway']);
  assert.deepEqual(service.get('SupplementaryGroups'), ['docker']);
  assert.deepEqual(service.get('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE']);
});

test('install writes the environment file 0600 and only when absent, the unit 0644', () => {
  const files = renderInstallFiles(settings);
  assert.deepEqual(
    files.map((f) => [f.path, f.mode.toString(8), f.keepExisting]),
    [
      ['/etc/slipway/slipway.env', '600', true],
      ['/etc/systemd/system/slipway.service', '644', false],
    ],
  );
  // Every setting is commented out: the defaults apply until the operator sets one.
  assert.ok(files[0]!.content.split('\n').every((l) => l === '' || l.startsWith('#')));
});

test('unsafe settings are refused with the field named', () => {
  assert.deepEqual(checkUnitSettings(settings), []);
  const cases: Array<[Partial<UnitSettings>, RegExp]> = [
    [{ dataDir: 'var/lib/slipway' }, /^--data-dir: expected an absolute path/],
    [{ dataDir: '/srv/my slipway' }, /^--data-dir: .*got "\/srv\/my slipway"/],
    [{ dataDir: '/srv/100%' }, /^--data-dir: /],
    [{ dataDir: '/srv/../etc' }, /^--data-dir: /],
    [{ dataDir: '/' }, /^--data-dir: must not be the root directory/],
    [{ nodeBin: '/home/me/.nvm/versions/node/v20 x/bin/node' }, /^node binary: /],
    [{ repoDir: '/opt/slip way' }, /^repository: /],
    [{ user: 'Bad User' }, /^--user: expected a user name/],
    [{ user: 'root; rm -rf /' }, /^--user: /],
  ];
  for (const [change, expected] of cases) {
    const problems = checkUnitSettings({ ...settings, ...change });
    assert.equal(problems.length, 1, JSON.stringify(change));
    assert.match(problems[0]!, expected);
  }
});

const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** `systemd-analyze verify` offline: any complaint (exit code or a warning line) is a failure. */
function verify(unitText: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-unit-'));
  try {
    const file = path.join(dir, 'slipway.service');
    writeFileSync(file, unitText);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
    return `${r.status === 0 ? '' : `exit ${r.status}\n`}${r.stdout}${r.stderr}`.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('systemd-analyze verify accepts the rendered units', { skip: !analyze && 'systemd-analyze is not installed (Debian package systemd)' }, () => {
  assert.equal(verify(renderControlPlaneUnit(settings)), '');
  assert.equal(verify(renderControlPlaneUnit({ ...settings, user: 'slipway', dataDir: '/srv/slipway' })), '');
});

test('the verification fails on a malformed unit (the check above can fail)', { skip: !analyze && 'systemd-analyze is not installed (Debian package systemd)' }, () => {
  const unit = renderControlPlaneUnit(settings);
  assert.match(verify(unit.replace('KillMode=process', 'KillMode=proces')), /kill mode/i);
  assert.match(verify(unit.replace('Restart=always', 'Restrat=always')), /Unknown key/);
  assert.match(verify(unit.replace(process.execPath, '/nonexistent/node')), /not executable|No such file/);
  assert.match(verify(unit.replace('[Service]', '[Servce]')), /Unknown section|bad unit file setting/);
});
