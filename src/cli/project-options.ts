/** The options every project command shares, declared once. */
import type { Command } from 'commander';

/**
 * -p/--project and -f/--file; with `env`, also -e/--env (default production). `fileShort:
 * false` leaves -f to the command (`logs -f` follows, as in docker and kubectl).
 */
export function projectOptions(c: Command, opts: { env?: boolean; fileShort?: boolean } = { env: true }): Command {
  c.option('-p, --project <name>', 'project (default: from slipway.yml)').option(opts.fileShort === false ? '--file <path>' : '-f, --file <path>', 'project file', 'slipway.yml');
  if (opts.env !== false) c.option('-e, --env <name>', 'environment', 'production');
  return c;
}
