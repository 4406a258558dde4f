/**
 * The flags of `slipway server`, one per setting of server-settings.ts that has one (secrets
 * have none), parsed with commander; `--help` prints settings-help.ts.
 */
import { Command, Option } from 'commander';
import type { SettingFlags } from './read-settings';
import { SETTING_KEYS, settingSpec, type SettingKey } from './server-settings';
import { renderServerHelp } from './settings-help';

export interface FlagParsing {
  /** Instead of exiting: for tests (commander throws a CommanderError; `--help` too). */
  exitOverride?: boolean;
  /** Where help and errors go (default: stdout and stderr). */
  output?: { writeOut(s: string): void; writeErr(s: string): void };
}

/** The flags given, by setting (absent: not given); `argv` may hold the word `server` and global flags before it. */
export function parseServerFlags(argv: string[], opts: FlagParsing = {}): SettingFlags {
  const program = new Command('slipway server').allowUnknownOption(false);
  const options = new Map<SettingKey, Option>();
  for (const key of SETTING_KEYS) {
    const spec = settingSpec(key);
    if (spec.flag === null) continue;
    const option = new Option(spec.kind.placeholder ? `${spec.flag} ${spec.kind.placeholder}` : spec.flag, spec.doc);
    program.addOption(option);
    options.set(key, option);
  }
  program.configureHelp({ formatHelp: () => renderServerHelp() });
  if (opts.exitOverride) program.exitOverride();
  if (opts.output) program.configureOutput(opts.output);
  program.parse(['node', 'slipway', ...withoutCommandWord(argv)]);
  const flags: SettingFlags = {};
  for (const [key, option] of options) {
    const value = program.getOptionValue(option.attributeName()) as string | boolean | undefined;
    if (value !== undefined) flags[key] = value;
  }
  return flags;
}

/** The arguments without the word `server` (bin/slipway.mjs passes them all; global flags may come first). */
function withoutCommandWord(argv: string[]): string[] {
  const i = argv.findIndex((a, j) => a === 'server' && !['--url', '--token', '--data-dir'].includes(argv[j - 1] ?? ''));
  return i < 0 ? argv : [...argv.slice(0, i), ...argv.slice(i + 1)];
}
