/** slipway login / whoami / context: signing in to control planes and switching between them. */
import type { Command } from 'commander';
import { SlipwayClient } from '../../client/api-client';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { readContexts, writeContexts } from '../contexts';
import { printJson, printTable } from '../output';
import { readPassword } from '../read-password';

interface LoginOptions {
  user?: string;
  passwordStdin?: boolean;
  name?: string;
  expires?: string;
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('sign in to a control plane and save it as a context (the current one from now on)')
    .option('-u, --user <name>', 'user name (password from SLIPWAY_PASSWORD, stdin or a prompt)')
    .option('--password-stdin', 'read the password from stdin')
    .option('--name <context>', 'context name (default: the URL host)')
    .option('--expires <duration>', 'lifetime of the token a password sign-in creates (e.g. 12h, 30d)', '30d')
    .addHelpText('after', '\nExamples:\n  slipway login --url https://deploy.example.com --user alice\n  slipway login --url https://deploy.example.com --token "$SLIPWAY_CI_TOKEN" --name ci\n  slipway context use ci')
    .action(async (opts: LoginOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & LoginOptions>();
      if (!g.url) throw new CliError('login needs --url <control-plane URL>');
      if (!g.token && !opts.user) throw new CliError('login needs --user <name> (password sign-in) or --token <token>');
      let token = g.token;
      if (!token) {
        const password = await readPassword(`password for ${opts.user} at ${g.url}: `, { stdin: opts.passwordStdin });
        const res = await new SlipwayClient({ url: g.url }).login({ user: opts.user!, password, expiresIn: opts.expires, tokenName: `cli ${opts.user}` });
        token = res.token;
      }
      const me = await new SlipwayClient({ url: g.url, token }).whoami();
      const name = opts.name ?? new URL(g.url).host;
      const data = readContexts();
      data.contexts[name] = { url: g.url, token, actor: me.actor };
      data.current = name;
      writeContexts(data);
      if (g.json) return printJson({ context: name, url: g.url, ...me });
      console.log(`signed in to ${g.url} as ${me.actor} (scope ${me.scope}${me.project ? `, project ${me.project}` : ''}); context "${name}" is now current`);
    });

  program
    .command('whoami')
    .description('who the current token acts as, its scope and project restriction')
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const me = await connect(g).whoami();
      if (g.json) return printJson(me);
      console.log(`${me.actor} (scope ${me.scope}${me.project ? `, project ${me.project}` : ''}, token ${me.tokenId})`);
    });

  const context = program.command('context').description('control planes saved by `slipway login`');
  context
    .command('list')
    .description('saved contexts; * marks the current one')
    .action((_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const data = readContexts();
      const rows = Object.entries(data.contexts).map(([name, c]) => ({ current: name === data.current ? '*' : '', name, url: c.url, as: c.actor ?? '-' }));
      if (g.json) return printJson(rows.map(({ current, ...r }) => ({ ...r, current: current === '*' })));
      if (rows.length === 0) return console.log('no contexts yet: slipway login --url <url> --user <name>');
      printTable(rows, ['current', 'name', 'url', 'as']);
    });
  context
    .command('use')
    .description('make a saved context the current one')
    .argument('<name>')
    .action((name: string) => {
      const data = readContexts();
      if (!data.contexts[name]) throw new CliError(`no context "${name}" (known: ${Object.keys(data.contexts).join(', ') || 'none'})`);
      data.current = name;
      writeContexts(data);
      console.log(`context "${name}" (${data.contexts[name].url}) is now current`);
    });
  context
    .command('remove')
    .description('forget a saved context (its token stays valid until revoked or expired)')
    .argument('<name>')
    .action((name: string) => {
      const data = readContexts();
      if (!data.contexts[name]) throw new CliError(`no context "${name}"`);
      delete data.contexts[name];
      if (data.current === name) data.current = null;
      writeContexts(data);
      console.log(`removed context "${name}"`);
    });
}
