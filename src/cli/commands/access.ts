/** slipway tokens / users / audit: administration of who may do what, and what was done. */
import type { Command } from 'commander';
import { SCOPES, type Scope } from '../../core/domain';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { ago, printJson, printTable } from '../output';
import { readPassword } from '../read-password';

function scopeOf(value: string): Scope {
  if (!(SCOPES as readonly string[]).includes(value)) throw new CliError(`--scope: must be one of ${SCOPES.join(', ')} (got "${value}")`);
  return value as Scope;
}

export function registerAccess(program: Command): void {
  const tokens = program.command('tokens').description('API tokens: create (shown once), list, revoke');
  tokens
    .command('create')
    .description('create a token; its secret is printed once and never stored')
    .requiredOption('--name <name>', 'what uses it, e.g. "github-actions"')
    .option('--scope <scope>', `read, deploy or admin`, 'deploy')
    .option('--project <name>', 'restrict it to one project')
    .option('--expires <duration>', 'lifetime, e.g. 90d (default: never expires)')
    .addHelpText('after', '\nExample:\n  slipway tokens create --name ci --scope deploy --project shop --expires 90d')
    .action(async (opts: { name: string; scope: string; project?: string; expires?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const res = await connect(g).createToken({ name: opts.name, scope: scopeOf(opts.scope), project: opts.project, expiresIn: opts.expires });
      if (g.json) return printJson(res);
      console.log(res.token);
      console.error(`token ${res.tokenInfo.id} (${res.tokenInfo.scope}${res.tokenInfo.project ? `, project ${res.tokenInfo.project}` : ''}${res.tokenInfo.expiresAt ? `, expires ${res.tokenInfo.expiresAt}` : ''}): copy it now, it is not shown again`);
    });
  tokens
    .command('list')
    .description('tokens with scope, project, expiry and last use (never their secrets)')
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { tokens: list } = await connect(g).tokens();
      if (g.json) return printJson(list);
      printTable(
        list.map((t) => ({
          id: t.id,
          name: t.name,
          scope: t.scope,
          project: t.project ?? '*',
          state: t.revokedAt ? 'revoked' : t.expiresAt && Date.parse(t.expiresAt) < Date.now() ? 'expired' : 'active',
          expires: t.expiresAt ?? 'never',
          used: ago(t.lastUsedAt),
          by: t.createdBy,
        })),
        ['id', 'name', 'scope', 'project', 'state', 'expires', 'used', 'by'],
      );
    });
  tokens
    .command('revoke')
    .description('revoke a token at once')
    .argument('<id>', 'token id (tok_…)')
    .action(async (id: string, _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const res = await connect(g).revokeToken(id);
      if (g.json) return printJson(res);
      console.log(`revoked ${id}`);
    });

  const users = program.command('users').description('user accounts (sign in with slipway login)');
  users
    .command('add')
    .description('add a user; the password comes from SLIPWAY_PASSWORD, stdin or a prompt')
    .argument('<name>')
    .option('--scope <scope>', 'read, deploy or admin', 'deploy')
    .option('--password-stdin', 'read the password from stdin')
    .action(async (name: string, opts: { scope: string; passwordStdin?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const scope = scopeOf(opts.scope);
      const password = await readPassword(`password for ${name} (12+ characters): `, { stdin: opts.passwordStdin });
      const { user } = await connect(g).createUser({ name, password, scope });
      if (g.json) return printJson(user);
      console.log(`added user ${user.name} (${user.scope})`);
    });
  users
    .command('list')
    .description('users and their scopes')
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { users: list } = await connect(g).users();
      if (g.json) return printJson(list);
      printTable(list.map((u) => ({ name: u.name, scope: u.scope, created: ago(u.createdAt) })), ['name', 'scope', 'created']);
    });
  users
    .command('remove')
    .description('remove a user; the tokens issued to them and every token they created are revoked')
    .argument('<name>')
    .action(async (name: string, _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const res = await connect(g).deleteUser(name);
      if (g.json) return printJson(res);
      console.log(`removed user ${name}; the tokens they created are revoked`);
    });

  program
    .command('audit')
    .description('who did what, when, from where, with what outcome (newest first); repeated refusals show ×count')
    .option('-p, --project <name>', 'only this project')
    .option('--since <duration>', 'only the last … (e.g. 1h, 7d)')
    .option('--limit <n>', 'at most this many entries', '50')
    .addHelpText('after', '\nExample:\n  slipway audit --project shop --since 24h')
    .action(async (opts: { project?: string; since?: string; limit: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit: must be a whole number ≥ 1 (got "${opts.limit}")`);
      const { entries } = await connect(g).audit({ project: opts.project, since: opts.since, limit });
      if (g.json) return printJson(entries);
      if (entries.length === 0) return console.log('no audit entries match');
      printTable(
        entries.map((e) => ({ at: e.at.replace('T', ' ').slice(0, 19), actor: e.actor, action: e.action, project: e.project ?? '-', target: e.target ?? '-', ip: e.clientIp, outcome: `${e.outcome} ${e.status}${e.count > 1 ? ` ×${e.count}` : ''}`, detail: e.detail ?? '' })),
        ['at', 'actor', 'action', 'project', 'target', 'ip', 'outcome', 'detail'],
      );
    });
}
