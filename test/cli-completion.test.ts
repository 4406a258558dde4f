/** The CLI's own help surface: shell completion and examples on every command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { buildProgram } from '../src/cli/main';
import { bashCompletion } from '../src/cli/commands/completion';

test('the bash completion script is valid bash and completes every command and its options', () => {
  const program = buildProgram();
  const script = bashCompletion(program);
  execFileSync('bash', ['-n'], { input: script });
  const complete = (words: string[]) =>
    execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _slipway; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' }).trim().split(' ');
  for (const cmd of program.commands) assert.ok(complete(['slipway', cmd.name().slice(0, 3)]).includes(cmd.name()), cmd.name());
  assert.deepEqual(complete(['slipway', 'tokens', 'cr']), ['create']);
  assert.ok(complete(['slipway', 'deploy', '--']).includes('--ref'));
  assert.ok(complete(['slipway', 'secrets', 'set', '--']).includes('--from-file'));
});

test('every command ends its --help with examples', () => {
  const program = buildProgram();
  const missing: string[] = [];
  const visit = (cmd: typeof program, path: string[]) => {
    for (const sub of cmd.commands) {
      const p = [...path, sub.name()];
      if (sub.commands.length > 0) {
        visit(sub, p);
        continue;
      }
      let out = '';
      sub.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
      sub.outputHelp();
      if (!/Examples?:/.test(out)) missing.push(p.join(' '));
    }
  };
  visit(program, []);
  assert.deepEqual(missing, []);
});
