import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { defaultDataDir } from '../cli/locations';
import { LETS_ENCRYPT } from '../https-options';
import { optionsFromEnv, resolveOptions, toOptions } from './control-plane-options';
import { readSettings, settingsOrThrow } from './read-settings';
import { defaultOf, SERVER_SETTINGS, SETTING_KEYS, settingSpec } from './server-settings';

const GIB = 1024 ** 3;

test('defaults: what the server has always used when nothing is set', () => {
  const o = optionsFromEnv({});
  const { requestMetrics, minFreeDisk, ...rest } = o;
  assert.deepEqual(rest, {
    dataDir: defaultDataDir({}),
    apiHost: '127.0.0.1',
    apiPort: 7420,
    httpPort: 80,
    edgeBind: '0.0.0.0',
    network: 'slipway',
    subnetPool: '10.213.0.0/16',
    dockerSocket: '/var/run/docker.sock',
    logLevel: 'info',
    adminToken: undefined,
    adminPassword: undefined,
    maxSourceBytes: 2 * GIB,
    masterKey: null,
    masterKeyPrevious: null,
    natsUrl: null,
    dashboardDir: rest.dashboardDir,
    edgePrometheus: null,
    metricsAccess: 'loopback',
    strictResponses: false,
    statsIntervalMs: 5000,
    reconcileIntervalMs: 5000,
    backupTickMs: 60_000,
    alertIntervalMs: 10_000,
    statsConcurrency: 32,
    readyTimeoutMs: 1000,
    httpsPort: 443,
    acmeDirectoryUrl: LETS_ENCRYPT,
    acmeEmail: null,
    domain: null,
    certIntervalMs: 30_000,
    certRetryMs: 60_000,
    accessoryImagePrefix: 'slipway',
  });
  assert.match(rest.dashboardDir!, /web[/\\]dist$/);
  assert.deepEqual(minFreeDisk, { percent: 10, bytes: 2 * GIB });
  const { trustedProxies, ...metrics } = requestMetrics!;
  assert.deepEqual(metrics, { listen: { socket: null }, bufferBytes: 32 * 1024 * 1024, recentPerService: 10_000, maxRoutesPerService: 200, retentionMs: 14 * 86_400_000, flushIntervalMs: 5000 });
  assert.deepEqual(trustedProxies.cidrs, []);
});

