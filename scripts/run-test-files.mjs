// Runs test files side by side, each in its own `node --test` process, at most --jobs at once,
// longest first (the durations of the last run on this machine, else file size). Each file's
// output is printed whole when it ends (never interleaved), headed by its result and wall time;
// at the end: every file's time, the totals, and the failing files' failures again, so the tail
// of a CI log says what broke. Exit 1 when a file failed.
//
//   node scripts/run-test-files.mjs --jobs 3 test/a.test.ts test/b.test.ts
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
let jobs = 1;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--jobs') jobs = Number(args[++i]);
  else files.push(args[i]);
}
if (!Number.isInteger(jobs) || jobs < 1) {
  console.error(`run-test-files: --jobs must be a whole number ≥ 1, got ${args[args.indexOf('--jobs') + 1]}`);
  process.exit(2);
}

const historyFile = path.join(os.tmpdir(), 'slipway-test-durations.json');
const history = (() => {
  try {
    return JSON.parse(readFileSync(historyFile, 'utf8'));
  } catch {
    return {};
  }
})();
const weight = (f) => history[f] ?? statSync(f).size / 100;
const queue = [...files].sort((a, b) => weight(b) - weight(a));

const results = [];
const started = Date.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

function runOne(file) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=1800000', '--test-reporter=spec', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    const out = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => out.push(c));
    child.on('close', (code, signal) => {
      const text = Buffer.concat(out).toString('utf8');
      const count = (what) => Number(new RegExp(`^ℹ ${what} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      const r = { file, code: code ?? 1, signal, ms: Date.now() - t0, text, tests: count('tests'), pass: count('pass'), fail: count('fail') };
      const verdict = r.code === 0 ? 'passed' : `FAILED (exit ${signal ?? r.code})`;
      process.stdout.write(`\n━━ ${file}: ${verdict}, ${r.pass}/${r.tests} tests, ${secs(r.ms)} (${secs(Date.now() - started)} into the lane) ━━\n${text}`);
      results.push(r);
      resolve();
    });
  });
}

async function worker() {
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) await runOne(file);
}
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));

for (const r of results) history[r.file] = r.ms;
try {
  mkdirSync(path.dirname(historyFile), { recursive: true });
  writeFileSync(historyFile, JSON.stringify(history));
} catch {
  // A record for ordering the next run only.
}

const failed = results.filter((r) => r.code !== 0);
const sum = (k) => results.reduce((n, r) => n + r[k], 0);
console.log(`\n━━ ${files.length} files, ${jobs} at a time, ${secs(Date.now() - started)} wall ━━`);
for (const r of [...results].sort((a, b) => b.ms - a.ms)) console.log(`${secs(r.ms).padStart(9)}  ${r.code === 0 ? 'ok  ' : 'FAIL'}  ${String(r.pass).padStart(3)}/${String(r.tests).padEnd(3)} ${r.file}`);
for (const r of failed) {
  const at = r.text.indexOf('✖ failing tests:');
  console.log(`\n━━ failures in ${r.file} ━━\n${at >= 0 ? r.text.slice(at) : r.text.split('\n').slice(-80).join('\n')}`);
}
console.log(`ℹ files ${files.length}\nℹ tests ${sum('tests')}\nℹ pass ${sum('pass')}\nℹ fail ${sum('fail')}\nℹ failed files ${failed.length}${failed.length ? `: ${failed.map((r) => r.file).join(', ')}` : ''}\nℹ duration_ms ${Date.now() - started}`);
process.exit(failed.length > 0 ? 1 : 0);
