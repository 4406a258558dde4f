/**
 * Who may call the API: users (argon2id passwords), API tokens (random, shown once,
 * stored as sha256, with a scope, an optional project restriction and an expiry) and the
 * principal a request acts as. The bootstrap admin token in the data directory is an
 * ordinary token record, so every request is authorised the same way.
 */
import { createHash, randomBytes } from 'node:crypto';
import { MAX_TOKEN_LIFETIME_DAYS, MAX_TOKEN_LIFETIME_MS } from '../core/contract/requests';
import { scopeAllows, type ApiToken, type Scope, type User } from '../core/domain';
import { SlipwayError } from '../core/errors';
import type { PasswordHasher } from '../core/ports/password-hasher';
import type { Store } from '../core/ports/store';

/** The identity a request acts as. */
export interface Principal {
  /** For audit records and deployments: `user:alice`, `token:ci (tok_…)`. */
  actor: string;
  scope: Scope;
  /** Only this project, when set. */
  project: string | null;
  tokenId: string;
  /** When the token stops working (null: never). */
  expiresAt: string | null;
  /** A dashboard sign-in made this token: signing out revokes it. */
  dashboardSession: boolean;
}

export interface IssuedToken {
  /** The secret: shown once, never stored. */
  token: string;
  record: ApiToken;
}

