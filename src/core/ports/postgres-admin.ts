/**
 * PostgresAdmin port: what the engine needs to provision a Postgres accessory (the two-user
 * model) over the wire, as its superuser. Implemented by src/drivers/postgres over `pg`; the
 * control plane reaches the accessory at its address on the project network from the host.
 */
export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Database to connect to; default `postgres`. */
  database?: string;
}

export interface PostgresRole {
  name: string;
  password: string;
}

export interface PostgresProvisioning {
  database: string;
  /** Owns the database and its schema: migrations (the release command) connect as it. */
  owner: PostgresRole;
  /** DML only (SELECT, INSERT, UPDATE, DELETE; sequences): cannot CREATE, DROP or ALTER. */
  app: PostgresRole;
}

export interface PostgresAdmin {
  /**
   * Idempotent: creates what is missing (roles, database, grants, default privileges so
   * tables the owner creates are usable by the app role) and sets the roles' passwords to
   * these. Returns what it created or changed, for the deployment log (never a password).
   */
  provision(target: PostgresTarget, plan: PostgresProvisioning, opts?: { timeoutMs?: number }): Promise<{ changes: string[] }>;
  /** Rows per table of a database (`schema.table` → count); for checks and backups. */
  tableRowCounts(target: PostgresTarget, database: string): Promise<Record<string, number>>;
}
