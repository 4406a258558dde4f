/**
 * Reads the settings of server-settings.ts from the environment and the flags of
 * `slipway server`: a flag wins over its variable, an unset or empty one is the default, and
 * every bad value is reported at once, each naming its flag or variable and the form expected.
 */
import { errorMessage, SlipwayError } from '../core/errors';
import { defaultOf, SETTING_KEYS, settingSpec, type SettingKey, type Settings } from './server-settings';

/** Flag values as commander gives them: text, or true for a switch. */
export type SettingFlags = Partial<Record<SettingKey, string | boolean | undefined>>;

export interface SettingsSource {
  env: NodeJS.ProcessEnv;
  flags?: SettingFlags;
}

export type SettingsResult = { ok: true; settings: Settings } | { ok: false; problems: string[] };

/** One setting: from its flag, else its variable, else its default. */
export function readSetting<K extends SettingKey>(key: K, source: SettingsSource): { ok: true; value: Settings[K] } | { ok: false; problem: string } {
  const spec = settingSpec(key);
  const flag = spec.flag === null ? undefined : source.flags?.[key];
  const [raw, name] = flag !== undefined && flag !== false ? [flag === true ? '1' : flag, spec.flag!] : [source.env[spec.env], spec.env];
  if (raw === undefined || raw === '') return { ok: true, value: defaultOf(key) };
  try {
    const value = spec.kind.parse(raw, name);
    return { ok: true, value: (spec.kind.meansDefault?.(value) ? defaultOf(key) : value) as Settings[K] };
  } catch (err) {
    return { ok: false, problem: errorMessage(err) };
  }
}

/** Every setting, or every problem. */
export function readSettings(source: SettingsSource): SettingsResult {
  const settings: Partial<Record<SettingKey, unknown>> = {};
  const problems: string[] = [];
  for (const key of SETTING_KEYS) {
    const r = readSetting(key, source);
    if (r.ok) settings[key] = r.value;
    else problems.push(r.problem);
  }
  return problems.length ? { ok: false, problems } : { ok: true, settings: settings as Settings };
}

/** Every setting; bad values throw one error that lists them all. */
export function settingsOrThrow(source: SettingsSource): Settings {
  const r = readSettings(source);
  if (!r.ok) throw settingsError(r.problems);
  return r.settings;
}

export function settingsError(problems: string[]): SlipwayError {
  return new SlipwayError(
    'SLW_CONFIG_INVALID',
    problems.join('\n'),
    problems.map((p) => ({ path: p.slice(0, Math.max(0, p.indexOf(':'))), message: p.slice(p.indexOf(':') + 1).trim() })),
  );
}