test('every variable is read, in the forms the tests and scripts set', () => {
  const o = optionsFromEnv({
    SLIPWAY_DATA_DIR: 'rel/data',
    SLIPWAY_API_HOST: '0.0.0.0',
    SLIPWAY_API_PORT: '0',
    SLIPWAY_HTTP_PORT: '18080',
    SLIPWAY_HTTPS_PORT: 'off',
    SLIPWAY_EDGE_BIND: '127.0.0.1',
    SLIPWAY_DOCKER_NETWORK: 'slwtest',
    SLIPWAY_SUBNET_POOL: '10.50.0.0/16',
    DOCKER_SOCKET: '/run/docker.sock',
    SLIPWAY_LOG_LEVEL: 'debug',
    SLIPWAY_ADMIN_TOKEN: 'slw_t',
    SLIPWAY_ADMIN_PASSWORD: 'pw',
    SLIPWAY_MASTER_KEY: 'k1',
    SLIPWAY_MASTER_KEY_PREVIOUS: 'k0',
    NATS_URL: 'nats://127.0.0.1:4222',
    SLIPWAY_DASHBOARD_DIR: '/srv/dash',
    SLIPWAY_MAX_SOURCE_BYTES: '1000',
    SLIPWAY_STRICT_RESPONSES: '1',
    SLIPWAY_METRICS_ACCESS: 'public',
    SLIPWAY_EDGE_PROMETHEUS: '127.0.0.1:8405',
    SLIPWAY_STATS_INTERVAL: '0',
    SLIPWAY_RECONCILE_INTERVAL: 'off',
    SLIPWAY_BACKUP_TICK: '500ms',
    SLIPWAY_STATS_CONCURRENCY: '4',
    SLIPWAY_READY_TIMEOUT: '2',
    SLIPWAY_ACME: 'off',
    SLIPWAY_ACME_EMAIL: 'ops@example.com',
    SLIPWAY_DOMAIN: 'Deploy.Example.com',
    SLIPWAY_CERT_INTERVAL: '1s',
    SLIPWAY_CERT_RETRY: '0',
    SLIPWAY_MIN_FREE_DISK: '0',
    SLIPWAY_ACCESSORY_IMAGE_PREFIX: 'registry.local:5000/team/',
    SLIPWAY_REQUEST_LOG_LISTEN: '[::1]:9000',
    SLIPWAY_REQUEST_LOG_BUFFER: '1048576',
    SLIPWAY_TRUSTED_PROXIES: '10.0.0.0/8',
    SLIPWAY_RECENT_REQUESTS: '50',
    SLIPWAY_ROUTES_PER_SERVICE: '20',
    SLIPWAY_METRICS_RETENTION: '2d',
    SLIPWAY_METRICS_FLUSH_INTERVAL: '1s',
  });
  assert.equal(o.dataDir, path.resolve('rel/data'));
  assert.equal(o.apiHost, '0.0.0.0');
  assert.equal(o.apiPort, 0);
  assert.equal(o.httpPort, 18080);
  assert.equal(o.httpsPort, null);
  assert.equal(o.edgeBind, '127.0.0.1');
  assert.equal(o.network, 'slwtest');
  assert.equal(o.subnetPool, '10.50.0.0/16');
  assert.equal(o.dockerSocket, '/run/docker.sock');
  assert.equal(o.logLevel, 'debug');
  assert.equal(o.adminToken, 'slw_t');
  assert.equal(o.adminPassword, 'pw');
  assert.equal(o.masterKey, 'k1');
  assert.equal(o.masterKeyPrevious, 'k0');
  assert.equal(o.natsUrl, 'nats://127.0.0.1:4222');
  assert.equal(o.dashboardDir, '/srv/dash');
  assert.equal(o.maxSourceBytes, 1000);
  assert.equal(o.strictResponses, true);
  assert.equal(o.metricsAccess, 'public');
  assert.deepEqual(o.edgePrometheus, { host: '127.0.0.1', port: 8405 });
  assert.equal(o.statsIntervalMs, 0, '0 turns sampling off');
  assert.equal(o.reconcileIntervalMs, 0, 'off turns the reconciler off');
  assert.equal(o.backupTickMs, 500);
  assert.equal(o.statsConcurrency, 4);
  assert.equal(o.readyTimeoutMs, 2000, 'bare seconds');
  assert.equal(o.acmeDirectoryUrl, null);
  assert.equal(o.acmeEmail, 'ops@example.com');
  assert.equal(o.domain, 'deploy.example.com');
  assert.equal(o.certIntervalMs, 1000);
  assert.equal(o.certRetryMs, 60_000, 'a timer that cannot be off: 0 is the default');
  assert.deepEqual(o.minFreeDisk, { percent: null, bytes: 0 });
  assert.equal(o.accessoryImagePrefix, 'registry.local:5000/team', 'a trailing / is dropped');
  const m = o.requestMetrics!;
  assert.deepEqual(m.listen, { host: '::1', port: 9000 });
  assert.equal(m.bufferBytes, 1048576);
  assert.ok(m.trustedProxies.has('10.1.1.1'));
  assert.equal(m.recentPerService, 50);
  assert.equal(m.maxRoutesPerService, 20);
  assert.equal(m.retentionMs, 2 * 86_400_000);
  assert.equal(m.flushIntervalMs, 1000);
});

test('an empty variable is unset: the default', () => {
  const o = optionsFromEnv({ SLIPWAY_API_HOST: '', SLIPWAY_API_PORT: '', SLIPWAY_HTTPS_PORT: '', SLIPWAY_MIN_FREE_DISK: '', SLIPWAY_EDGE_PROMETHEUS: '', NATS_URL: '' });
  assert.equal(o.apiHost, '127.0.0.1');
  assert.equal(o.apiPort, 7420);
  assert.equal(o.httpsPort, 443);
  assert.deepEqual(o.minFreeDisk, { percent: 10, bytes: 2 * GIB });
  assert.equal(o.edgePrometheus, null);
  assert.equal(o.natsUrl, null);
});

test('a flag wins over its variable; a switch flag is true', () => {
  const s = settingsOrThrow({
    env: { SLIPWAY_API_PORT: '9000', SLIPWAY_LOG_LEVEL: 'warn', SLIPWAY_DATA_DIR: '/from/env', SLIPWAY_STRICT_RESPONSES: '0' },
    flags: { apiPort: '9100', dataDir: 'rel', strictResponses: true },
  });
  assert.equal(s.apiPort, 9100);
  assert.equal(s.dataDir, path.resolve('rel'));
  assert.equal(s.strictResponses, true);
  assert.equal(s.logLevel, 'warn', 'no flag: the variable');
});

