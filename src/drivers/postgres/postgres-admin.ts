/**
 * PostgresAdmin over `pg`: provisions the two-user model of a Postgres accessory as its
 * superuser, from the host, at the container's address. Each call opens its own short-lived
 * clients (connect and statement timeouts; always ended) — provisioning runs once per deploy.
 * What changed is found by comparing the catalogs before and after the (idempotent)
 * statements, so a second run with the same plan reports nothing. Error messages are pg's,
 * with every password masked; statements never carry a password in clear (provision-sql.ts).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { SlipwayError, errorMessage } from '../../core/errors';
import type { PostgresAdmin, PostgresProvisioning, PostgresTarget } from '../../core/ports/postgres-admin';
import {
  USER_SCHEMAS_SQL,
  USER_TABLES_SQL,
  checkProvisioning,
  countRowsSql,
  createDatabaseSql,
  createRoleSql,
  databaseAccessSql,
  databaseOwnerSql,
  maskSecrets,
  passwordMatches,
  plainLoginSql,
  schemaPrivilegesSql,
  setPasswordSql,
} from './provision-sql';

export interface PgPostgresAdminOptions {
  /** Per connection attempt; default 5 s. */
  connectTimeoutMs?: number;
  /** Per statement (server side and client side); default 30 s. */
  statementTimeoutMs?: number;
  logger?: Logger;
}

interface RoleRow {
  rolname: string;
  rolpassword: string | null;
  rolcanlogin: boolean;
  rolsuper: boolean;
  rolcreatedb: boolean;
  rolcreaterole: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
}

/** Per-object ACL snapshot inside the database: `kind:name` → owner and ACL text. */
type Snapshot = Map<string, string>;

export class PgPostgresAdmin implements PostgresAdmin {
  readonly #connectTimeoutMs: number;
  readonly #statementTimeoutMs: number;
  readonly #logger: Logger | undefined;

  constructor(opts: PgPostgresAdminOptions = {}) {
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.#statementTimeoutMs = opts.statementTimeoutMs ?? 30_000;
    this.#logger = opts.logger;
  }

