/**
 * What Slipway knows about each built-in accessory kind, without I/O: its image, port, data
 * directory, readiness check, the container's env and command for a set of generated
 * credentials, and the connection variables services receive. The built-in images follow the
 * official images' contracts (docs/accessories.md, "The image contract"), so `image: postgres:16`
 * runs with the same env, command and checks.
 */
import { randomBytes } from 'node:crypto';
import type { AccessoryConfig, AccessoryHealth, AccessoryKind, ServiceUse } from './config';
import type { PostgresProvisioning } from './ports/postgres-admin';
import { POSTGRES_ARCHIVE_ARGS, postgresBackupEnv } from './backup-config';

export type BuiltInKind = Exclude<AccessoryKind, 'container'>;

export interface AccessoryKindInfo {
  /** Versions the built-in image can be built at (Debian's packages of the host's release). */
  versions: readonly string[];
  defaultVersion: string;
  /** `slipway/postgres`: the built-in image is `<repo>:<version>`. */
  imageRepo: string;
  port: number;
  /** Where the kind keeps its data: the `data` volume is mounted here. */
  dataDir: string;
  /** Connection variables a service using it gets by default: role → variable name. */
  vars: Record<string, string>;
}

export const ACCESSORY_KINDS: Record<BuiltInKind, AccessoryKindInfo> = {
  postgres: { versions: ['15'], defaultVersion: '15', imageRepo: 'slipway/postgres', port: 5432, dataDir: '/var/lib/postgresql/data', vars: { url: 'DATABASE_URL' } },
  redis: { versions: ['7'], defaultVersion: '7', imageRepo: 'slipway/redis', port: 6379, dataDir: '/data', vars: { url: 'REDIS_URL' } },
  nats: { versions: ['2'], defaultVersion: '2', imageRepo: 'slipway/nats', port: 4222, dataDir: '/data', vars: { url: 'NATS_URL' } },
};

/**
 * /dev/shm of a Postgres container: Docker's default 64 MiB fails parallel index builds and
 * hash joins on tables of a few hundred MB ("could not resize shared memory segment"). Pages of
 * it count against the container's memory limit only while used.
 */
export const POSTGRES_SHM_BYTES = 512 * 1024 * 1024;

/** The shared-memory size a kind's container gets (null: Docker's default). */
export function accessoryShmBytes(kind: AccessoryKind): number | null {
  return kind === 'postgres' ? POSTGRES_SHM_BYTES : null;
}

/** NATS's monitoring port (`/healthz` answers once JetStream is ready). */
export const NATS_MONITOR_PORT = 8222;
/** Role names of the two-user model; the superuser is `postgres` (Slipway's own, never handed out). */
export const POSTGRES_SUPERUSER = 'postgres';
export const POSTGRES_OWNER = 'owner';
export const POSTGRES_APP = 'app';
export const NATS_USER = 'slipway';

export const isBuiltInKind = (kind: AccessoryKind): kind is BuiltInKind => kind !== 'container';

/** Generated credentials, by kind: postgres `superuser|owner|app`, redis `password`, nats `password`; none for containers. */
export type AccessoryCredentials = Record<string, string>;

/** 32 hex characters: URL-safe, never needs quoting in SQL, a URL or an argv. */
const secret = (): string => randomBytes(16).toString('hex');

export function generateCredentials(kind: AccessoryKind): AccessoryCredentials {
  switch (kind) {
    case 'postgres':
      return { superuser: secret(), owner: secret(), app: secret() };
    case 'redis':
    case 'nats':
      return { password: secret() };
    case 'container':
      return {};
  }
}

/** The values to mask wherever output is relayed (passwords; URLs carry them). */
export function credentialValues(creds: AccessoryCredentials): string[] {
  return Object.values(creds).filter((v) => v.length > 0);
}

/** The default readiness check of a kind (slipway.yml's `health` replaces it). */
export function defaultAccessoryHealth(kind: AccessoryKind, port: number | null): AccessoryHealth | null {
  const timing = { intervalMs: 500, timeoutMs: 5000, deadlineMs: 120_000 };
  switch (kind) {
    case 'postgres':
      // Only the real server listens on TCP: the init-time server of the entrypoint does not.
      return { kind: 'exec', path: null, port: null, command: ['pg_isready', '-q', '-h', '127.0.0.1', '-p', '5432', '-U', POSTGRES_SUPERUSER], ...timing };
    case 'redis':
      // redis-cli exits 0 on an error reply too: compare the answer. REDISCLI_AUTH comes from the exec env.
      return { kind: 'exec', path: null, port: null, command: ['sh', '-c', '[ "$(redis-cli -h 127.0.0.1 ping)" = PONG ]'], ...timing };
    case 'nats':
      return { kind: 'http', path: '/healthz', port: NATS_MONITOR_PORT, command: null, ...timing };
    case 'container':
      return port === null ? null : { kind: 'tcp', path: null, port: null, command: null, ...timing };
  }
}

/** Env for the exec readiness check (never in the container's own env beyond what it has). */
export function accessoryCheckEnv(cfg: AccessoryConfig, creds: AccessoryCredentials): Record<string, string> {
  return cfg.kind === 'redis' && creds.password ? { REDISCLI_AUTH: creds.password } : {};
}

