/**
 * The release command's output is all in the deployment log before its step ends (issue 24
 * item 12), even when the store writes the lines slower than the runtime hands them over: every
 * `release | …` line, in order, before the step's ✔ (or ✘) line, and before the deployment ends.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { engineWorld, type EngineWorld } from './engine-world.test-support';

const worlds: EngineWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

/** A world whose store takes a few milliseconds (varying) to append each release-command line. */
async function slowLogWorld(): Promise<EngineWorld> {
  const w = await engineWorld();
  worlds.push(w);
  const appendLog = w.store.appendLog.bind(w.store);
  let n = 0;
  w.store.appendLog = async (deploymentId, level, message) => {
    if (message.startsWith('  release | ')) await new Promise((resolve) => setTimeout(resolve, 1 + (n++ % 4)));
    return appendLog(deploymentId, level, message);
  };
  return w;
}

const LINES = Array.from({ length: 300 }, (_, i) => `line ${i + 1}`);

function releaseLines(log: string[]): { lines: string[]; lastAt: number } {
  const at = log.flatMap((l, i) => (l.startsWith('  release | ') ? [i] : []));
  return { lines: at.map((i) => log[i]!.slice('  release | '.length)), lastAt: at.at(-1) ?? -1 };
}

test('a passing release command: every output line is in the log, in order, before the step is done', async () => {
  const w = await slowLogWorld();
  w.runtime.scriptRun((spec) => spec.kind === 'release', { exitCode: 0, output: LINES, stderr: ['a warning'] });
  const d = await w.deploy({ replicas: 1, releaseCommand: ['node', 'migrate.js'] });
  assert.equal(d.state, 'succeeded', d.error ?? '');
  const log = await w.logs(d.id);
  const { lines, lastAt } = releaseLines(log);
  assert.deepEqual(lines, [...LINES, 'a warning']);
  const done = log.findIndex((l) => l.startsWith('✔ release command'));
  assert.ok(done > lastAt, `the step's ✔ line (${done}) comes after its last output line (${lastAt})`);
});

test('a failing release command: every output line is in the log before the step fails', async () => {
  const w = await slowLogWorld();
  w.runtime.scriptRun((spec) => spec.kind === 'release', { exitCode: 3, output: LINES, stderr: ['migration 7 failed'] });
  const d = await w.deploy({ replicas: 1, releaseCommand: ['node', 'migrate.js'] });
  assert.equal(d.state, 'failed');
  const log = await w.logs(d.id);
  const { lines, lastAt } = releaseLines(log);
  assert.deepEqual(lines, [...LINES, 'migration 7 failed']);
  const failed = log.findIndex((l) => l.startsWith('✘ release command'));
  assert.ok(failed > lastAt, `the step's ✘ line (${failed}) comes after its last output line (${lastAt})`);
});
