/** `slipway server --help`: every setting of server-settings.ts with its flag, variable, default and doc. */
import { defaultText, SETTING_GROUPS, SETTING_KEYS, settingSpec, type SettingKey } from './server-settings';

const WIDTH = 100;
const INDENT = '      ';

export function renderServerHelp(): string {
  const out = [
    'Usage: slipway server [options]',
    '',
    ...wrap('Runs the control plane (HTTP API, engine; starts the edge if needed) in the foreground until SIGTERM or SIGINT. Every setting is a flag or an environment variable; a flag wins over its variable, and an empty variable counts as unset. docs/operations.md lists the same settings.', ''),
  ];
  for (const group of SETTING_GROUPS) {
    out.push('', `${group}:`);
    for (const key of SETTING_KEYS.filter((k) => settingSpec(k).group === group)) out.push(...entry(key));
  }
  out.push('', '  -h, --help', `${INDENT}show this help`, '');
  return out.join('\n');
}

function entry(key: SettingKey): string[] {
  const spec = settingSpec(key);
  const head = spec.flag === null ? `  ${spec.env} (environment only)` : `  ${spec.flag}${spec.kind.placeholder ? ` ${spec.kind.placeholder}` : ''}   ${spec.env}`;
  return [`${head}   default: ${plain(defaultText(key))}`, ...wrap(plain(spec.doc), INDENT)];
}

/** Markdown's code spans as plain text. */
const plain = (md: string) => md.replace(/`([^`]*)`/g, '$1');

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}
