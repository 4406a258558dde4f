/**
 * The systemd unit and environment file `slipway install` writes, as a pure function of
 * absolute paths resolved at install time (docs/operations.md "Running as a system service").
 *
 * One unit, slipway.service, for the control plane, with KillMode=process: the control plane
 * starts the edge itself (detached HAProxy, master-worker) because it must restore the
 * edge's servers from the store before the edge accepts traffic; a unit of the edge's own
 * would let systemd start HAProxy on a stale config at boot or on Restart=. KillMode=process
 * makes `systemctl stop|restart slipway` and Restart=always signal the node process only, so
 * the edge keeps serving across every control-plane restart (invariant 1); it stays in the
 * unit's cgroup, where the next control plane adopts it by its pid file.
 */

export const UNIT_NAME = 'slipway.service';
export const UNIT_DIR = '/etc/systemd/system';
export const ENV_FILE = '/etc/slipway/slipway.env';

export interface UnitSettings {
  /** Absolute path of the node binary that runs the control plane. */
  nodeBin: string;
  /** Absolute path of the checkout's bin/slipway.mjs. */
  slipwayBin: string;
  /** Absolute path of the checkout (the server rebuilds its bundle in <repo>/dist). */
  repoDir: string;
  /** Absolute data directory. */
  dataDir: string;
  /** The account the control plane (and the edge it starts) runs as. */
  user: string;
  /** Absolute path of the environment file with SLIPWAY_* settings. */
  envFile: string;
}

export interface RenderedFile {
  /** Absolute path on the target system (install prefixes it with --root). */
  path: string;
  content: string;
  mode: number;
  /** Written only when absent: the operator's settings are never overwritten. */
  keepExisting: boolean;
}

/** Paths end up unquoted in the unit; systemd would read spaces as separators and `%` as a specifier. */
const SAFE_PATH = /^\/[A-Za-z0-9._/+@=-]*$/;
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Problems with the settings, each naming the field (empty: valid). */
export function checkUnitSettings(s: UnitSettings): string[] {
  const problems: string[] = [];
  const paths: Array<[string, string]> = [
    ['node binary', s.nodeBin],
    ['slipway binary', s.slipwayBin],
    ['repository', s.repoDir],
    ['--data-dir', s.dataDir],
    ['environment file', s.envFile],
  ];
  for (const [field, value] of paths) {
    if (!SAFE_PATH.test(value) || value.split('/').includes('..')) {
      problems.push(`${field}: expected an absolute path of letters, digits and . _ / + @ = - (it is written unquoted into the unit), got "${value}"`);
    }
  }
  if (s.dataDir === '/') problems.push('--data-dir: must not be the root directory');
  if (!USER_NAME.test(s.user)) problems.push(`--user: expected a user name (lowercase letters, digits, _ and -, at most 32), got "${s.user}"`);
  return problems;
}

export function renderControlPlaneUnit(s: UnitSettings): string {
  const root = s.user === 'root';
  const lines = [
    '# Written by `slipway install`; `slipway uninstall` removes it. Settings: ' + s.envFile,
    '[Unit]',
    'Description=Slipway control plane (API, deploy engine; starts and adopts the HAProxy edge)',
    'Documentation=file://' + s.repoDir + '/docs/operations.md',
    'After=docker.service network-online.target',
    'Wants=docker.service network-online.target',
    // Restart=always means always: no start limit that would leave the host without a control plane.
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=exec',
    ...(root ? [] : [`User=${s.user}`, 'SupplementaryGroups=docker', 'AmbientCapabilities=CAP_NET_BIND_SERVICE']),
    `Environment=SLIPWAY_DATA_DIR=${s.dataDir}`,
    `EnvironmentFile=-${s.envFile}`,
    `WorkingDirectory=${s.repoDir}`,
    `ExecStart=${s.nodeBin} ${s.slipwayBin} server --data-dir ${s.dataDir}`,
    'Restart=always',
    'RestartSec=2s',
    // Only the node process gets SIGTERM on stop/restart: the edge it started keeps serving (invariant 1).
    'KillMode=process',
    'TimeoutStopSec=45s',
    // An edge worker killed by the kernel's OOM killer must not stop the control plane that restarts it.
    'OOMPolicy=continue',
    // HAProxy inherits this limit and sizes maxconn from it.
    'LimitNOFILE=1048576',
    'UMask=0077',
    // Hardening that keeps Docker reachable: /run/docker.sock and /var/lib stay visible (no ProtectSystem=strict,
    // no PrivateTmp or private mount namespace per start, which a left-over edge would keep holding).
    'NoNewPrivileges=yes',
    'ProtectSystem=full',
    `ReadWritePaths=-${s.dataDir} -${s.repoDir}/dist`,
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictSUIDSGID=yes',
    'RestrictRealtime=yes',
    'RestrictNamespaces=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ];
  return `${lines.join('\n')}\n`;
}

/** The environment file's first content: every setting commented out, so the defaults apply. */
export function renderEnvFile(s: UnitSettings): string {
  return [
    '# SLIPWAY_* settings of the control plane run by slipway.service (docs/configuration.md,',
    '# docs/operations.md). Kept by `slipway install` and `slipway uninstall`; after a change:',
    '#   systemctl restart slipway     (the edge keeps serving)',
    `# The data directory is ${s.dataDir} (\`slipway install --data-dir\` sets it in the unit).`,
    '#SLIPWAY_HTTP_PORT=80',
    '#SLIPWAY_HTTPS_PORT=443',
    '#SLIPWAY_EDGE_BIND=0.0.0.0',
    '#SLIPWAY_API_HOST=127.0.0.1',
    '#SLIPWAY_API_PORT=7420',
    '#SLIPWAY_DOMAIN=deploy.example.com',
    '#SLIPWAY_ACME_EMAIL=ops@example.com',
    '#SLIPWAY_LOG_LEVEL=info',
    '# This file is 0600: a master key kept here instead of <data-dir>/master.key stays private.',
    '#SLIPWAY_MASTER_KEY=',
    '',
  ].join('\n');
}

/** Every file `slipway install` writes, in writing order. */
export function renderInstallFiles(s: UnitSettings): RenderedFile[] {
  return [
    { path: s.envFile, content: renderEnvFile(s), mode: 0o600, keepExisting: true },
    { path: `${UNIT_DIR}/${UNIT_NAME}`, content: renderControlPlaneUnit(s), mode: 0o644, keepExisting: false },
  ];
}
