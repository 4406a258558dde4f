/**
 * How the built-in accessory images are made, without I/O: a Dockerfile FROM the Debian base and
 * an entrypoint script per kind, installing Debian's own packages. Each image follows the
 * official image's contract (env, command, data dir, port, stop signal), so core/accessory-kinds.ts
 * runs `slipway/postgres:15` and `postgres:16` the same way (docs/accessory-images.md). The recipe
 * hash (a label on the image) is what decides reuse: a changed recipe rebuilds.
 */
import { createHash } from 'node:crypto';
import { ACCESSORY_KINDS, NATS_MONITOR_PORT, type BuiltInKind } from '../../core/accessory-kinds';
import { DEBIAN_IMAGE_REPO } from './debian-base';

/** The Debian release the built-in images are made from (its packages give postgres 15, redis 7, nats 2). */
export const ACCESSORY_DEBIAN_RELEASE = 'bookworm';
export const RECIPE_LABEL = 'slipway.accessory-image.recipe';
/** The repository prefix of the built-in images (`slipway/postgres:15`); SLIPWAY_ACCESSORY_IMAGE_PREFIX sets another. */
export const DEFAULT_ACCESSORY_IMAGE_PREFIX = 'slipway';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** Docker's grammar of a repository name without its last component: an optional registry host[:port], then path components. */
const IMAGE_PREFIX = new RegExp(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);

/** A repository prefix as set (`slipway`, `acme/slipway`, `registry.local:5000/team`); throws naming `name` otherwise. */
export function parseAccessoryImagePrefix(text: string, name: string): string {
  const prefix = text.replace(/\/+$/, '');
  if (!IMAGE_PREFIX.test(prefix)) {
    throw new Error(`${name}: expected an image repository prefix such as slipway or registry.local:5000/team (lowercase letters, digits, . _ - separated by /), got ${JSON.stringify(text)}`);
  }
  return prefix;
}
/** Fixed ids (as the official images use) so a volume keeps its owner across rebuilds. */
const SERVICE_UID = 999;

export interface RecipeFile {
  name: string;
  content: string;
  mode: number;
}

export interface AccessoryRecipe {
  kind: BuiltInKind;
  version: string;
  /** `slipway/postgres:15` (`<prefix>/postgres:15` with another prefix). */
  ref: string;
  /** The base image, `slipway/debian:bookworm`. */
  from: string;
  dockerfile: string;
  files: RecipeFile[];
  /** sha256 (32 hex) of the Dockerfile and files. */
  hash: string;
  labels: Record<string, string>;
}

/** The shared part of every entrypoint: run as root only long enough to fix the data dir's owner. */
function dropPrivileges(user: string, program: string, dirs: string[]): string {
  return [
    `if [ "\${1:-}" = '${program}' ] && [ "$(id -u)" = '0' ]; then`,
    `  mkdir -p ${dirs.map((d) => `"${d}"`).join(' ')}`,
    // Only what is not already theirs: a large data dir is not rewritten on every start.
    ...dirs.map((d) => `  find "${d}" \\! -user ${user} -exec chown ${user}:${user} '{}' +`),
    `  exec setpriv --reuid=${user} --regid=${user} --init-groups "$BASH_SOURCE" "$@"`,
    'fi',
  ].join('\n');
}

const POSTGRES_ENTRYPOINT = (version: string) => `#!/bin/bash
# Slipway's postgres entrypoint (the official image's contract): POSTGRES_PASSWORD (required on an
# empty data dir), POSTGRES_USER (default postgres), POSTGRES_DB, POSTGRES_INITDB_ARGS, PGDATA,
# /docker-entrypoint-initdb.d/*.sql|*.sh run once after initdb. The password is never printed.
set -euo pipefail
: "\${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
first="\${1:-}"
if [ "\${first:0:1}" = '-' ]; then set -- postgres "$@"; fi

if [ "\${1:-}" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 00700 "$PGDATA"
  chmod 02775 /var/run/postgresql
  find "$PGDATA" /var/run/postgresql \\! -user postgres -exec chown postgres:postgres '{}' +
  export HOME=/var/lib/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ "\${1:-}" = 'postgres' ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "\${POSTGRES_PASSWORD:?is required to initialize the database (set POSTGRES_PASSWORD)}"
  user="\${POSTGRES_USER:-postgres}"
  # Local (unix socket, inside the container) trusted; every TCP client needs a scram password.
  # shellcheck disable=SC2086
  initdb --username="$user" --pwfile=<(printf '%s\\n' "$POSTGRES_PASSWORD") \\
    --auth-local=trust --auth-host=scram-sha-256 \${POSTGRES_INITDB_ARGS:-} -D "$PGDATA"
  printf "\\nlisten_addresses = '*'\\n" >> "$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\\n' >> "$PGDATA/pg_hba.conf"
  db="\${POSTGRES_DB:-$user}"
  shopt -s nullglob
  scripts=(/docker-entrypoint-initdb.d/*)
  if [ "$db" != postgres ] || [ \${#scripts[@]} -gt 0 ]; then
    # An init-time server on the unix socket only: readiness checks over TCP wait for the real one.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "$db" != postgres ]; then
      psql -v ON_ERROR_STOP=1 -q --username "$user" --dbname postgres --set db="$db" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\\gexec
SQL
    fi
    for f in "\${scripts[@]}"; do
      case "$f" in
        *.sh) echo "running $f"; . "$f" ;;
        *.sql) echo "running $f"; psql -v ON_ERROR_STOP=1 -q --username "$user" --dbname "$db" -f "$f" ;;
        *) echo "ignoring $f" ;;
      esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  echo "postgres ${version}: database initialized in $PGDATA"
fi

unset POSTGRES_PASSWORD
exec "$@"
`;