test('a bad value names its variable (or flag) and the form expected; every problem is reported at once', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['SLIPWAY_API_PORT', 'x', /^SLIPWAY_API_PORT: expected a port number \(0-65535\), got "x"$/],
    ['SLIPWAY_HTTP_PORT', '70000', /^SLIPWAY_HTTP_PORT: expected a port number \(0-65535\), got "70000"$/],
    ['SLIPWAY_HTTPS_PORT', 'none', /^SLIPWAY_HTTPS_PORT: expected a port number \(0-65535\) or off, got "none"$/],
    ['SLIPWAY_STATS_INTERVAL', 'soon', /^SLIPWAY_STATS_INTERVAL: expected a duration such as 5s or 500ms \(0 or off to disable\), got "soon"$/],
    ['SLIPWAY_READY_TIMEOUT', '1 s', /^SLIPWAY_READY_TIMEOUT: expected a duration such as 5s or 500ms/],
    ['SLIPWAY_STATS_CONCURRENCY', '0', /^SLIPWAY_STATS_CONCURRENCY: expected a whole number from 1 to 1000, got "0"$/],
    ['SLIPWAY_MAX_SOURCE_BYTES', '-1', /^SLIPWAY_MAX_SOURCE_BYTES: expected a size in bytes \(a whole number ≥ 1\), got "-1"$/],
    ['SLIPWAY_METRICS_ACCESS', 'everyone', /^SLIPWAY_METRICS_ACCESS: expected one of loopback, token, public, got "everyone"$/],
    ['SLIPWAY_LOG_LEVEL', 'loud', /^SLIPWAY_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent/],
    ['SLIPWAY_STRICT_RESPONSES', 'maybe', /^SLIPWAY_STRICT_RESPONSES: expected 1 or 0, got "maybe"$/],
    ['SLIPWAY_SUBNET_POOL', '10.213.0.0/25', /^SLIPWAY_SUBNET_POOL: expected an IPv4 range of \/24 or larger/],
    ['SLIPWAY_ACME', 'http://ca.internal/dir', /^SLIPWAY_ACME: an ACME directory is served over https/],
    ['SLIPWAY_DOMAIN', 'https://x.example.com', /^SLIPWAY_DOMAIN: expected a host name/],
    ['SLIPWAY_MIN_FREE_DISK', 'lots', /^SLIPWAY_MIN_FREE_DISK: expected a percentage and\/or a size/],
    ['SLIPWAY_EDGE_PROMETHEUS', '8405', /^SLIPWAY_EDGE_PROMETHEUS: expected <ip>:<port>/],
    ['SLIPWAY_ACCESSORY_IMAGE_PREFIX', 'My Images', /^SLIPWAY_ACCESSORY_IMAGE_PREFIX: expected an image repository prefix such as slipway/],
    ['SLIPWAY_REQUEST_LOG_LISTEN', 'localhost:7421', /^SLIPWAY_REQUEST_LOG_LISTEN: expected unix/],
    ['SLIPWAY_REQUEST_LOG_BUFFER', '10', /^SLIPWAY_REQUEST_LOG_BUFFER: expected a size in bytes \(a whole number from 65536 to 2147483647\)/],
    ['SLIPWAY_TRUSTED_PROXIES', '10.0.0.0/40', /^SLIPWAY_TRUSTED_PROXIES: "10.0.0.0\/40" is not an IP address or CIDR/],
    ['SLIPWAY_RECENT_REQUESTS', '0', /^SLIPWAY_RECENT_REQUESTS: expected a whole number from 1 to 1000000/],
    ['SLIPWAY_ROUTES_PER_SERVICE', 'x', /^SLIPWAY_ROUTES_PER_SERVICE: expected a whole number from 1 to 100000/],
    ['SLIPWAY_METRICS_RETENTION', '10m', /^SLIPWAY_METRICS_RETENTION: expected a duration of at least 1h/],
    ['SLIPWAY_METRICS_FLUSH_INTERVAL', 'off', /^SLIPWAY_METRICS_FLUSH_INTERVAL: expected a duration of at least 100ms/],
  ];
  for (const [name, value, expected] of cases) {
    const r = readSettings({ env: { [name]: value } });
    assert.ok(!r.ok, `${name}=${value} is refused`);
    assert.equal(r.problems.length, 1, `${name}=${value}: ${r.problems.join('; ')}`);
    assert.match(r.problems[0]!, expected);
  }
  const all = readSettings({ env: Object.fromEntries(cases.map(([name, value]) => [name, value])) });
  assert.ok(!all.ok);
  assert.equal(all.problems.length, cases.length);

  const flagged = readSettings({ env: { SLIPWAY_API_PORT: '7420' }, flags: { apiPort: 'x', reconcileIntervalMs: 'soon' } });
  assert.ok(!flagged.ok);
  assert.deepEqual(flagged.problems.map((p) => p.split(':')[0]), ['--api-port', '--reconcile-interval']);

  assert.throws(() => optionsFromEnv({ SLIPWAY_API_PORT: 'x', SLIPWAY_BACKUP_TICK: 'never' }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'SLW_CONFIG_INVALID');
    assert.match(err.message, /^SLIPWAY_API_PORT: .*\nSLIPWAY_BACKUP_TICK: /);
    return true;
  });
});

