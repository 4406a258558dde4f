// Rewrites the settings table of docs/operations.md from src/control-plane/server-settings.ts
// (between its settings:begin and settings:end markers): `npm run docs:settings`.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS_DOC, withSettingsSection } from '../src/control-plane/settings-docs';

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', SETTINGS_DOC);
const before = readFileSync(file, 'utf8');
const after = withSettingsSection(before);
if (after === before) {
  console.log(`${SETTINGS_DOC}: the settings table is up to date`);
} else {
  writeFileSync(file, after);
  console.log(`${SETTINGS_DOC}: settings table rewritten`);
}
