/**
 * The CLI as a process (bin/slipway.mjs, no control plane needed): its version, and its
 * behaviour when the reader of its output goes away (`slipway schema | head`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'slipway.mjs');
const pkgVersion = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; with `closeEarly` its stdout's reader is gone before it writes anything. */
function slipway(args: string[], closeEarly = false): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLIPWAY_URL: 'http://127.0.0.1:9' } });
    let stdout = '';
    let stderr = '';
    if (closeEarly) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('slipway --version, -V and version print package.json version', async () => {
  for (const args of [['--version'], ['-V']]) {
    const r = await slipway(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkgVersion, args.join(' '));
  }
  const plain = await slipway(['version']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout.trim(), `slipway ${pkgVersion}`);
  const json = await slipway(['version', '--json']);
  assert.deepEqual(JSON.parse(json.stdout), { version: pkgVersion });
});

test('output into a reader that closed early: quiet exit, no EPIPE stack trace', async () => {
  for (const args of [['schema'], ['completion', 'bash'], ['deploy', '--help']]) {
    const r = await slipway(args, true);
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled 'error' event|\n\s+at /, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.code, 0, `${args.join(' ')}: exit ${r.code}`);
  }
});
