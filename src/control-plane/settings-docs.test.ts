import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { parseServerFlags } from './server-flags';
import { SETTING_KEYS, settingSpec } from './server-settings';
import { renderServerHelp } from './settings-help';
import { BEGIN_MARKER, END_MARKER, renderSettingsTable, SETTINGS_DOC, withSettingsSection } from './settings-docs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test(`${SETTINGS_DOC} lists every setting as server-settings.ts has it`, () => {
  const doc = readFileSync(path.join(root, SETTINGS_DOC), 'utf8');
  assert.ok(doc.includes(BEGIN_MARKER) && doc.includes(END_MARKER), `${SETTINGS_DOC} has the markers ${BEGIN_MARKER} … ${END_MARKER}`);
  assert.ok(
    withSettingsSection(doc) === doc,
    `the settings table of ${SETTINGS_DOC} differs from src/control-plane/server-settings.ts: run \`npm run docs:settings\` to regenerate it (edit the table in server-settings.ts, not the doc)`,
  );
});

test('the generated table has a row per setting, with its flag, variable and default', () => {
  const rows = renderSettingsTable().split('\n').slice(2);
  assert.equal(rows.length, SETTING_KEYS.length);
  SETTING_KEYS.forEach((key, i) => {
    const spec = settingSpec(key);
    assert.ok(rows[i]!.includes(`\`${spec.env}\``), `${key}: ${rows[i]}`);
    if (spec.flag) assert.ok(rows[i]!.startsWith(`| \`${spec.flag}`), `${key}: ${rows[i]}`);
    else assert.ok(rows[i]!.startsWith('| — |'), `${key}: ${rows[i]}`);
  });
  assert.ok(rows.every((r) => r.split(/(?<!\\)\|/).length === 6), 'no unescaped | inside a cell');
});

test('slipway server --help prints every setting: flag, variable, default and doc', () => {
  let out = '';
  assert.throws(
    () => parseServerFlags(['server', '--help'], { exitOverride: true, output: { writeOut: (s) => (out += s), writeErr: (s) => (out += s) } }),
    (err: CommanderError) => err.code === 'commander.helpDisplayed',
  );
  assert.equal(out, renderServerHelp());
  for (const key of SETTING_KEYS) {
    const spec = settingSpec(key);
    assert.ok(out.includes(spec.env), `${key}: ${spec.env}`);
    if (spec.flag) assert.match(out, new RegExp(`^  ${spec.flag}\\b`, 'm'), `${key}: ${spec.flag}`);
  }
  assert.match(out, /^ {2}--api-port <port> {3}SLIPWAY_API_PORT {3}default: 7420\n {6}the port of the API/m);
  assert.ok(out.split('\n').every((l) => l.length <= 100), 'lines fit 100 columns');
});

test('the flags of slipway server: one per setting that has one, global flags before the command word', () => {
  assert.deepEqual(parseServerFlags(['--data-dir', '/srv/slw', 'server', '--api-port', '0', '--strict-responses', '--network', 'server'], { exitOverride: true }), {
    dataDir: '/srv/slw',
    apiPort: '0',
    strictResponses: true,
    network: 'server',
  });
  const every = SETTING_KEYS.map(settingSpec).filter((s) => s.flag !== null);
  const argv = every.flatMap((s) => (s.kind.placeholder ? [s.flag!, 'v'] : [s.flag!]));
  assert.equal(Object.keys(parseServerFlags(argv, { exitOverride: true })).length, every.length);
  assert.throws(() => parseServerFlags(['server', '--admin-token', 'x'], { exitOverride: true, output: { writeOut: () => undefined, writeErr: () => undefined } }), /unknown option '--admin-token'/);
});
