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