  async provision(target: PostgresTarget, plan: PostgresProvisioning, opts: { timeoutMs?: number } = {}): Promise<{ changes: string[] }> {
    checkProvisioning(target, plan);
    const secrets = [target.password, plan.owner.password, plan.app.password];
    const deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs;
    const changes: string[] = [];
    await this.#withClient(target, target.database ?? 'postgres', secrets, deadline, async (c) => {
      for (const role of [plan.owner, plan.app]) changes.push(...(await ensureRole(c, role.name, role.password)));
      const db = await c.query<{ owner: string; acl: string | null }>('SELECT pg_get_userbyid(datdba) AS owner, datacl::text AS acl FROM pg_database WHERE datname = $1', [plan.database]);
      const before = db.rows[0];
      if (!before) {
        await c.query(createDatabaseSql(plan.database, plan.owner.name));
        changes.push(`created database ${plan.database} owned by ${plan.owner.name}`);
      } else if (before.owner !== plan.owner.name) {
        await c.query(databaseOwnerSql(plan.database, plan.owner.name));
        changes.push(`made ${plan.owner.name} the owner of database ${plan.database} (was ${before.owner})`);
      }
      for (const sql of databaseAccessSql(plan.database, plan.app.name)) await c.query(sql);
      const after = await c.query<{ acl: string | null }>('SELECT datacl::text AS acl FROM pg_database WHERE datname = $1', [plan.database]);
      if (before?.acl !== after.rows[0]?.acl) changes.push(`limited connecting to database ${plan.database} to ${plan.owner.name} and ${plan.app.name}`);
    });
    await this.#withClient(target, plan.database, secrets, deadline, async (c) => {
      const before = await snapshot(c);
      const schemas = (await c.query<{ nspname: string }>(USER_SCHEMAS_SQL)).rows.map((r) => r.nspname);
      for (const sql of schemaPrivilegesSql(plan.owner.name, plan.app.name, schemas)) await c.query(sql);
      changes.push(...describeChanges(before, await snapshot(c), plan));
    });
    this.#logger?.info({ host: target.host, database: plan.database, changes }, 'postgres provisioned');
    return { changes };
  }

  async tableRowCounts(target: PostgresTarget, database: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    await this.#withClient(target, database, [target.password], undefined, async (c) => {
      const tables = (await c.query<{ schema: string; name: string }>(USER_TABLES_SQL)).rows;
      for (const t of tables) {
        const { rows } = await c.query<{ n: string }>(countRowsSql(t.schema, t.name));
        counts[`${t.schema}.${t.name}`] = Number(rows[0]?.n ?? 0);
      }
    });
    return counts;
  }

  /** One client for `fn`, always ended; any failure becomes SLW_RUNTIME with the secrets masked. */
  async #withClient(target: PostgresTarget, database: string, secrets: string[], deadline: number | undefined, fn: (c: pg.Client) => Promise<void>): Promise<void> {
    const left = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
    const statementTimeout = Math.min(this.#statementTimeoutMs, left ?? Infinity);
    const client = new pg.Client({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database,
      connectionTimeoutMillis: Math.min(this.#connectTimeoutMs, left ?? Infinity),
      statement_timeout: statementTimeout,
      query_timeout: statementTimeout + 1000,
      application_name: 'slipway',
    });
    // A broken connection after connect surfaces as the next query's error; without a listener it would crash the process.
    client.on('error', (err) => this.#logger?.warn({ host: target.host, err: maskSecrets(err.message, secrets) }, 'postgres connection error'));
    try {
      await client.connect();
      await fn(client);
    } catch (err) {
      if (err instanceof SlipwayError) throw err;
      // The server's SQLSTATE (e.g. 28P01: wrong password) as a detail, for callers that act on it.
      const details = err instanceof pg.DatabaseError && err.code ? [{ path: 'sqlstate', message: err.code }] : [];
      throw new SlipwayError('SLW_RUNTIME', `postgres at ${target.host}:${target.port} (database ${database}): ${maskSecrets(errorMessage(err), secrets)}`, details);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

async function ensureRole(c: pg.Client, name: string, password: string): Promise<string[]> {
  const { rows } = await c.query<RoleRow>(
    'SELECT rolname, rolpassword, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_authid WHERE rolname = $1',
    [name],
  );
  const role = rows[0];
  if (!role) {
    await c.query(createRoleSql(name, password));
    return [`created role ${name}`];
  }
  const changes: string[] = [];
  if (!role.rolcanlogin || role.rolsuper || role.rolcreatedb || role.rolcreaterole || role.rolreplication || role.rolbypassrls) {
    await c.query(plainLoginSql(name));
    changes.push(`made role ${name} a plain login role (no superuser, createdb, createrole, replication or bypassrls)`);
  }
  if (!passwordMatches(role.rolpassword, name, password)) {
    await c.query(setPasswordSql(name, password));
    changes.push(`changed the password of role ${name}`);
  }
  return changes;
}

async function snapshot(c: pg.Client): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const schemas = await c.query<{ name: string; owner: string; acl: string | null }>(
    "SELECT nspname AS name, pg_get_userbyid(nspowner) AS owner, nspacl::text AS acl FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
  );
  for (const r of schemas.rows) out.set(`schema:${r.name}`, `${r.owner} ${r.acl ?? ''}`);
  const defaults = await c.query<{ role: string; schema: string | null; type: string; acl: string | null }>(
    'SELECT pg_get_userbyid(d.defaclrole) AS role, n.nspname AS schema, d.defaclobjtype AS type, d.defaclacl::text AS acl FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace',
  );
  for (const r of defaults.rows) out.set(`default:${r.role}:${r.schema ?? ''}:${r.type}`, r.acl ?? '');
  const relations = await c.query<{ schema: string; name: string; kind: string; acl: string | null }>(
    "SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, c.relacl::text AS acl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'",
  );
  for (const r of relations.rows) out.set(`${r.kind === 'S' ? 'sequence' : 'table'}:${r.schema}.${r.name}`, r.acl ?? '');
  return out;
}

/** What the grants changed, in words for the deployment log. */
function describeChanges(before: Snapshot, after: Snapshot, plan: PostgresProvisioning): string[] {
  const changed = (prefix: string) => [...after.keys()].filter((k) => k.startsWith(prefix) && before.get(k) !== after.get(k)).map((k) => k.slice(prefix.length));
  const out: string[] = [];
  const schemas = changed('schema:');
  if (schemas.length > 0) out.push(`set schema(s) ${schemas.sort().join(', ')}: owned by ${plan.owner.name}, usable by ${plan.app.name}`);
  if (changed('default:').length > 0) out.push(`set default privileges: schemas, tables and sequences ${plan.owner.name} creates are usable by ${plan.app.name} (rows only)`);
  const tables = changed('table:');
  if (tables.length > 0) out.push(`granted ${plan.app.name} SELECT, INSERT, UPDATE, DELETE on ${tables.length} existing table(s)`);
  const sequences = changed('sequence:');
  if (sequences.length > 0) out.push(`granted ${plan.app.name} USAGE, SELECT, UPDATE on ${sequences.length} existing sequence(s)`);
  return out;
}
