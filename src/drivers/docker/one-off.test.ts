/**
 * runOneOff over a fake dockerode (issue 24 item 12): every line the command wrote reaches
 * onOutput before it returns, however late the attach stream delivers it after the exit, or
 * if it never does (then from the container's log, each line once).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { OneOffSpec } from '../../core/ports/runtime';
import { runOneOff } from './one-off';

/** One frame of Docker's multiplexed stream (1 stdout, 2 stderr). */
function frame(text: string, stream: 1 | 2 = 1): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

interface FakeOptions {
  /** What the attach stream does once the container started. */
  attach: (stream: PassThrough) => void;
  /** The container's whole log (what `docker logs` gives after the exit). */
  log: Buffer;
}

function fakeDocker(o: FakeOptions) {
  const calls: string[] = [];
  const attachStream = new PassThrough();
  const container = {
    attach: async () => {
      calls.push('attach');
      return attachStream;
    },
    start: async () => {
      calls.push('start');
      o.attach(attachStream);
    },
    wait: async () => ({ StatusCode: 0 }),
    kill: async () => undefined,
    logs: async (opts: { follow?: boolean; timestamps?: boolean }) => {
      calls.push(`logs follow=${opts.follow} timestamps=${opts.timestamps}`);
      const s = new PassThrough();
      s.end(o.log);
      return s;
    },
    remove: async () => void calls.push('remove'),
  };
  const docker = { createContainer: async () => container } as unknown as Docker;
  return { docker, calls };
}

function spec(lines: Array<[string, string]>): OneOffSpec {
  return {
    kind: 'release',
    server: 'local',
    name: 'shop-web-production-v1-release-abc123',
    image: 'sha256:abc',
    env: {},
    labels: { project: 'shop', service: 'web', env: 'production', release: 1, deployment: 'd1' },
    argv: ['sh', '-c', 'migrate'],
    timeoutMs: 30_000,
    onOutput: (line, stream) => void lines.push([stream, line]),
  };
}

const many = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

test('output the attach stream delivers after the exit, later than 2 s, is all relayed before runOneOff returns', async () => {
  const text = many(2000).map((l) => `${l}\n`).join('');
  const { docker, calls } = fakeDocker({
    // Docker answered the wait at once; the attach stream's bytes arrive 2.5 s later.
    attach: (s) => void setTimeout(() => s.end(frame(text)), 2500),
    log: frame(text),
  });
  const lines: Array<[string, string]> = [];
  const r = await runOneOff(docker, 'net', spec(lines));
  assert.equal(r.exitCode, 0);
  assert.deepEqual(lines.map(([, l]) => l), many(2000));
  assert.equal(calls.at(-1), 'remove', 'removed after its output was read');
});

test('lines the attach stream never delivered come from the container log, each once, per stream; raw lines keep a leading date', async () => {
  const dated = '2026-12-08T01:00:00.000000000Z is when the migration began';
  const { docker, calls } = fakeDocker({
    // Two lines and half of a third, then the connection ends early.
    attach: (s) => {
      s.write(frame(`${dated}\nline 2\nli`));
      s.write(frame('warn 1\n', 2));
      s.destroy();
    },
    log: Buffer.concat([frame(`${dated}\nline 2\nline 3\n`), frame('warn 1\n', 2), frame('line 4\nlast without newline'), frame('warn 2\n', 2)]),
  });
  const lines: Array<[string, string]> = [];
  await runOneOff(docker, 'net', spec(lines));
  assert.deepEqual(lines, [
    ['stdout', dated],
    ['stdout', 'line 2'],
    ['stderr', 'warn 1'],
    ['stdout', 'line 3'],
    ['stdout', 'line 4'],
    ['stderr', 'warn 2'],
    ['stdout', 'last without newline'], // whole once the log ended
  ]);
  assert.ok(calls.includes('logs follow=true timestamps=false'), calls.join(', '));
});

test('an attach stream that ended with everything: the log adds nothing', async () => {
  const { docker } = fakeDocker({
    attach: (s) => s.end(Buffer.concat([frame('one\ntwo\n'), frame('oops\n', 2), frame('three')])),
    log: Buffer.concat([frame('one\ntwo\n'), frame('oops\n', 2), frame('three')]),
  });
  const lines: Array<[string, string]> = [];
  await runOneOff(docker, 'net', spec(lines));
  assert.deepEqual(lines, [
    ['stdout', 'one'],
    ['stdout', 'two'],
    ['stderr', 'oops'],
    ['stdout', 'three'],
  ]);
});
