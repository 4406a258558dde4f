/** The access role of the Store port (users, API tokens, the append-only audit log) over Kysely. */
import type { ApiToken, AuditEntry, Scope, User } from '../core/domain';
import { SlipwayError } from '../core/errors';
import type { AccessStore, AuditQuery, NewToken } from '../core/ports/store';
import { checkLimit, type Db, now, type Row } from './query-support';

export function accessQueries(db: Db): AccessStore {
  return {
    async createUser(u: { name: string; passwordHash: string; scope: Scope }): Promise<User> {
      const row = await db
        .insertInto('users')
        .values({ name: u.name, password_hash: u.passwordHash, scope: u.scope, created_at: now() })
        .onConflict((oc) => oc.column('name').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new SlipwayError('SLW_CONFLICT', `a user named "${u.name}" already exists`);
      return toUser(row);
    },

    async getUserByName(name: string): Promise<(User & { passwordHash: string }) | null> {
      const row = await db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
      return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
    },

    async getUserById(id: number): Promise<User | null> {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toUser(row) : null;
    },

    async listUsers(): Promise<User[]> {
      return (await db.selectFrom('users').selectAll().orderBy('id').execute()).map(toUser);
    },

    async deleteUser(name: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const user = await trx.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
        if (!user) return false;
        await trx.deleteFrom('api_tokens').where('user_id', '=', user.id).execute();
        await trx.deleteFrom('users').where('id', '=', user.id).execute();
        return true;
      });
    },

    async createToken(t: NewToken): Promise<ApiToken> {
      const row = await db
        .insertInto('api_tokens')
        .values({
          id: t.id,
          name: t.name,
          token_hash: t.tokenHash,
          scope: t.scope,
          project: t.project,
          user_id: t.userId,
          created_by: t.createdBy,
          parent_token_id: t.parentTokenId,
          created_at: now(),
          expires_at: t.expiresAt,
          last_used_at: null,
          revoked_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toToken(row);
    },

    async getTokenByHash(tokenHash: string): Promise<ApiToken | null> {
      const row = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return row ? toToken(row) : null;
    },

    async listTokens(): Promise<ApiToken[]> {
      return (await db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute()).map(toToken);
    },

    async revokeToken(id: string): Promise<boolean> {
      const r = await db.updateTable('api_tokens').set({ revoked_at: now() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async touchToken(id: string, at: string): Promise<void> {
      await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
    },

    async appendAudit(e: Omit<AuditEntry, 'seq' | 'at' | 'count'> & { count?: number }): Promise<AuditEntry> {
      const row = await db
        .insertInto('audit_log')
        .values({ at: now(), actor: e.actor, action: e.action, project: e.project, target: e.target, client_ip: e.clientIp, outcome: e.outcome, status: e.status, detail: e.detail, count: e.count ?? 1 })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toAudit(row);
    },

    async listAudit(q: AuditQuery): Promise<AuditEntry[]> {
      checkLimit(q.limit);
      const rows = await db
        .selectFrom('audit_log')
        .selectAll()
        .$if(q.project !== undefined, (qb) => qb.where('project', '=', q.project!))
        .$if(q.since !== undefined, (qb) => qb.where('at', '>=', q.since!))
        .orderBy('seq', 'desc')
        .$if(q.limit !== undefined, (qb) => qb.limit(q.limit!))
        .execute();
      return rows.map(toAudit);
    },
  };
}

const toUser = (r: Row<'users'>): User => ({ id: r.id, name: r.name, scope: r.scope, createdAt: r.created_at });
const toToken = (r: Row<'api_tokens'>): ApiToken => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  project: r.project,
  userId: r.user_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
  parentTokenId: r.parent_token_id,
});
const toAudit = (r: Row<'audit_log'>): AuditEntry => ({
  seq: r.seq,
  at: r.at,
  actor: r.actor,
  action: r.action,
  project: r.project,
  target: r.target,
  clientIp: r.client_ip,
  outcome: r.outcome,
  status: r.status,
  detail: r.detail,
  count: r.count,
});
