/**
 * The SQL of the Postgres two-user model, built without I/O so it can be checked alone.
 * Identifiers go through pg's escapeIdentifier and literals through escapeLiteral (DDL takes
 * no bind parameters). Passwords never travel or appear in a statement in clear: roles get a
 * SCRAM-SHA-256 verifier computed here, so a failing statement Postgres writes to its log,
 * or an error that quotes it, gives no password away.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import pg from 'pg';
import { SlipwayError } from '../../core/errors';
import type { PostgresProvisioning, PostgresTarget } from '../../core/ports/postgres-admin';

export const ident = (name: string): string => pg.escapeIdentifier(name);
export const literal = (value: string): string => pg.escapeLiteral(value);

const SCRAM_ITERATIONS = 4096;

/** The verifier Postgres stores for a password (`SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`, RFC 5802/7677). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const { storedKey, serverKey } = scramKeys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

function scramKeys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  // SASLprep is the identity for the printable ASCII Slipway generates; Postgres also uses the raw bytes when it cannot normalize.
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return { storedKey: createHash('sha256').update(clientKey).digest(), serverKey: createHmac('sha256', salted).update('Server Key').digest() };
}

/** Whether a stored `rolpassword` (SCRAM or md5) is this password's: provisioning then leaves it alone. */
export function passwordMatches(stored: string | null, role: string, password: string): boolean {
  if (!stored) return false;
  const scram = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(stored);
  if (scram) {
    const iterations = Number(scram[1]);
    if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 1_000_000) return false;
    const { storedKey, serverKey } = scramKeys(password, Buffer.from(scram[2]!, 'base64'), iterations);
    return same(storedKey, Buffer.from(scram[3]!, 'base64')) && same(serverKey, Buffer.from(scram[4]!, 'base64'));
  }
  if (/^md5[0-9a-f]{32}$/.test(stored)) return same(Buffer.from(stored), Buffer.from(`md5${createHash('md5').update(password + role).digest('hex')}`));
  return false;
}

const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

/** A login role without any power of its own: no superuser, no CREATEDB/CREATEROLE, no replication, no RLS bypass. */
const PLAIN_LOGIN = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';

export const createRoleSql = (role: string, password: string, salt?: Buffer): string => `CREATE ROLE ${ident(role)} ${PLAIN_LOGIN} PASSWORD ${literal(scramVerifier(password, salt))}`;
export const setPasswordSql = (role: string, password: string, salt?: Buffer): string => `ALTER ROLE ${ident(role)} PASSWORD ${literal(scramVerifier(password, salt))}`;
export const plainLoginSql = (role: string): string => `ALTER ROLE ${ident(role)} ${PLAIN_LOGIN}`;
export const createDatabaseSql = (database: string, owner: string): string => `CREATE DATABASE ${ident(database)} OWNER ${ident(owner)}`;
export const databaseOwnerSql = (database: string, owner: string): string => `ALTER DATABASE ${ident(database)} OWNER TO ${ident(owner)}`;

/** Run as the superuser on the cluster: only the owner and the app role may connect to the database. */
export function databaseAccessSql(database: string, app: string): string[] {
  return [`REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC`, `GRANT CONNECT ON DATABASE ${ident(database)} TO ${ident(app)}`];
}

/**
 * Run as the superuser inside the database. The owner owns `public` (and whatever it creates);
 * the app role may use the schemas and read and write rows — never create, alter, drop or
 * truncate. Default privileges make what the owner creates later (migrations) usable by the
 * app role; the grants on existing objects cover what was created before.
 */
export function schemaPrivilegesSql(owner: string, app: string, schemas: readonly string[]): string[] {
  const o = ident(owner);
  const a = ident(app);
  const out = ['REVOKE CREATE ON SCHEMA public FROM PUBLIC', `ALTER SCHEMA public OWNER TO ${o}`];
  out.push(
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} GRANT USAGE ON SCHEMAS TO ${a}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${a}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${a}`,
  );
  for (const schema of schemas) {
    const s = ident(schema);
    out.push(
      `GRANT USAGE ON SCHEMA ${s} TO ${a}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${a}`,
      `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${s} TO ${a}`,
    );
  }
  return out;
}

/** User schemas: not the catalogs, TOAST or temporary ones. */
export const USER_SCHEMAS_SQL = "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY nspname";

/** User tables (partitioned parents counted once, their partitions not again), as schema and name. */
export const USER_TABLES_SQL =
  "SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 1, 2";

export const countRowsSql = (schema: string, table: string): string => `SELECT count(*)::bigint AS n FROM ${ident(schema)}.${ident(table)}`;

const MAX_IDENTIFIER_BYTES = 63;

/** The plan must name distinct, non-superuser roles and carry passwords; names must fit Postgres' 63 bytes (longer ones are silently truncated). */
export function checkProvisioning(target: PostgresTarget, plan: PostgresProvisioning): void {
  const errors: Array<{ path: string; message: string }> = [];
  const name = (path: string, value: string) => {
    if (value.length === 0) errors.push({ path, message: 'must not be empty' });
    else if (Buffer.byteLength(value) > MAX_IDENTIFIER_BYTES) errors.push({ path, message: `must be at most ${MAX_IDENTIFIER_BYTES} bytes` });
    else if (value.includes('\0')) errors.push({ path, message: 'must not contain a NUL character' });
  };
  name('database', plan.database);
  if (['postgres', 'template0', 'template1'].includes(plan.database)) errors.push({ path: 'database', message: `must not be a system database (got "${plan.database}")` });
  name('owner.name', plan.owner.name);
  name('app.name', plan.app.name);
  if (plan.owner.name === plan.app.name) errors.push({ path: 'app.name', message: 'must differ from the owner role' });
  for (const [path, role] of [['owner.name', plan.owner.name], ['app.name', plan.app.name]] as const) {
    if (role === target.user || role.startsWith('pg_')) errors.push({ path, message: `must not be the superuser or a reserved role (got "${role}")` });
  }
  if (plan.owner.password.length === 0) errors.push({ path: 'owner.password', message: 'must not be empty' });
  if (plan.app.password.length === 0) errors.push({ path: 'app.password', message: 'must not be empty' });
  if (errors.length > 0) throw new SlipwayError('SLW_INTERNAL', `invalid Postgres provisioning: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

/** Replaces every occurrence of a secret (and of its SQL-literal form) in a text with `[secret]`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((v) => v.length > 0).sort((a, b) => b.length - a.length)) {
    for (const needle of new Set([s, s.replaceAll("'", "''")])) out = out.split(needle).join('[secret]');
  }
  return out;
}
