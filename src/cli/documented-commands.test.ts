/**
 * Every command line the README and docs/*.md show is parsed by the real command tree
 * (buildProgram) with every action replaced by a recorder: nothing runs, nothing connects.
 * A code-block line must reach a command's action (no unknown command or option, no missing
 * argument or required option, no excess argument); an inline `slipway …` mention in prose
 * or a table names a command path and options that exist, but may leave out its arguments
 * (`slipway approve` in a sentence). Placeholders are filled with sample values first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
// The rule's `**/main` is meant for src/main.ts (the composition root); this is the CLI's own command tree.
// eslint-disable-next-line no-restricted-imports
import { buildProgram } from './main';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHELL_BLOCKS = new Set(['sh', 'bash', 'shell', 'console', '']);
/** Not command lines: patterns that stand for every command. */
const NOT_COMMANDS = new Set(['slipway … --json']);
/** Not failures: the parser answered the line itself (`--version`, `--help`). */
const ANSWERED = new Set(['commander.version', 'commander.helpDisplayed']);
/** A mention may omit what a full command line needs, or name a group of commands (`slipway config`). */
const INCOMPLETE_OK = new Set(['commander.missingArgument', 'commander.optionMissingArgument', 'commander.missingMandatoryOptionValue', 'commander.help']);

interface Documented {
  where: string;
  line: string;
  inline: boolean;
}

export function documentedLines(): Documented[] {
  const files = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const out: Documented[] = [];
  for (const file of files) {
    let block: string | null = null;
    readFileSync(path.join(root, file), 'utf8').split('\n').forEach((raw, i) => {
      const where = `${file}:${i + 1}`;
      const fence = /^\s*```(\w*)/.exec(raw);
      if (fence) {
        block = block === null ? fence[1]! : null;
        return;
      }
      if (block !== null) {
        const t = raw.trim().replace(/^\$ /, '');
        if (SHELL_BLOCKS.has(block) && /^(slipway|\.\/bin\/slipway\.mjs) /.test(t)) out.push({ where, line: t, inline: false });
        return;
      }
      for (const m of raw.matchAll(/`((?:slipway|\.\/bin\/slipway\.mjs) [^`]+)`/g)) out.push({ where, line: m[1]!.replace(/\\\|/g, '|'), inline: true });
    });
  }
  return out;
}

/** A documented line → the argv of each command it shows (`a | b` lists alternatives). */
export function toArgvs(line: string): string[][] {
  let s = line.replace(/^(slipway|\.\/bin\/slipway\.mjs) /, '');
  s = s.replace(/\s+#.*$/, '').replace(/\s+&$/, '').replace(/\s+\d?>\s*\S+/g, ''); // comment, background, redirections
  s = s.replace(/\[([^\]]*)\]/g, (_, inner: string) => inner.split('|')[0]!); // optional parts: shown, first alternative
  s = s.replace(/<[^>]*>/g, 'sample').replace(/"([^"]*)"|'([^']*)'/g, '$1$2');
  const argvs: string[][] = [];
  for (const part of s.split(/\s+\|\s+/)) {
    const words = part.split(/\s+/).filter((w) => w && w !== '…').map((w) => w.split('|')[0]!.replace(/…/g, 'x'));
    const previous = argvs.at(-1);
    // `requests web --slow 1s | --errors`: options alone continue the previous command.
    if (words[0]?.startsWith('-') && previous) {
      const firstOption = previous.findIndex((w) => w.startsWith('-'));
      argvs.push([...(firstOption < 0 ? previous : previous.slice(0, firstOption)), ...words]);
    }
    else argvs.push(words);
  }
  return argvs;
}

/** Parses argv with actions replaced; the action reached (its command path), or the parser's error. */
export function parseOnly(argv: string[]): { reached: string | null; error: CommanderError | null } {
  const program = buildProgram();
  let reached: string | null = null;
  const walk = (cmd: Command, trail: string[]) => {
    cmd.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
    const hasAction = Boolean((cmd as unknown as { _actionHandler: unknown })._actionHandler);
    if (hasAction || cmd.commands.length === 0) cmd.action(() => void (reached = trail.join(' ')));
    for (const sub of cmd.commands) walk(sub, [...trail, sub.name()]);
  };
  walk(program, []);
  try {
    program.parse(argv, { from: 'user' });
    return { reached, error: null };
  } catch (err) {
    if (err instanceof CommanderError) return { reached, error: err };
    throw err;
  }
}

test('normalisation: placeholders, optional parts, alternatives, comments and redirections', () => {
  assert.deepEqual(toArgvs('./bin/slipway.mjs rollback web [v3]              # same image'), [['rollback', 'web', 'v3']]);
  assert.deepEqual(toArgvs('slipway deploy pause|resume <deployment>'), [['deploy', 'pause', 'sample']]);
  assert.deepEqual(toArgvs('slipway logs <service> [-e env] [-f|--follow] [--since 10m|ISO time]'), [['logs', 'sample', '-e', 'env', '-f', '--since', '10m']]);
  assert.deepEqual(toArgvs('slipway env list | env destroy staging'), [['env', 'list'], ['env', 'destroy', 'staging']]);
  assert.deepEqual(toArgvs('slipway requests web --slow 1s | --errors [--path /api]'), [['requests', 'web', '--slow', '1s'], ['requests', 'web', '--errors', '--path', '/api']]);
  assert.deepEqual(toArgvs('slipway schema > slipway.schema.json   # JSON Schema'), [['schema']]);
  assert.deepEqual(toArgvs('slipway secrets set API_KEY=… [--env staging]'), [['secrets', 'set', 'API_KEY=x', '--env', 'staging']]);
  assert.deepEqual(toArgvs(`slipway login --token "$TOKEN" | images allow 'nginx:*'`), [['login', '--token', '$TOKEN'], ['images', 'allow', 'nginx:*']]);
});

test('the walk catches what the parser refuses (the checks below can fail)', () => {
  assert.equal(parseOnly(['deploy', '--no-such-flag']).error?.code, 'commander.unknownOption');
  assert.equal(parseOnly(['no-such-command']).error?.code, 'commander.unknownCommand');
  assert.equal(parseOnly(['rollback']).error?.code, 'commander.missingArgument');
  assert.equal(parseOnly(['rollback', 'web', 'v3', 'extra']).error?.code, 'commander.excessArguments');
  assert.equal(parseOnly(['rollback', 'web', 'v3']).reached, 'rollback');
  assert.equal(parseOnly(['server']).reached, 'server');
  assert.equal(parseOnly(['--version']).error?.code, 'commander.version');
});

test('the global --url never hides a subcommand option: notifications add takes the URL as an argument', () => {
  const ok = parseOnly(['notifications', 'add', 'https://ops.example.com/slipway', '--kind', 'slack']);
  assert.equal(ok.error, null, ok.error?.message);
  assert.equal(ok.reached, 'notifications add');
  // Before the fix, `add --url URL` always failed: the global option took the value.
  assert.equal(parseOnly(['notifications', 'add']).error?.code, 'commander.missingArgument');
});

test('every documented command line parses (README.md, docs/*.md)', () => {
  const lines = documentedLines();
  assert.ok(lines.filter((l) => !l.inline).length >= 60, `documented lines found: ${lines.length}`);
  const failures: string[] = [];
  let checked = 0;
  for (const doc of lines) {
    if (NOT_COMMANDS.has(doc.line)) continue;
    for (const argv of toArgvs(doc.line)) {
      checked++;
      const { reached, error } = parseOnly(argv);
      if (error && ANSWERED.has(error.code)) continue;
      if (error && !(doc.inline && INCOMPLETE_OK.has(error.code))) failures.push(`${doc.where}: \`${doc.line}\` → [${argv.join(' ')}]: ${error.message}`);
      else if (!error && !reached) failures.push(`${doc.where}: \`${doc.line}\` → [${argv.join(' ')}]: reaches no command`);
    }
  }
  assert.deepEqual(failures, [], `${failures.length} documented line(s) the CLI refuses:\n${failures.join('\n')}`);
  assert.ok(checked >= 150, `command lines checked: ${checked}`);
});
