/**
 * slipway.yml's `accessories.<name>` as written → AccessoryConfig: the rules that need the
 * kind's knowledge (core/accessory-kinds.ts), and the normalization (built-in image, port,
 * the `data` volume, health merged over the kind's default check, limits, database).
 */
import { ACCESSORY_KINDS, defaultAccessoryHealth, isBuiltInKind } from './accessory-kinds';
import type { AccessoryConfig, AccessoryHealth, AccessoryKind, ResourceLimits, VolumeMount } from './config';
import type { AccessoryHealthWritten, AccessoryWritten } from './config-schema';
import { BACKUP_VOLUME, backupProblems, normalizeBackup, PGBACKREST_REPO_PATH } from './backup-config';
import { parseDuration } from './duration';
import { parseSize } from './parse-size';

export interface AccessoryProblem {
  /** Relative to the accessory (`['health', 'command']`). */
  path: Array<string | number>;
  message: string;
}

/** Variables the built-in postgres entrypoint takes from Slipway (accessory-kinds accessoryContainerEnv). */
const POSTGRES_RESERVED_ENV = ['POSTGRES_PASSWORD', 'POSTGRES_USER', 'PGDATA'];

/** Timing of a check whose kind has no default (a container without port). */
const BASE_TIMING = { intervalMs: 500, timeoutMs: 5000, deadlineMs: 120_000 };

/** Rules of one accessory that the field schemas cannot see alone. */
export function accessoryProblems(a: AccessoryWritten): AccessoryProblem[] {
  const problems: AccessoryProblem[] = [];
  const add = (path: Array<string | number>, message: string) => problems.push({ path, message });
  if (!isBuiltInKind(a.kind)) {
    if (a.image === undefined) add(['image'], 'a container accessory needs the image to run, e.g. image: "getmeili/meilisearch:v1.7"');
    if (a.version !== undefined) add(['version'], "is only for postgres, redis and nats (a container's version is its image tag)");
  } else {
    const info = ACCESSORY_KINDS[a.kind];
    if (a.version !== undefined && a.image === undefined && !info.versions.includes(a.version)) {
      add(['version'], `must be ${info.versions.map((v) => `"${v}"`).join(' or ')} for ${a.kind} (the versions Slipway builds from Debian's packages); for another version set image, e.g. image: "${a.kind}:<version>"`);
    }
    if (a.port !== undefined && a.port !== info.port) add(['port'], `${a.kind} listens on ${info.port}, which cannot be changed (remove port)`);
    if (a.command !== undefined && (a.kind === 'redis' || a.kind === 'nats')) {
      add(['command'], `is not allowed for ${a.kind}: Slipway runs it with a config file carrying the generated password (use kind: container for a ${a.kind} configured your own way)`);
    }
    (a.volumes ?? []).forEach((v, i) => {
      if (v.name === 'data' && v.path !== info.dataDir) add(['volumes', i, 'name'], `"data" is the ${a.kind} data volume, mounted at ${info.dataDir}; mount it there or choose another name`);
      else if (v.path === info.dataDir && v.read_only) add(['volumes', i, 'read_only'], `must be false: the volume at ${info.dataDir} is where ${a.kind} writes its data (remove read_only or ":ro")`);
    });
  }
  if (a.database !== undefined && a.kind !== 'postgres') add(['database'], 'is only for postgres');
  if (a.kind === 'postgres') {
    for (const key of Object.keys(a.env)) {
      if (POSTGRES_RESERVED_ENV.includes(key)) add(['env', key], 'is set by Slipway for postgres (the generated superuser and the data directory); remove it');
    }
  }
  for (const p of backupProblems(a.kind, a.backup)) add(['backup', ...p.path], p.message);
  if (a.kind === 'postgres' && normalizeBackup(a.kind, a.image === undefined, a.backup)) {
    (a.volumes ?? []).forEach((v, i) => {
      if (v.name === BACKUP_VOLUME || v.path === PGBACKREST_REPO_PATH) add(['volumes', i], `"${BACKUP_VOLUME}" at ${PGBACKREST_REPO_PATH} holds the backup repository; choose another name and path (or set backup: off)`);
    });
  }
  const port = accessoryPort(a);
  problems.push(...resolveAccessoryHealth(a.kind, port, a.health).problems);
  return problems;
}

/** The port it listens on: the kind's, or a container's own (null: none). */
function accessoryPort(a: AccessoryWritten): number | null {
  return isBuiltInKind(a.kind) ? ACCESSORY_KINDS[a.kind].port : (a.port ?? null);
}

/**
 * The accessory's readiness check: `health` merged over the kind's default. A `kind` other
 * than the default's starts from that kind (the default's command, path and port do not carry
 * over); without `kind`, a `command` means exec and a `path` http.
 */
