/**
 * `slipway db shell [db]`: psql as the database owner, in a one-off container on the
 * environment's network (admin token; audited). `-c SQL` runs one statement; piped stdin
 * runs as one script; on a terminal it is a small REPL: statements end with `;`, `\q` quits.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { SlipwayClient } from '../../client/api-client';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { loadProjectConfig, projectName } from '../project-file';
import { projectOptions } from '../project-options';
import { splitStatements } from '../sql-input';

/** The only postgres accessory of slipway.yml (or, without one, of the environment on the server). */
async function defaultDatabase(client: SlipwayClient, opts: { project?: string; file?: string; env: string }, project: string): Promise<string> {
  let names: string[];
  try {
    const { config } = loadProjectConfig(opts.file);
    names = Object.values(config.accessories ?? {}).filter((a) => a.kind === 'postgres').map((a) => a.name);
  } catch (err) {
    if (!opts.project) throw err;
    names = (await client.accessories(project, opts.env)).accessories.filter((a) => a.kind === 'postgres').map((a) => a.name);
  }
  if (names.length === 1) return names[0]!;
  if (names.length === 0) throw new CliError(`${project} has no postgres accessory (declare one under accessories: with kind: postgres)`);
  throw new CliError(`${project} has several postgres accessories (${names.join(', ')}): name one, e.g. slipway db shell ${names[0]}`);
}

/** Runs one script; prints psql's output; returns its exit code. */
async function runSql(client: SlipwayClient, project: string, env: string, db: string, sql: string, json: boolean): Promise<number> {
  for await (const ev of client.sql(project, env, db, { sql })) {
    if (json) console.log(JSON.stringify(ev));
    else if (ev.type === 'output') (ev.stream === 'stderr' ? process.stderr : process.stdout).write(`${ev.line}\n`);
    if (ev.type === 'error') throw new CliError(`error: ${ev.message}`);
    if (ev.type === 'exit') return ev.timedOut ? 124 : (ev.exitCode ?? 1);
  }
  throw new CliError('the server ended the shell without an exit code');
}

async function interactive(client: SlipwayClient, project: string, env: string, db: string): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: `${db}=> ` });
  console.log(`psql as the owner of ${db} in ${project}/${env}; end statements with ";", \\q to quit.`);
  console.log('Each line is its own session: write a transaction on one line (BEGIN; …; COMMIT;) or pipe a script.');
  let buffer = '';
  rl.prompt();
  for await (const line of rl) {
    const { statements, rest, quit } = splitStatements(buffer ? `${buffer}\n${line}` : line);
    buffer = rest;
    for (const sql of statements) {
      rl.pause();
      await runSql(client, project, env, db, sql, false).catch((err: Error) => console.error(err.message));
      rl.resume();
    }
    if (quit) break;
    rl.setPrompt(buffer ? `${db}-> ` : `${db}=> `);
    rl.prompt();
  }
  rl.close();
}

export function registerDb(program: Command): void {
  const db = program.command('db').description('databases of the project (postgres accessories)');
  projectOptions(
    db
      .command('shell')
      .description("psql as the database owner, in a one-off container on the environment's network (admin token; audited without the SQL)")
      .argument('[db]', 'the postgres accessory (default: the only one in slipway.yml)')
      .option('-c, --command <sql>', 'run this SQL and exit with psql\'s code'),
  ).action(async (name: string | undefined, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const project = projectName(opts);
    const target = name ?? (await defaultDatabase(client, opts, project));
    let sql: string | null = opts.command ?? null;
    if (sql === null && !process.stdin.isTTY) {
      sql = '';
      for await (const chunk of process.stdin) sql += chunk;
      if (!sql.trim()) throw new CliError('no SQL on stdin (pipe a script in, or pass -c SQL)');
    }
    if (sql !== null) {
      const code = await runSql(client, project, opts.env, target, sql, Boolean(g.json));
      if (code !== 0) throw new CliError('', code);
      return;
    }
    await interactive(client, project, opts.env, target);
  });
}
