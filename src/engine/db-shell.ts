/**
 * `slipway db shell`: SQL run by psql, as the database's owner, in a one-off container of
 * the accessory's own image (it has psql) on the environment's private network, where the
 * accessory answers by name. The SQL reaches psql through an environment variable, never a
 * shell string built from it; the connection comes as PG* variables, so no password sits
 * in an argv. Output is masked with the accessory's credentials. Postgres accessories only.
 */
import { randomBytes } from 'node:crypto';
import { SlipwayError } from '../core/errors';
import type { OneOffResult } from '../core/ports/runtime';
import type { AccessoryServices, EngineContext } from './engine-context';
import { secretMasker } from './secret-values';
import { placeContainer } from './placement';

export interface DbShellRequest {
  sql: string;
  timeoutMs: number;
  onOutput: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface DbShellTarget {
  project: string;
  env: string;
  accessory: string;
}

/** A fixed script: the SQL is data in $SLIPWAY_SQL, fed to psql's stdin so every statement prints its own result. */
const PSQL_SCRIPT = 'printf \'%s\\n\' "$SLIPWAY_SQL" | psql -X -v ON_ERROR_STOP=1 -f -';

export class DbShell {
  /** `accessories`: default ctx.accessories (set by main.ts once the accessory manager is built). */
  constructor(
    private readonly ctx: EngineContext,
    private readonly accessories?: Pick<AccessoryServices, 'connectionEnv'>,
  ) {}

  /** Checks the target first, so a bad request fails before any output is streamed. */
  async prepare(t: DbShellTarget): Promise<(req: DbShellRequest) => Promise<OneOffResult>> {
    const { store } = this.ctx;
    const project = await store.getProject(t.project);
    if (!project) throw new SlipwayError('SLW_NOT_FOUND', `project "${t.project}" does not exist; deploy it first with "slipway deploy"`);
    const env = await store.getEnvironment(project.id, t.env);
    if (!env) throw new SlipwayError('SLW_NOT_FOUND', `environment "${t.env}" does not exist in project "${t.project}"`);
    const record = await store.getAccessory(env.id, t.accessory);
    if (!record) {
      const known = (await store.listAccessories(env.id)).map((a) => a.name);
      throw new SlipwayError('SLW_NOT_FOUND', `accessory "${t.accessory}" does not exist in ${t.project} ${t.env} (${known.length ? `accessories: ${known.join(', ')}` : 'it has no accessories'})`, [
        { path: 'name', message: 'must be an accessory of this environment' },
      ]);
    }
    if (record.kind !== 'postgres') {
      throw new SlipwayError('SLW_BAD_REQUEST', `accessory "${t.accessory}" is a ${record.kind} accessory: db shell runs psql against postgres accessories only`, [
        { path: 'name', message: 'must be a postgres accessory' },
      ]);
    }
    const manager = this.accessories ?? this.ctx.accessories;
    if (!manager) throw new SlipwayError('SLW_INTERNAL', 'the accessory manager is not wired into this control plane');
    const { env: vars, secrets } = await manager.connectionEnv(env.id, [{ accessory: record.name, kind: 'postgres', vars: { url: 'DATABASE_URL' } }], 'owner');
    const connection = pgEnv(vars.DATABASE_URL, t.accessory);
    const mask = secretMasker(secrets);
    return async (req) => {
      const result = await this.ctx.runtime.runOnce({
        kind: 'run',
        server: placeContainer(this.ctx.runtime),
        name: `${t.project}-${t.accessory}-${t.env}-dbshell-${randomBytes(3).toString('hex')}`,
        image: record.imageDigest,
        env: { ...connection, SLIPWAY_SQL: req.sql },
        labels: { project: t.project, service: t.accessory, env: t.env, release: 0, deployment: 'db-shell' },
        argv: ['sh', '-c', PSQL_SCRIPT],
        timeoutMs: req.timeoutMs,
        onOutput: (line, stream) => req.onOutput(mask(line), stream),
      });
      // Never the SQL or its output: how much was run and how it ended.
      this.ctx.logger.info({ ...t, statements: countStatements(req.sql), exitCode: result.exitCode, timedOut: result.timedOut }, 'db shell statement(s) run');
      return result;
    };
  }
}

/** The owner URL as libpq's variables (psql reads them; nothing secret in the argv). */
function pgEnv(url: string | undefined, accessory: string): Record<string, string> {
  if (!url) throw new SlipwayError('SLW_INTERNAL', `accessory "${accessory}" has no connection URL (its credentials are missing)`);
  const u = new URL(url);
  return {
    PGHOST: u.hostname,
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: decodeURIComponent(u.pathname.replace(/^\//, '')),
    PGCONNECT_TIMEOUT: '10',
    PGAPPNAME: 'slipway-db-shell',
  };
}

/**
 * How many statements a script holds (for the audit record, which never carries the SQL):
 * `;`-terminated, outside quotes ('…', "…", $tag$…$tag$) and comments; a last statement
 * without `;` counts too. psql meta-commands (`\dt`) count as one each.
 */
export function countStatements(sql: string): number {
  let count = 0;
  let pending = false;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === "'" || c === '"') {
      pending = true;
      i++;
      while (i < n) {
        if (sql[i] === c) {
          if (sql[i + 1] === c) i += 2;
          else break;
        } else i++;
      }
      i++;
      continue;
    }
    if (c === '$') {
      const tag = /^\$[A-Za-z_]?[A-Za-z0-9_]*\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        pending = true;
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? n : end + tag[0].length;
        continue;
      }
    }
    if (c === '\\' && !pending) {
      // A meta-command runs to the end of its line.
      count++;
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === ';') {
      if (pending) count++;
      pending = false;
    } else if (!/\s/.test(c)) pending = true;
    i++;
  }
  return count + (pending ? 1 : 0);
}
