/**
 * What the per-role query modules (`*-queries.ts`) share: the Kysely instance's type, row
 * types, the clock, and the checks every role makes the same way.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import { SlipwayError } from '../core/errors';
import type { Database } from './schema';

export type Db = Kysely<Database>;
export type Row<T extends keyof Database> = Selectable<Database[T]>;

export const now = (): string => new Date().toISOString();

export function notFound(what: string, id: string | number): SlipwayError {
  return new SlipwayError('SLW_NOT_FOUND', `${what} ${id} does not exist`);
}

/** Reads the parent row inside the transaction; a missing parent is SLW_NOT_FOUND rather than a foreign-key error. */
export async function requireRow(
  trx: Transaction<Database>,
  table: 'projects' | 'services' | 'environments' | 'deployments',
  id: number | string,
  what: string,
): Promise<void> {
  const row =
    table === 'deployments'
      ? await trx.selectFrom('deployments').select('id').where('id', '=', String(id)).executeTakeFirst()
      : await trx.selectFrom(table).select('id').where('id', '=', Number(id)).executeTakeFirst();
  if (!row) throw notFound(what, id);
}

export function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new SlipwayError('SLW_BAD_REQUEST', `limit must be a whole number >= 0 (got ${limit})`);
  }
}
