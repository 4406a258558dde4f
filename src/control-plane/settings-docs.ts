/**
 * The settings table of docs/operations.md, generated from server-settings.ts between two
 * markers; `npm run docs:settings` rewrites it, and a unit test fails when it differs.
 */
import { defaultText, SETTING_KEYS, settingSpec } from './server-settings';

export const SETTINGS_DOC = 'docs/operations.md';
export const BEGIN_MARKER = '<!-- settings:begin (generated from src/control-plane/server-settings.ts: npm run docs:settings) -->';
export const END_MARKER = '<!-- settings:end -->';

/** The Markdown table: one row per setting, in the table's order. */
export function renderSettingsTable(): string {
  const rows = SETTING_KEYS.map((key) => {
    const spec = settingSpec(key);
    const flag = spec.flag === null ? '—' : `\`${spec.flag}${spec.kind.placeholder ? ` ${spec.kind.placeholder}` : ''}\``;
    return `| ${cell(flag)} | \`${spec.env}\` | ${cell(defaultText(key))} | ${cell(spec.doc)} |`;
  });
  return ['| flag | environment | default | |', '|---|---|---|---|', ...rows].join('\n');
}

/** `doc` with the text between the markers replaced by the generated table; throws when a marker is missing. */
export function withSettingsSection(doc: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`${SETTINGS_DOC}: the markers ${BEGIN_MARKER} and ${END_MARKER} are missing or out of order`);
  return `${doc.slice(0, begin + BEGIN_MARKER.length)}\n${renderSettingsTable()}\n${doc.slice(end)}`;
}

/** A table cell: a `|` would end it. */
const cell = (md: string) => md.replace(/\|/g, '\\|');