export function resolveAccessoryHealth(
  kind: AccessoryKind,
  port: number | null,
  h: AccessoryHealthWritten | false | 'none' | undefined,
): { health: AccessoryHealth | null; problems: AccessoryProblem[] } {
  const problems: AccessoryProblem[] = [];
  const add = (path: string[], message: string) => problems.push({ path: ['health', ...path], message });
  const def = defaultAccessoryHealth(kind, port);
  if (h === false || h === 'none') {
    if (kind !== 'container') add([], `${kind} needs its readiness check: the services that use it start only once it answers (change its kind or timing instead)`);
    return { health: null, problems };
  }
  if (h === undefined) return { health: def, problems };
  const probe = h.kind ?? (h.command ? 'exec' : h.path ? 'http' : (def?.kind ?? 'tcp'));
  const sameAsDefault = def?.kind === probe;
  if (h.command !== undefined && probe !== 'exec') add(['command'], 'is only used by health kind "exec" (remove it, or set kind: exec)');
  if (h.path !== undefined && probe !== 'http') add(['path'], 'is only used by health kind "http" (remove it, or set kind: http)');
  if (h.port !== undefined && probe === 'exec') add(['port'], 'is not used by health kind "exec" (the command runs inside the container)');
  const command = probe === 'exec' ? (h.command ?? (sameAsDefault ? def!.command : null)) : null;
  if (probe === 'exec' && !command) add(['command'], 'health kind "exec" needs a command (argv run inside the container; exit 0 = ready)');
  const probePort = probe === 'exec' ? null : (h.port ?? (sameAsDefault ? def!.port : null));
  if (probe !== 'exec' && probePort === null && port === null) {
    add(['port'], `health kind "${probe}" needs a port: set the accessory's port or health.port (or use kind: exec with a command)`);
  }
  const timing = def ?? BASE_TIMING;
  const ms = (v: string | number | undefined, fallback: number) => (v === undefined ? fallback : parseDuration(v)!);
  return {
    health: {
      kind: probe,
      path: probe === 'http' ? (h.path ?? (sameAsDefault ? def!.path : null) ?? '/') : null,
      port: probePort,
      command,
      intervalMs: ms(h.interval, timing.intervalMs),
      timeoutMs: ms(h.timeout, timing.timeoutMs),
      deadlineMs: ms(h.deadline, timing.deadlineMs),
    },
    problems,
  };
}

export function normalizeResources(r: { memory?: string | number; cpus?: number } | undefined): ResourceLimits {
  return { memoryBytes: r?.memory === undefined ? null : parseSize(r.memory), cpus: r?.cpus ?? null };
}

export function normalizeVolumes(vols: Array<{ name: string; path: string; read_only: boolean }> | undefined): VolumeMount[] {
  return (vols ?? []).map((v) => ({ volume: v.name, path: v.path, readOnly: v.read_only }));
}

/** The default Postgres database of a project: its name with `-` as `_` (a valid identifier). */
export function defaultDatabase(project: string): string {
  return project.replace(/-/g, '_');
}

/** Postgres's own databases: the services' database is never one of them. */
export const RESERVED_DATABASES: readonly string[] = ['postgres', 'template0', 'template1'];

/** A project whose name would make the default database one of Postgres's own must set `database:`. */
export function defaultDatabaseProblem(project: string): string | null {
  const db = defaultDatabase(project);
  return RESERVED_DATABASES.includes(db)
    ? `is required for project "${project}": the default database (the project name) would be "${db}", one of Postgres's own databases; set another name, e.g. database: app`
    : null;
}

/** A validated accessory (accessoryProblems found nothing) → its normalized form. */
export function normalizeAccessory(name: string, a: AccessoryWritten, project: string): AccessoryConfig {
  const builtIn = isBuiltInKind(a.kind) && a.image === undefined;
  const version = isBuiltInKind(a.kind) ? (a.version ?? (builtIn ? ACCESSORY_KINDS[a.kind].defaultVersion : null)) : null;
  const image = isBuiltInKind(a.kind) && builtIn ? `${ACCESSORY_KINDS[a.kind].imageRepo}:${version}` : a.image!;
  const port = accessoryPort(a);
  let volumes = normalizeVolumes(a.volumes);
  if (isBuiltInKind(a.kind)) {
    // The data volume is always there; a volume of the user's own at the data directory replaces it.
    const dataDir = ACCESSORY_KINDS[a.kind].dataDir;
    if (!volumes.some((v) => v.path === dataDir)) volumes = [{ volume: 'data', path: dataDir, readOnly: false }, ...volumes];
  }
  const backup = normalizeBackup(a.kind, builtIn, a.backup);
  // The pgBackRest repository lives on a volume of its own: a lost data volume leaves the backups
  // (snapshots of the other kinds go to the control plane's backup folder).
  if (backup && a.kind === 'postgres') volumes = [...volumes, { volume: BACKUP_VOLUME, path: PGBACKREST_REPO_PATH, readOnly: false }];
  return {
    name,
    kind: a.kind,
    image,
    builtIn,
    version,
    port,
    volumes,
    env: Object.fromEntries(Object.entries(a.env).map(([k, v]) => [k, String(v)])),
    command: a.command ?? null,
    health: resolveAccessoryHealth(a.kind, port, a.health).health,
    resources: normalizeResources(a.resources),
    stopTimeoutMs: parseDuration(a.stop_timeout)!,
    database: a.kind === 'postgres' ? (a.database ?? defaultDatabase(project)) : null,
    // Set only when on, so accessories without backups keep their recorded configs (and spec hashes).
    ...(backup ? { backup } : {}),
  };
}
