#!/usr/bin/env node
// Runs the TypeScript sources through tsx (no build step). `slipway server` goes to the
// composition root; everything else is the thin CLI client.
import { register } from 'tsx/esm/api';

register();
const args = process.argv.slice(2);
const firstCommand = args.find((a, i) => !a.startsWith('-') && !['--url', '--token', '--data-dir'].includes(args[i - 1] ?? ''));
if (firstCommand === 'server') {
  const { runServerCommand } = await import('../src/main.ts');
  await runServerCommand(args);
} else {
  const { runCli } = await import('../src/cli/main.ts');
  process.exitCode = await runCli(process.argv);
}