/** The container's env: slipway.yml's `env`, then what the kind needs (the official images' variables; redis and nats: their password, read by their command). */
export function accessoryContainerEnv(cfg: AccessoryConfig, creds: AccessoryCredentials): Record<string, string> {
  switch (cfg.kind) {
    case 'postgres':
      return { ...cfg.env, POSTGRES_USER: POSTGRES_SUPERUSER, POSTGRES_PASSWORD: creds.superuser ?? '', PGDATA: ACCESSORY_KINDS.postgres.dataDir, ...(cfg.backup ? postgresBackupEnv(ACCESSORY_KINDS.postgres.dataDir) : {}) };
    case 'redis':
      return { ...cfg.env, REDIS_PASSWORD: creds.password ?? '' };
    case 'nats':
      return { ...cfg.env, NATS_PASSWORD: creds.password ?? '' };
    default:
      return { ...cfg.env };
  }
}

/** Where the redis and nats commands write the config file that carries the password (inside the container). */
export const REDIS_AUTH_CONF = '/tmp/redis-auth.conf';
export const NATS_AUTH_CONF = '/tmp/nats-auth.conf';

/**
 * A `sh -c` script that writes the password (from the env variable `passwordVar`) into a config
 * file only the server's user can read, then starts the server with it. The password never
 * reaches an argv (`ps` shows every process's arguments to every user of the host): printf is
 * a shell builtin and the script names the variable, not its value. Run as root (the images'
 * default), the file is given to `user` when the image has one, and the image's
 * docker-entrypoint.sh (when it has one) is entered again with the server's own command line,
 * so it drops privileges to that user as it does for a plain `redis-server …`.
 */
function serverWithAuthFile(passwordVar: string, file: string, format: string, user: string, server: string[]): string {
  const argv = server.map((a) => `'${a}'`).join(' ');
  return [
    'set -e',
    'umask 077',
    `printf '${format}' "$${passwordVar}" > ${file}`,
    `unset ${passwordVar}`,
    `if [ "$(id -u)" = 0 ] && id ${user} >/dev/null 2>&1; then chown ${user} ${file}; fi`,
    `if command -v docker-entrypoint.sh >/dev/null 2>&1; then exec docker-entrypoint.sh ${argv}; fi`,
    `exec ${argv}`,
  ].join('\n');
}

/**
 * The container's command: slipway.yml's `command` when set, else what the kind runs. Redis and
 * nats get their password from the env (REDIS_PASSWORD, NATS_PASSWORD) through a config file, never
 * on a command line; the image needs `sh` (docs/accessory-images.md).
 */
export function accessoryCommand(cfg: AccessoryConfig, _creds?: AccessoryCredentials): string[] | null {
  // Backups: every WAL segment archived by pgBackRest (the server options go after the user's own).
  if (cfg.kind === 'postgres' && cfg.backup) return [...(cfg.command ?? ['postgres']), ...POSTGRES_ARCHIVE_ARGS];
  if (cfg.command) return cfg.command;
  switch (cfg.kind) {
    case 'redis':
      return ['sh', '-c', serverWithAuthFile('REDIS_PASSWORD', REDIS_AUTH_CONF, 'requirepass %s\\n', 'redis', ['redis-server', REDIS_AUTH_CONF, '--port', '6379', '--dir', ACCESSORY_KINDS.redis.dataDir, '--appendonly', 'yes', '--protected-mode', 'no'])];
    case 'nats':
      return [
        'sh',
        '-c',
        serverWithAuthFile('NATS_PASSWORD', NATS_AUTH_CONF, `authorization {\\n  user: "${NATS_USER}"\\n  password: "%s"\\n}\\n`, 'nats', [
          'nats-server', '-c', NATS_AUTH_CONF, '--jetstream', '--store_dir', ACCESSORY_KINDS.nats.dataDir, '--port', '4222', '--http_port', String(NATS_MONITOR_PORT),
        ]),
      ];
    default:
      return null;
  }
}

/** The two-user model of a Postgres accessory, for the PostgresAdmin port. */
export function postgresProvisioning(cfg: AccessoryConfig, creds: AccessoryCredentials): PostgresProvisioning {
  return {
    database: cfg.database ?? 'app',
    owner: { name: POSTGRES_OWNER, password: creds.owner ?? '' },
    app: { name: POSTGRES_APP, password: creds.app ?? '' },
  };
}

/**
 * The variables a service using the accessory gets. `role`: `app` for replicas, jobs and
 * `slipway run`; `owner` for the release command (migrations), which gets the owner's URL
 * under the same variable name. Containers get no generated variables (they have no credentials).
 */
export function connectionVars(use: ServiceUse, cfg: AccessoryConfig, creds: AccessoryCredentials, role: 'app' | 'owner'): Record<string, string> {
  const host = cfg.name;
  const port = cfg.port ?? (isBuiltInKind(cfg.kind) ? ACCESSORY_KINDS[cfg.kind].port : null);
  const out: Record<string, string> = {};
  const urlVar = use.vars.url;
  if (!urlVar || port === null) return out;
  switch (cfg.kind) {
    case 'postgres': {
      const p = postgresProvisioning(cfg, creds);
      const who = role === 'owner' ? p.owner : p.app;
      out[urlVar] = `postgres://${who.name}:${who.password}@${host}:${port}/${p.database}`;
      break;
    }
    case 'redis':
      out[urlVar] = `redis://default:${creds.password ?? ''}@${host}:${port}`;
      break;
    case 'nats':
      out[urlVar] = `nats://${NATS_USER}:${creds.password ?? ''}@${host}:${port}`;
      break;
    case 'container':
      out[urlVar] = `${host}:${port}`;
      break;
  }
  return out;
}
