/**
 * Every setting of `slipway server`, once: its environment variable, its flag, the kind of
 * value with its bounds, its default and one line of documentation. Reading them
 * (read-settings.ts), `slipway server --help` (settings-help.ts) and the table in
 * docs/operations.md (settings-docs.ts, `npm run docs:settings`) all come from here.
 *
 * Secrets, and values that may carry one (NATS_URL), have no flag: a command line is visible
 * to every user of the host (`ps`).
 */
import { METRICS_ACCESS } from '../api/api-deps';
import { builtInDashboardDir } from '../api/dashboard-assets';
import { defaultDataDir, DEFAULT_API_PORT } from '../cli/locations';
import { DEFAULT_MIN_FREE_DISK, parseMinFreeDisk, type MinFreeDisk } from '../core/disk-threshold';
import { DEFAULT_ACCESSORY_IMAGE_PREFIX, parseAccessoryImagePrefix } from '../drivers/docker/accessory-recipes';
import { DEFAULT_DOCKER_SOCKET, DEFAULT_NETWORK } from '../drivers/docker/docker-runtime';
import { DEFAULT_SUBNET_POOL, parseSubnetPool } from '../drivers/docker/subnet-pool';
import { acmeDirectoryFrom, controlDomainFrom, LETS_ENCRYPT, LETS_ENCRYPT_STAGING } from '../https-options';
import { parseTrustedProxies } from '../observe/client-ip';
import { DEFAULT_REQUEST_LOG_LISTEN, parseListenAddress, parseRequestLogListen, type RequestLogListen } from '../observe/request-metrics-config';
import { bytes, choice, count, custom, duration, filePath, optional, port, secret, text, toggle, type SettingKind } from './setting-kinds';

export const SETTING_GROUPS = ['API and data', 'Edge and HTTPS', 'Docker', 'Background work', 'Request metrics'] as const;

export interface SettingSpec<T> {
  /** The environment variable (`SLIPWAY_API_PORT`). */
  env: string;
  /** The flag of `slipway server` (`--api-port`); null: the environment only (secrets). */
  flag: string | null;
  kind: SettingKind<T>;
  /** The value when neither the flag nor the variable is set (or set empty). */
  default: NoInfer<T> | (() => NoInfer<T>);
  /** The default in words, when it is not one value to type (Markdown: `code` in backticks). */
  defaultText?: string;
  /** One line (Markdown: `code` in backticks). */
  doc: string;
  group: (typeof SETTING_GROUPS)[number];
  /**
   * Read from the `env` of the options (else the process's) when a caller of startControlPlane
   * leaves it out, as the control plane always did for these.
   */
  envFallback?: true;
}

const setting = <T>(spec: SettingSpec<T>): SettingSpec<T> => spec;

const PINO_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const acmeKind = custom<string | null>('<ca>', acmeDirectoryFrom, (v) => (v === LETS_ENCRYPT ? 'letsencrypt' : v === LETS_ENCRYPT_STAGING ? 'letsencrypt-staging' : (v ?? 'off')));
const listenAddressKind = custom('<ip:port|off>', parseListenAddress, (v) => (v === null ? 'off' : `${v.host.includes(':') ? `[${v.host}]` : v.host}:${v.port}`));
const requestLogListenKind = custom<RequestLogListen | null>('<unix|path|ip:port|off>', parseRequestLogListen, (v) =>
  v === null ? 'off' : 'socket' in v ? (v.socket ?? 'unix') : `${v.host.includes(':') ? `[${v.host}]` : v.host}:${v.port}`,
);
const minFreeDiskKind = custom<MinFreeDisk>('<limit>', parseMinFreeDisk, (v) => [v.percent === null ? null : `${v.percent}%`, v.bytes === null ? null : String(v.bytes)].filter((x) => x !== null).join(',') || '0');

