/** The settings role of the Store port (small key/value settings) over Kysely. */
import type { SettingsStore } from '../core/ports/store';
import type { Db } from './query-support';

/** Keys per `in (…)` of a batched settings read. */
const SETTINGS_CHUNK = 500;

export function settingsQueries(db: Db): SettingsStore {
  return {
    async getSetting(key: string): Promise<string | null> {
      return (await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value ?? null;
    },

    async getSettings(keys: readonly string[]): Promise<Map<string, string>> {
      const found = new Map<string, string>();
      // Chunks keep each statement well under SQLite's bound-parameter limit.
      for (let i = 0; i < keys.length; i += SETTINGS_CHUNK) {
        const rows = await db.selectFrom('settings').select(['key', 'value']).where('key', 'in', keys.slice(i, i + SETTINGS_CHUNK)).execute();
        for (const r of rows) found.set(r.key, r.value);
      }
      return found;
    },

    async setSetting(key: string, value: string): Promise<void> {
      await db.insertInto('settings').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
    },
  };
}
