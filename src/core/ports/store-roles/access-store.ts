/** Store role: who may do what — users, API tokens (dashboard sessions are tokens too) and the audit log. */
import type { ApiToken, AuditEntry, Scope, User } from '../../domain';

export interface NewToken {
  id: string;
  name: string;
  /** sha256 hex of the token's secret. */
  tokenHash: string;
  scope: Scope;
  project: string | null;
  userId: number | null;
  createdBy: string;
  /** The token that created it, if any. */
  parentTokenId: string | null;
  expiresAt: string | null;
}

export interface AuditQuery {
  project?: string;
  /** ISO time: entries at or after it. */
  since?: string;
  limit?: number;
}

export interface AccessStore {
  /** Fails with SLW_CONFLICT when the name is taken. */
  createUser(u: { name: string; passwordHash: string; scope: Scope }): Promise<User>;
  getUserByName(name: string): Promise<(User & { passwordHash: string }) | null>;
  getUserById(id: number): Promise<User | null>;
  listUsers(): Promise<User[]>;
  /** Removes the user and the tokens issued to them; false if there was none. */
  deleteUser(name: string): Promise<boolean>;

  createToken(t: NewToken): Promise<ApiToken>;
  getTokenByHash(tokenHash: string): Promise<ApiToken | null>;
  listTokens(): Promise<ApiToken[]>;
  /** Marks it revoked (kept for the audit trail); false if unknown or already revoked. */
  revokeToken(id: string): Promise<boolean>;
  touchToken(id: string, at: string): Promise<void>;

  /** Append-only: there is no update or delete. */
  /** `count` defaults to 1. */
  appendAudit(e: Omit<AuditEntry, 'seq' | 'at' | 'count'> & { count?: number }): Promise<AuditEntry>;
  /** Newest first. */
  listAudit(q: AuditQuery): Promise<AuditEntry[]>;
}
