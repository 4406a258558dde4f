// Types of pg-client.js for the TypeScript tests that import it (the app itself is plain JS).
export interface PgTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}
export interface PgField {
  name: string;
  typeOid: number;
}
export interface PgResult {
  command: string;
  fields: PgField[];
  rows: Array<Record<string, unknown>>;
}
export class PgError extends Error {
  code: string | null;
  severity: string | null;
  detail: string | null;
}
export function literal(value: unknown): string;
export function parsePgUrl(url: string): PgTarget;
export class PgClient {
  constructor(target: string | PgTarget, opts?: { connectTimeoutMs?: number; queryTimeoutMs?: number; applicationName?: string });
  /** Resolves with the last statement's result, and every statement's in `results`. */
  query(sql: string): Promise<PgResult & { results: PgResult[] }>;
  end(): Promise<void>;
}