const REDIS_ENTRYPOINT = `#!/bin/bash
# Slipway's redis entrypoint (the official image's contract): \`redis-server [args]\` as user redis in /data.
set -euo pipefail
first="\${1:-}"
if [ "\${first:0:1}" = '-' ] || [ "\${first%.conf}" != "$first" ]; then set -- redis-server "$@"; fi
${dropPrivileges('redis', 'redis-server', ['/data'])}
umask 0077
exec "$@"
`;

const NATS_ENTRYPOINT = `#!/bin/bash
# Slipway's nats entrypoint (the official image's contract): \`nats-server [args]\` as user nats, JetStream store in /data.
set -euo pipefail
first="\${1:-}"
if [ "\${first:0:1}" = '-' ]; then set -- nats-server "$@"; fi
${dropPrivileges('nats', 'nats-server', ['/data'])}
exec "$@"
`;

/** A system user with a fixed id, made before the package so the package's own postinst finds it. */
const user = (name: string, home: string) =>
  `groupadd --system --gid ${SERVICE_UID} ${name}; useradd --system --uid ${SERVICE_UID} --gid ${name} --home-dir ${home} --no-create-home --shell /bin/bash ${name}`;

function dockerfile(from: string, lines: string[]): string {
  return [`FROM ${from}`, 'ARG DEBIAN_FRONTEND=noninteractive', ...lines, ''].join('\n');
}

/**
 * The recipe of one built-in image. `prefix` only names the tag (`<prefix>/<kind>:<version>`):
 * the recipe, its hash and the Debian base it starts FROM are the same under any prefix.
 */
export function accessoryRecipe(kind: BuiltInKind, version: string, prefix = DEFAULT_ACCESSORY_IMAGE_PREFIX): AccessoryRecipe {
  const info = ACCESSORY_KINDS[kind];
  const from = `${DEBIAN_IMAGE_REPO}:${ACCESSORY_DEBIAN_RELEASE}`;
  // The default prefix gives core's name of the image (ACCESSORY_KINDS[kind].imageRepo: `slipway/<kind>`).
  const ref = `${prefix}/${kind}:${version}`;
  const entry = (content: string): RecipeFile => ({ name: 'docker-entrypoint.sh', content, mode: 0o755 });
  let text: string;
  let files: RecipeFile[];
  switch (kind) {
    case 'postgres':
      files = [entry(POSTGRES_ENTRYPOINT(version))];
      text = dockerfile(from, [
        `RUN set -eux; ${user('postgres', '/var/lib/postgresql')}; mkdir -p /var/lib/postgresql; chown postgres:postgres /var/lib/postgresql`,
        // No cluster at install time (postgresql-common would make one): the entrypoint initializes PGDATA.
        'RUN set -eux; apt-get update; apt-get install -y --no-install-recommends postgresql-common; ' +
          "sed -ri 's/#(create_main_cluster) .*$/\\1 = false/' /etc/postgresql-common/createcluster.conf; " +
          `apt-get install -y --no-install-recommends postgresql-${version} pgbackrest; apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; ` +
          'mkdir -p /var/run/postgresql /docker-entrypoint-initdb.d; chown postgres:postgres /var/run/postgresql; chmod 2775 /var/run/postgresql',
        `ENV PATH=/usr/lib/postgresql/${version}/bin:$PATH PGDATA=${info.dataDir}`,
        'RUN mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"',
        'COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh',
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        // SIGINT: Postgres's "fast" shutdown (SIGTERM waits for every client to leave).
        'STOPSIGNAL SIGINT',
        `EXPOSE ${info.port}`,
        'CMD ["postgres"]',
      ]);
      break;
    case 'redis':
      files = [entry(REDIS_ENTRYPOINT)];
      text = dockerfile(from, [
        `RUN set -eux; ${user('redis', '/data')}; apt-get update; apt-get install -y --no-install-recommends redis-server redis-tools; apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; ` +
          `mkdir -p ${info.dataDir}; chown redis:redis ${info.dataDir}; redis-server --version`,
        `WORKDIR ${info.dataDir}`,
        'COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh',
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        `EXPOSE ${info.port}`,
        'CMD ["redis-server"]',
      ]);
      break;
    case 'nats':
      files = [entry(NATS_ENTRYPOINT)];
      text = dockerfile(from, [
        `RUN set -eux; ${user('nats', '/data')}; apt-get update; apt-get install -y --no-install-recommends nats-server; apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; ` +
          `mkdir -p ${info.dataDir}; chown nats:nats ${info.dataDir}; nats-server --version`,
        `WORKDIR ${info.dataDir}`,
        'COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh',
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        `EXPOSE ${info.port} 6222 ${NATS_MONITOR_PORT}`,
        `CMD ["nats-server", "--jetstream", "--store_dir", "${info.dataDir}", "--http_port", "${NATS_MONITOR_PORT}"]`,
      ]);
      break;
  }
  const h = createHash('sha256').update(`${kind}:${version}\n--Dockerfile--\n${text}`);
  for (const f of files) h.update(`\n--${f.name} ${f.mode.toString(8)}--\n${f.content}`);
  const hash = h.digest('hex').slice(0, 32);
  return {
    kind,
    version,
    ref,
    from,
    dockerfile: text,
    files,
    hash,
    labels: { 'slipway.accessory-image.kind': kind, 'slipway.accessory-image.version': version, [RECIPE_LABEL]: hash },
  };
}
