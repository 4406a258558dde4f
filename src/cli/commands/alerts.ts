/**
 * `slipway alerts`: what fires (and, with --all, fired), silences (`silence`, `silences`,
 * `unsilence`), the rules in force (`rules`) and the server-wide defaults (`defaults`). How it
 * prints is alerts-format.ts; the rules themselves are docs/alerts.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { formatErrors } from '../../core/parse-config';
import { ALERT_RULES, HOST_ALERT_RULES } from '../../core/alert-rules';
import { refused } from '../api-refusal';
import { defaultsLines, overviewLines, readDefaultsFile, rulesLines, SILENCE_COLUMNS, SILENCE_FLAGS, silencedLines, silenceRequest, silenceRows } from '../alerts-format';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { printJson, printTable } from '../output';
import { loadProjectConfig } from '../project-file';
import { projectOptions } from '../project-options';

const READ_ERRORS: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' };

/** --project, else slipway.yml's project; undefined when neither is there (only service rules need one). */
function projectOf(opts: { project?: string; file?: string }): string | undefined {
  if (opts.project) return opts.project;
  const file = opts.file ?? 'slipway.yml';
  if (!existsSync(path.resolve(file))) return undefined;
  return loadProjectConfig(file).config.project;
}

function readRulesFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`--file: cannot read ${file}: ${(code && READ_ERRORS[code]) ?? code ?? (err as Error).message}`);
  }
  let content: unknown;
  try {
    content = parseYaml(text);
  } catch (err) {
    throw new CliError(`--file: ${file} is not YAML or JSON: ${(err as Error).message.split('\n')[0]!.replace(/:$/, '')}`);
  }
  const r = readDefaultsFile(content);
  if ('problems' in r) throw new CliError(`--file: ${file} has invalid alert rules:\n${formatErrors(r.problems).replace(/^/gm, '  ')}`);
  return r.rules;
}

async function list(opts: { all?: boolean; project?: string }, cmd: Command): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const client = connect(g);
  const overview = await client.alerts({ ...(opts.all ? { all: 'true' as const } : {}), ...(opts.project ? { project: opts.project } : {}) });
  if (g.json) return printJson(overview);
  for (const line of overviewLines(overview, { baseUrl: client.url, now: Date.now(), all: Boolean(opts.all), ...(opts.project ? { project: opts.project } : {}) })) console.log(line);
}

export function registerAlerts(program: Command): void {
  // No options on the group itself: they would swallow the subcommands' own (`list` is the default).
  const alerts = program.command('alerts').description('alerts: what fires and fired, silences, the rules in force, the server-wide defaults (docs/alerts.md)');

  alerts
    .command('list', { isDefault: true })
    .description('alerts firing now (rule, subject, since, value, the command that explains it, its dashboard page), then the silences in force (the default: `slipway alerts`)')
    .option('--all', 'resolved alerts too (the newest 500)')
    .option('-p, --project <name>', "only this project's alerts and silences")
    .action(list);

  projectOptions(
    alerts
      .command('silence')
      .description('silence a rule for a while: its alerts are still recorded, but nothing is sent (deploy scope)')
      .argument('<rule>', `a rule (${ALERT_RULES.join(', ')}); a service rule alone silences every service of the project, web/error_rate (or web:error_rate) one service`)
      .requiredOption('--for <duration>', 'how long, e.g. 30m or 2h (at most 24d)')
      .option('--reason <text>', 'why (shown with the silence)')
      .option('--subject <subject>', 'host rules: one subject only, e.g. certificate:shop.example.com or backup:shop/production/db (default: all)'),
  )
    .addHelpText('after', `\nService rules (error_rate, p99, crash_loop, oom) are per project: -p/--project, or the project of slipway.yml;\nwith a service (web/error_rate) only that service, in --env. Host rules (${HOST_ALERT_RULES.join(', ')}) are\nserver-wide and need no slipway.yml.`)
    .action(async (target: string, opts: { for: string; reason?: string; subject?: string; project?: string; file?: string; env: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const req = silenceRequest(target, opts, () => projectOf(opts));
      if ('problem' in req) throw new CliError(`silence: ${req.problem}`);
      const { silence } = await connect(g).silenceAlert(req.body).catch((err: unknown) => refused(err, [], SILENCE_FLAGS));
      if (g.json) return printJson(silence);
      for (const line of silencedLines(silence, Date.now())) console.log(line);
    });

  alerts
    .command('silences')
    .description('the silences in force: what each covers, until when, why, who made it')
    .option('-p, --project <name>', "only this project's silences")
    .action(async (opts: { project?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { silences } = await connect(g).alerts(opts.project ? { project: opts.project } : {});
      if (g.json) return printJson(silences);
      if (silences.length === 0) return console.log('no silences in force');
      printTable(silenceRows(silences, Date.now()), SILENCE_COLUMNS);
    });

  alerts
    .command('unsilence')
    .description('end a silence now (deploy scope)')
    .argument('<id>', 'the silence (its id, as `slipway alerts silences` lists it)')
    .action(async (idArg: string, _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (!/^[1-9]\d{0,14}$/.test(idArg.trim())) throw new CliError(`unsilence: <id> must be a silence id (a number), as slipway alerts silences lists them; got "${idArg}"`);
      const id = Number(idArg.trim());
      const res = await connect(g).endSilence(id).catch((err: unknown) => refused(err, [], { id: '<id>' }));
      if (g.json) return printJson(res);
      console.log(`ended silence ${res.removed}: its rule's alerts notify again`);
    });

  alerts
    .command('rules')
    .description("the rules in force: host rules (server-wide) and each live service's (built-in ← defaults ← slipway.yml), on or off, in words")
    .option('-p, --project <name>', "only this project's services")
    .option('-e, --env <name>', 'only this environment')
    .action(async (opts: { project?: string; env?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const view = await connect(g).alertRules({ ...(opts.project ? { project: opts.project } : {}), ...(opts.env ? { env: opts.env } : {}) });
      if (g.json) return printJson(view);
      for (const line of rulesLines(view)) console.log(line);
    });

  alerts
    .command('defaults')
    .description('the server-wide alert defaults as written; with --file, replace them (admin scope)')
    .option('--file <file>', 'the rules (YAML or JSON), e.g. { error_rate: { above: "5%", for: 10m }, disk: off }; they replace every default set before')
    .addHelpText('after', '\nThe file holds the rules as slipway.yml writes them under alerts: (a top-level alerts: key is accepted):\n  error_rate: { above: "5%", for: 10m }\n  p99: { above: 800ms }\n  disk: { above: "85%" }\n  backup_verify: off\nA rule written off is off unless slipway.yml turns it on again; an empty file goes back to the built-in rules.')
    .action(async (opts: { file?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const client = connect(g);
      if (opts.file === undefined) {
        const { defaults } = await client.alertRules();
        if (g.json) return printJson(defaults);
        for (const line of defaultsLines(defaults)) console.log(line);
        return;
      }
      const rules = readRulesFile(opts.file);
      const view = await client.setAlertDefaults(rules).catch((err: unknown) => refused(err, [], {}));
      if (g.json) return printJson(view);
      for (const line of [...defaultsLines(view.defaults), '', ...rulesLines(view)]) console.log(line);
    });
}