export const LOCAL_ADMIN_TOKEN_ID = 'tok_local_admin';
const TOKEN_PREFIX = 'slw_';
/** last_used_at is written at most this often per token (not on every request). */
const TOUCH_EVERY_MS = 60_000;
const DEFAULT_LOGIN_TOKEN_MS = 30 * 24 * 60 * 60 * 1000;
/** The name of tokens issued by a dashboard sign-in (signing out revokes them). */
export const DASHBOARD_SESSION_TOKEN = 'dashboard session';
const USER_NAME_RE = /^[a-z][a-z0-9._-]{0,39}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class Access {
  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
  ) {}

  /**
   * Makes the data directory's admin token a token record and, on first start, creates
   * the `admin` user. Returns the generated password when one was made (to print once).
   */
  async bootstrap(opts: { adminTokenHash: string; adminPassword?: string }): Promise<{ generatedPassword: string | null }> {
    if (!(await this.store.getTokenByHash(opts.adminTokenHash))) {
      // The admin-token file changed (or this is the first start): the old one stops working.
      for (const t of await this.store.listTokens()) if (t.id.startsWith(LOCAL_ADMIN_TOKEN_ID) && !t.revokedAt) await this.store.revokeToken(t.id);
      await this.store.createToken({
        id: `${LOCAL_ADMIN_TOKEN_ID}_${randomBytes(4).toString('hex')}`,
        name: 'local admin (data directory)',
        tokenHash: opts.adminTokenHash,
        scope: 'admin',
        project: null,
        userId: null,
        createdBy: 'system',
        parentTokenId: null,
        expiresAt: null,
      });
    }
    if ((await this.store.listUsers()).length > 0) return { generatedPassword: null };
    const password = opts.adminPassword ?? randomBytes(18).toString('base64url');
    await this.store.createUser({ name: 'admin', passwordHash: await this.hasher.hash(password), scope: 'admin' });
    return { generatedPassword: opts.adminPassword ? null : password };
  }

  /** The principal of a bearer token, or SLW_UNAUTHORIZED saying why not. */
  async authenticate(token: string): Promise<Principal> {
    const record = await this.store.getTokenByHash(hashToken(token));
    if (!record) throw new SlipwayError('SLW_UNAUTHORIZED', 'invalid token');
    if (record.revokedAt) throw new SlipwayError('SLW_UNAUTHORIZED', `token ${record.id} was revoked`);
    const now = Date.now();
    if (record.expiresAt && Date.parse(record.expiresAt) <= now) throw new SlipwayError('SLW_UNAUTHORIZED', `token ${record.id} expired at ${record.expiresAt}`);
    if (!record.lastUsedAt || now - Date.parse(record.lastUsedAt) > TOUCH_EVERY_MS) await this.store.touchToken(record.id, new Date(now).toISOString());
    return {
      actor: await this.actorOf(record),
      scope: record.scope,
      project: record.project,
      tokenId: record.id,
      expiresAt: record.expiresAt,
      dashboardSession: record.name === DASHBOARD_SESSION_TOKEN && record.userId !== null,
    };
  }

  /** Password → a new token with the user's scope (default expiry 30 days). */
  async login(name: string, password: string, opts: { tokenName?: string; expiresInMs?: number } = {}): Promise<IssuedToken & { user: User }> {
    const user = await this.store.getUserByName(name);
    // Verify against a dummy hash when the user is unknown, so timing does not reveal names.
    const ok = await this.hasher.verify(user?.passwordHash ?? DUMMY_HASH, password);
    if (!user || !ok) throw new SlipwayError('SLW_UNAUTHORIZED', 'wrong user name or password');
    const issued = await this.issue({
      name: opts.tokenName ?? `login ${name}`,
      scope: user.scope,
      project: null,
      userId: user.id,
      createdBy: `user:${name}`,
      parentTokenId: null,
      expiresInMs: opts.expiresInMs ?? DEFAULT_LOGIN_TOKEN_MS,
    });
    const { passwordHash: _omit, ...plain } = user;
    return { ...issued, user: plain };
  }

  /**
   * A token for automation (CI, webhooks…): never more than its creator holds, and never
   * longer: without an expiry it ends when the creating token does; revoking the creator (or
   * removing the user who signed in with it) revokes it too.
   */
  async createToken(by: Principal, req: { name: string; scope: Scope; project?: string | null; expiresInMs?: number | null }): Promise<IssuedToken> {
    if (!scopeAllows(by.scope, req.scope)) throw new SlipwayError('SLW_FORBIDDEN', `a ${by.scope} token cannot create a ${req.scope} token`);
    if (by.project && req.project !== by.project) {
      throw new SlipwayError('SLW_FORBIDDEN', `a token restricted to project "${by.project}" can only create tokens for that project`, [{ path: 'project', message: `must be "${by.project}"` }]);
    }
    let expiresInMs = req.expiresInMs ?? null;
    // One clock reading for the cap and the expiry, so a tick between them cannot outlast the creator.
    const now = Date.now();
    if (by.expiresAt) {
      const left = Date.parse(by.expiresAt) - now;
      if (expiresInMs === null) expiresInMs = left;
      else if (expiresInMs > left) {
        const message = `must not outlast the token creating it (${by.tokenId} expires at ${by.expiresAt})`;
        throw new SlipwayError('SLW_BAD_REQUEST', `expiresIn: ${message}`, [{ path: 'expiresIn', message }]);
      }
    }
    return this.issue({ name: req.name, scope: req.scope, project: req.project ?? null, userId: null, createdBy: by.actor, parentTokenId: by.tokenId, expiresInMs, now });
  }

  listTokens(): Promise<ApiToken[]> {
    return this.store.listTokens();
  }

  /** Revokes the token and every token created with it, down the chain. Returns the descendants revoked. */
  async revokeToken(id: string): Promise<string[]> {
    const descendants = descendantsOf(await this.store.listTokens(), new Set([id]));
    if (!(await this.store.revokeToken(id))) throw new SlipwayError('SLW_NOT_FOUND', `no active token ${id}`);
    return this.revokeAll(descendants);
  }

  async createUser(req: { name: string; password: string; scope: Scope }): Promise<User> {
    if (!USER_NAME_RE.test(req.name)) throw new SlipwayError('SLW_BAD_REQUEST', 'name: must be lowercase letters, digits, ".", "_" or "-", starting with a letter', [{ path: 'name', message: 'must be lowercase letters, digits, ".", "_" or "-", starting with a letter' }]);
    if (req.password.length < 12) throw new SlipwayError('SLW_BAD_REQUEST', 'password: must be at least 12 characters', [{ path: 'password', message: 'must be at least 12 characters' }]);
    return this.store.createUser({ name: req.name, passwordHash: await this.hasher.hash(req.password), scope: req.scope });
  }

  listUsers(): Promise<User[]> {
    return this.store.listUsers();
  }

  /**
   * Removes the user, the tokens issued to them (deleted with them) and revokes every token
   * they created, directly or through tokens they created. Returns the ids revoked.
   */
  async deleteUser(name: string): Promise<string[]> {
    const user = await this.store.getUserByName(name);
    if (!user) throw new SlipwayError('SLW_NOT_FOUND', `no user "${name}"`);
    const tokens = await this.store.listTokens();
    // Their sign-in tokens, plus tokens whose creator was recorded only as `user:<name>` (before 0013).
    const roots = new Set(tokens.filter((t) => t.userId === user.id || t.createdBy === `user:${name}`).map((t) => t.id));
    const revoked = await this.revokeAll([...roots, ...descendantsOf(tokens, roots)]);
    if (!(await this.store.deleteUser(name))) throw new SlipwayError('SLW_NOT_FOUND', `no user "${name}"`);
    return revoked;
  }

  /** Revokes the still-active ones; returns those it revoked. */
  private async revokeAll(ids: string[]): Promise<string[]> {
    const revoked: string[] = [];
    for (const id of ids) if (await this.store.revokeToken(id)) revoked.push(id);
    return revoked;
  }

  private async issue(t: { name: string; scope: Scope; project: string | null; userId: number | null; createdBy: string; parentTokenId: string | null; expiresInMs: number | null; now?: number }): Promise<IssuedToken> {
    // The API bounds expiresIn already; this keeps any other caller from an expiry that is no date.
    if (t.expiresInMs !== null && !(t.expiresInMs <= MAX_TOKEN_LIFETIME_MS)) {
      const message = `must be at most ${MAX_TOKEN_LIFETIME_DAYS}d (10 years)`;
      throw new SlipwayError('SLW_BAD_REQUEST', `expiresIn: ${message}`, [{ path: 'expiresIn', message }]);
    }
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record = await this.store.createToken({
      id: `tok_${randomBytes(6).toString('hex')}`,
      name: t.name,
      tokenHash: hashToken(token),
      scope: t.scope,
      project: t.project,
      userId: t.userId,
      createdBy: t.createdBy,
      parentTokenId: t.parentTokenId,
      expiresAt: t.expiresInMs === null ? null : new Date((t.now ?? Date.now()) + t.expiresInMs).toISOString(),
    });
    return { token, record };
  }

  private async actorOf(t: ApiToken): Promise<string> {
    if (t.userId !== null) {
      const user = await this.store.getUserById(t.userId);
      if (user) return `user:${user.name}`;
    }
    return `token:${t.name} (${t.id})`;
  }
}

/** Every token created from one of `roots`, directly or down the chain (roots excluded). */
export function descendantsOf(tokens: readonly ApiToken[], roots: ReadonlySet<string>): string[] {
  const children = new Map<string, string[]>();
  for (const t of tokens) if (t.parentTokenId) children.set(t.parentTokenId, [...(children.get(t.parentTokenId) ?? []), t.id]);
  const seen = new Set(roots);
  const out: string[] = [];
  const queue = [...roots];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** A valid argon2id hash of a random string, verified against when the user is unknown. */
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$nE6x93mzjDlb9zVN+N2OZA$LHQOyYy0Y1TRyh0S/Tu5q5CzuttdQQwtKPnCyus3NVg';
