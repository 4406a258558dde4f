/** Store role: small key/value settings. */
export interface SettingsStore {
  /** Small key/value settings (e.g. admin token hash). */
  getSetting(key: string): Promise<string | null>;
  /** The settings among `keys` that exist. */
  getSettings(keys: readonly string[]): Promise<Map<string, string>>;
  setSetting(key: string, value: string): Promise<void>;
}
