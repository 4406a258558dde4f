/** The options every project command shares, declared once. */
import type { Command } from 'commander';

/** -p/--project and -f/--file; with `env`, also -e/--env (default production). */
export function projectOptions(c: Command, opts: { env?: boolean } = { env: true }): Command {
  c.option('-p, --project <name>', 'project (default: from slipway.yml)').option('-f, --file <path>', 'project file', 'slipway.yml');
  if (opts.env !== false) c.option('-e, --env <name>', 'environment', 'production');
  return c;
}
