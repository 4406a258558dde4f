#!/usr/bin/env node
// `slipway server` goes to the composition root, run from a bundle of the sources
// (bin/server-bundle.mjs, rebuilt when a source changes); everything else is the thin CLI
// client, run from the TypeScript sources through tsx (no build step).
import { serverBundle } from './server-bundle.mjs';

const args = process.argv.slice(2);
const firstCommand = args.find((a, i) => !a.startsWith('-') && !['--url', '--token', '--data-dir'].includes(args[i - 1] ?? ''));
if (firstCommand === 'server') {
  const bundle = await serverBundle();
  if (!bundle) (await import('tsx/esm/api')).register();
  const { runServerCommand } = await import(bundle ?? '../src/main.ts');
  await runServerCommand(args);
} else {
  // Output piped into `head` (or any reader that stops early): stop quietly, no EPIPE trace.
  process.stdout.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  (await import('tsx/esm/api')).register();
  const { runCli } = await import('../src/cli/main.ts');
  process.exitCode = await runCli(process.argv);
}