export const SERVER_SETTINGS = {
  // API and data
  dataDir: setting({
    env: 'SLIPWAY_DATA_DIR', flag: '--data-dir', kind: filePath('<dir>'), group: 'API and data',
    default: () => defaultDataDir({}), defaultText: '`/var/lib/slipway` as root, else `~/.slipway`',
    doc: 'the data directory: state, keys, tokens, uploaded sources, certificates, the edge\'s files (see "Data directory")',
  }),
  apiHost: setting({
    env: 'SLIPWAY_API_HOST', flag: '--api-host', kind: text('<host>'), group: 'API and data', default: '127.0.0.1',
    doc: 'the address the API and the dashboard listen on; the default is loopback only (from elsewhere: through the edge, with `SLIPWAY_DOMAIN`)',
  }),
  apiPort: setting({ env: 'SLIPWAY_API_PORT', flag: '--api-port', kind: port(), group: 'API and data', default: DEFAULT_API_PORT, doc: 'the port of the API and the dashboard (0: any free port, written to `<data-dir>/server.json`)' }),
  logLevel: setting({ env: 'SLIPWAY_LOG_LEVEL', flag: '--log-level', kind: choice(PINO_LEVELS, '<level>'), group: 'API and data', default: 'info', doc: `pino JSON logs on stdout from this level up: ${PINO_LEVELS.join(', ')}` }),
  adminToken: setting({
    env: 'SLIPWAY_ADMIN_TOKEN', flag: null, kind: optional(secret()), group: 'API and data', default: null, defaultText: 'generated on first start',
    doc: 'the admin API token, kept in `<data-dir>/admin-token` (0600)',
  }),
  adminPassword: setting({
    env: 'SLIPWAY_ADMIN_PASSWORD', flag: null, kind: optional(secret()), group: 'API and data', default: null, defaultText: 'generated',
    doc: 'the password of the `admin` user created on first start; a generated one is printed once on a terminal, else written to `<data-dir>/admin-password` (0600)',
  }),
  masterKey: setting({
    env: 'SLIPWAY_MASTER_KEY', flag: null, kind: optional(secret()), group: 'API and data', default: null, defaultText: '`<data-dir>/master.key`', envFallback: true,
    doc: 'the master key secrets are sealed under (64 hex or 44 base64 characters), to keep it off the host (docs/secrets.md)',
  }),
  masterKeyPrevious: setting({
    env: 'SLIPWAY_MASTER_KEY_PREVIOUS', flag: null, kind: optional(secret()), group: 'API and data', default: null, defaultText: 'none', envFallback: true,
    doc: 'the master key before a rotation, still used to open what it sealed (docs/secrets.md)',
  }),
  maxSourceBytes: setting({
    env: 'SLIPWAY_MAX_SOURCE_BYTES', flag: '--max-source-bytes', kind: bytes(1), group: 'API and data', default: 2 * 1024 ** 3, defaultText: '`2147483648` (2 GiB)',
    doc: 'the largest build context an upload may carry (see "Builds")',
  }),
  dashboardDir: setting({
    env: 'SLIPWAY_DASHBOARD_DIR', flag: '--dashboard-dir', kind: filePath('<dir>'), group: 'API and data', default: builtInDashboardDir, defaultText: '`web/dist` of this checkout', envFallback: true,
    doc: 'the dashboard build served at `/` (docs/dashboard.md)',
  }),
  metricsAccess: setting({
    env: 'SLIPWAY_METRICS_ACCESS', flag: '--metrics-access', kind: choice(METRICS_ACCESS), group: 'API and data', default: 'loopback',
    doc: 'who may scrape `GET /metrics`: `loopback` (no token from this host), `token` (always a `read` token), `public` (docs/observability.md)',
  }),
  readyTimeoutMs: setting({ env: 'SLIPWAY_READY_TIMEOUT', flag: '--ready-timeout', kind: duration({ zero: 'default' }), group: 'API and data', default: 1000, doc: 'the time each dependency check of `GET /readyz` may take' }),
  strictResponses: setting({ env: 'SLIPWAY_STRICT_RESPONSES', flag: '--strict-responses', kind: toggle(), group: 'API and data', default: false, doc: 'check every JSON answer against its declared schema (`1`; the tests turn it on)' }),

  // Edge and HTTPS
  httpPort: setting({ env: 'SLIPWAY_HTTP_PORT', flag: '--http-port', kind: port(), group: 'Edge and HTTPS', default: 80, doc: 'the edge\'s public HTTP port' }),
  httpsPort: setting({ env: 'SLIPWAY_HTTPS_PORT', flag: '--https-port', kind: port({ off: true }), group: 'Edge and HTTPS', default: 443, doc: 'the edge\'s TLS port; `off`: HTTP only (docs/https.md)' }),
  edgeBind: setting({ env: 'SLIPWAY_EDGE_BIND', flag: '--edge-bind', kind: text('<address>'), group: 'Edge and HTTPS', default: '0.0.0.0', doc: 'the address the edge listens on' }),
  edgePrometheus: setting({
    env: 'SLIPWAY_EDGE_PROMETHEUS', flag: '--edge-prometheus', kind: listenAddressKind, group: 'Edge and HTTPS', default: null,
    doc: '`<ip>:<port>` where the edge serves HAProxy\'s Prometheus exporter (docs/observability.md)',
  }),
  acmeDirectoryUrl: setting({
    env: 'SLIPWAY_ACME', flag: '--acme', kind: acmeKind, group: 'Edge and HTTPS', default: LETS_ENCRYPT,
    doc: 'the ACME CA certificates come from: `letsencrypt`, `letsencrypt-staging`, an https:// directory URL, or `off` (docs/https.md)',
  }),
  acmeEmail: setting({ env: 'SLIPWAY_ACME_EMAIL', flag: '--acme-email', kind: optional(text('<email>')), group: 'Edge and HTTPS', default: null, defaultText: 'none', doc: 'the contact address given to the ACME CA' }),
  domain: setting({
    env: 'SLIPWAY_DOMAIN', flag: '--domain', kind: custom('<host>', controlDomainFrom, (v) => v ?? ''), group: 'Edge and HTTPS', default: null, defaultText: 'none',
    doc: 'the host name the dashboard and the API are served on through the edge, with a certificate (docs/https.md)',
  }),
  certIntervalMs: setting({ env: 'SLIPWAY_CERT_INTERVAL', flag: '--cert-interval', kind: duration({ zero: 'default' }), group: 'Edge and HTTPS', default: 30_000, doc: 'the longest time between certificate passes' }),
  certRetryMs: setting({
    env: 'SLIPWAY_CERT_RETRY', flag: '--cert-retry', kind: duration({ zero: 'default' }), group: 'Edge and HTTPS', default: 60_000,
    doc: 'the wait before the first retry of a failed certificate order, doubling up to 6 h',
  }),

  // Docker
  dockerSocket: setting({ env: 'DOCKER_SOCKET', flag: '--docker-socket', kind: filePath(), group: 'Docker', default: DEFAULT_DOCKER_SOCKET, doc: 'the Docker engine\'s API socket' }),
  network: setting({
    env: 'SLIPWAY_DOCKER_NETWORK', flag: '--network', kind: text('<name>'), group: 'Docker', default: DEFAULT_NETWORK,
    doc: 'the base name of Slipway\'s bridge networks; each project environment gets `<network>_<project>_<env>` (see "Networks and volumes")',
  }),
  subnetPool: setting({
    env: 'SLIPWAY_SUBNET_POOL', flag: '--subnet-pool', group: 'Docker', default: DEFAULT_SUBNET_POOL,
    kind: custom(
      '<cidr>',
      (t, name) => {
        parseSubnetPool(t, name);
        return t;
      },
      (v) => v,
    ),
    doc: 'the IPv4 range environment networks take their /24 subnets from (256 environments; a /15 gives 512)',
  }),
  minFreeDisk: setting({
    env: 'SLIPWAY_MIN_FREE_DISK', flag: '--min-free-disk', kind: minFreeDiskKind, group: 'Docker', default: () => parseMinFreeDisk(DEFAULT_MIN_FREE_DISK), defaultText: `\`${DEFAULT_MIN_FREE_DISK}\``,
    doc: 'free space Docker\'s data root must keep; below it builds and deployments are refused (`SLW_LOW_DISK`, see "Disk"); `0` turns it off',
  }),
  accessoryImagePrefix: setting({
    env: 'SLIPWAY_ACCESSORY_IMAGE_PREFIX', flag: '--accessory-image-prefix', kind: custom('<repo>', parseAccessoryImagePrefix, (v) => v), group: 'Docker', default: DEFAULT_ACCESSORY_IMAGE_PREFIX,
    doc: 'the repository the built-in accessory images are tagged under (`<repo>/postgres:15`, `<repo>/redis:7`, `<repo>/nats:2`), each built on first use when missing; another one builds its own copies beside the others (docs/accessory-images.md)',
  }),

  // Background work
  reconcileIntervalMs: setting({
    env: 'SLIPWAY_RECONCILE_INTERVAL', flag: '--reconcile-interval', kind: duration({ zero: 'off' }), group: 'Background work', default: 5000,
    doc: 'how often the reconciler repairs dead replicas of live releases and corrects the edge; `off`: never, no boot pass either (see "Replicas that die")',
  }),
  statsIntervalMs: setting({
    env: 'SLIPWAY_STATS_INTERVAL', flag: '--stats-interval', kind: duration({ zero: 'off' }), group: 'Background work', default: 5000,
    doc: 'the time between rounds of container and host stats; `off` disables them (docs/observability.md)',
  }),
  statsConcurrency: setting({
    env: 'SLIPWAY_STATS_CONCURRENCY', flag: '--stats-concurrency', kind: count(1, 1000), group: 'Background work', default: 32,
    doc: 'replicas whose stats are read at once; a round takes about ⌈replicas / this⌉ s',
  }),
  backupTickMs: setting({
    env: 'SLIPWAY_BACKUP_TICK', flag: '--backup-tick', kind: duration({ zero: 'off' }), group: 'Background work', default: 60_000,
    doc: 'how often scheduled backups and verifications are looked for (docs/backups.md); `off` runs none (by hand and before releases still run)',
  }),
  alertIntervalMs: setting({
    env: 'SLIPWAY_ALERT_INTERVAL', flag: '--alert-interval', kind: duration({ zero: 'off' }), group: 'Background work', default: 10_000,
    doc: 'how often the alert rules are judged (docs/alerts.md); `off`: no alerts',
  }),
  natsUrl: setting({
    env: 'NATS_URL', flag: null, kind: optional(text('<url>')), group: 'Background work', default: null, defaultText: 'none', envFallback: true,
    doc: 'also publish the control plane\'s events to this NATS server, e.g. `nats://127.0.0.1:4222` (docs/notifications.md)',
  }),

  // Request metrics (docs/observability.md)
  requestLogListen: setting({
    env: 'SLIPWAY_REQUEST_LOG_LISTEN', flag: '--request-log-listen', kind: requestLogListenKind, group: 'Request metrics', default: (): RequestLogListen => ({ socket: null }), defaultText: `\`${DEFAULT_REQUEST_LOG_LISTEN}\``, envFallback: true,
    doc: 'where the edge sends a line per request: `unix` (`<data-dir>/request-log.sock`), an absolute socket path, `<ip>:<port>` (legacy, weaker), or `off`: no request metrics',
  }),
  requestLogBufferBytes: setting({
    env: 'SLIPWAY_REQUEST_LOG_BUFFER', flag: '--request-log-buffer', kind: bytes(64 * 1024, 2 ** 31 - 1), group: 'Request metrics', default: 32 * 1024 * 1024, defaultText: '`33554432` (32 MiB)', envFallback: true,
    doc: 'the size of the edge\'s ring of request lines: what it keeps while the control plane is away',
  }),
  trustedProxies: setting({
    env: 'SLIPWAY_TRUSTED_PROXIES', flag: '--trusted-proxies', group: 'Request metrics', default: () => parseTrustedProxies(undefined), defaultText: 'none', envFallback: true,
    kind: custom('<cidrs>', parseTrustedProxies, (v) => v.cidrs.join(',')),
    doc: 'CIDRs of proxies in front of the edge whose `X-Forwarded-For` / `CF-Connecting-IP` are believed for the client IP',
  }),
  recentRequests: setting({ env: 'SLIPWAY_RECENT_REQUESTS', flag: '--recent-requests', kind: count(1, 1_000_000), group: 'Request metrics', default: 10_000, envFallback: true, doc: 'raw requests kept per service' }),
  routesPerService: setting({
    env: 'SLIPWAY_ROUTES_PER_SERVICE', flag: '--routes-per-service', kind: count(1, 100_000), group: 'Request metrics', default: 200, envFallback: true,
    doc: 'distinct route templates per service before new ones count as `other`',
  }),
  metricsRetentionMs: setting({
    env: 'SLIPWAY_METRICS_RETENTION', flag: '--metrics-retention', kind: duration({ min: 3_600_000 }), group: 'Request metrics', default: 14 * 86_400_000, envFallback: true,
    doc: 'request-metrics buckets older than this are pruned',
  }),
  metricsFlushIntervalMs: setting({
    env: 'SLIPWAY_METRICS_FLUSH_INTERVAL', flag: '--metrics-flush-interval', kind: duration({ min: 100 }), group: 'Request metrics', default: 5000, envFallback: true,
    doc: 'how often request counts are written to the store',
  }),
};

export type SettingKey = keyof typeof SERVER_SETTINGS;
type ValueOf<S> = S extends SettingSpec<infer T> ? T : never;
/** Every setting's value, read (read-settings.ts). */
export type Settings = { -readonly [K in SettingKey]: ValueOf<(typeof SERVER_SETTINGS)[K]> };

export const SETTING_KEYS = Object.keys(SERVER_SETTINGS) as SettingKey[];

/** A setting as the loops of --help, the docs and the reader see it. */
export const settingSpec = (key: SettingKey): SettingSpec<unknown> => SERVER_SETTINGS[key] as SettingSpec<unknown>;

/** The default of one setting, computed now (the data directory depends on the user). */
export function defaultOf<K extends SettingKey>(key: K): Settings[K] {
  const d = SERVER_SETTINGS[key].default as unknown;
  return (typeof d === 'function' ? (d as () => unknown)() : d) as Settings[K];
}

/** The default as shown: its words, else the value as it would be typed (`off` for none). */
export function defaultText(key: SettingKey): string {
  const spec = settingSpec(key);
  if (spec.defaultText !== undefined) return spec.defaultText;
  const formatted = spec.kind.format(defaultOf(key));
  return formatted === '' ? 'none' : `\`${formatted}\``;
}