test('the table: one variable and one flag per setting; each default, written out, reads back as itself', () => {
  const envs = SETTING_KEYS.map((k) => settingSpec(k).env);
  const flags = SETTING_KEYS.map((k) => settingSpec(k).flag).filter((f) => f !== null);
  assert.equal(new Set(envs).size, envs.length, 'variables are unique');
  assert.equal(new Set(flags).size, flags.length, 'flags are unique');
  for (const key of SETTING_KEYS) {
    const spec = settingSpec(key);
    assert.ok(spec.doc.length > 10 && !spec.doc.endsWith('.'), `${key}: one line of doc, no final period`);
    if (spec.flag !== null) assert.match(spec.flag, /^--[a-z]+(-[a-z]+)*$/, `${key}: a kebab-case flag`);
    if (spec.defaultText !== undefined) continue;
    const written = spec.kind.format(defaultOf(key));
    if (written === '') continue; // none
    assert.deepEqual(spec.kind.parse(written, spec.env), defaultOf(key), `${key}: ${written}`);
  }
  // Secrets never get a flag: a command line is visible to every user of the host.
  for (const key of ['adminToken', 'adminPassword', 'masterKey', 'masterKeyPrevious', 'natsUrl'] as const) assert.equal(SERVER_SETTINGS[key].flag, null, key);
});

test('startControlPlane fills in what its caller left out: the defaults, and the env-read settings from opts.env', () => {
  const given = { ...toOptions(settingsOrThrow({ env: {} })), statsIntervalMs: 0 };
  const full = resolveOptions({ ...given, natsUrl: undefined, requestMetrics: undefined, masterKey: undefined, env: { NATS_URL: 'nats://n:4222', SLIPWAY_RECENT_REQUESTS: '7', SLIPWAY_MASTER_KEY: 'k' } });
  assert.equal(full.statsIntervalMs, 0, 'given: kept');
  assert.equal(full.natsUrl, 'nats://n:4222');
  assert.equal(full.requestMetrics.recentPerService, 7);
  assert.equal(full.masterKey, 'k');

  const bare = resolveOptions({ dataDir: '/d', apiHost: '127.0.0.1', apiPort: 0, httpPort: 8080, edgeBind: '127.0.0.1', network: 'n', logLevel: 'info', maxSourceBytes: 1, env: {} });
  assert.equal(bare.reconcileIntervalMs, 5000);
  assert.equal(bare.certIntervalMs, 30_000);
  assert.equal(bare.httpsPort, 443);
  assert.equal(bare.subnetPool, '10.213.0.0/16');
  assert.equal(bare.requestMetrics.flushIntervalMs, 5000);
  assert.equal(bare.dataDir, '/d');

  // A bad variable of a setting the caller gave is not read.
  const metrics = given.requestMetrics;
  assert.equal(resolveOptions({ ...given, requestMetrics: metrics, env: { SLIPWAY_RECENT_REQUESTS: 'x' } }).requestMetrics, metrics);
  assert.throws(() => resolveOptions({ ...given, requestMetrics: undefined, env: { SLIPWAY_RECENT_REQUESTS: 'x' } }), /SLIPWAY_RECENT_REQUESTS: expected a whole number/);
});
