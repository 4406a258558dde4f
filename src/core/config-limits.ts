/**
 * Bounds on slipway.yml, checked before the expensive steps so that no accepted file can
 * hold the control plane's event loop (a 449 KB file of 20,000 services once held it 15 s):
 * the size and YAML token count before the YAML is composed (composing costs a few µs per
 * token), then the counts, lengths and depth of the composed value before zod sees it.
 * Each refusal names the field and the limit. docs/configuration.md, "Limits".
 */
import type { ErrorDetail } from './errors';

export const CONFIG_LIMITS = {
  /** Size of slipway.yml in bytes (UTF-8). */
  bytes: 64 * 1024,
  /** YAML tokens (scalars, indicators, line breaks…): bounds the cost of composing the YAML. */
  yamlTokens: 10_000,
  /** Expansions of YAML aliases (`*name`); beyond this the file is an alias bomb. */
  aliases: 100,
  /** Values (maps, lists, scalars) once aliases are expanded: bounds the cost of validation. */
  values: 10_000,
  /** Nesting depth of maps and lists. */
  depth: 12,
  /** Services under `services` (and under each environment's `services`). */
  services: 50,
  /** Accessories under `accessories` (and under each environment's `accessories`). */
  accessories: 20,
  /** Volumes of one service or accessory (`volumes`). */
  volumes: 20,
  /** Environments under `environments`. */
  environments: 20,
  /** Entries of `env` (per service and per override), `build.args`, `branches` and `tags`. */
  mapEntries: 200,
  /** Items of any list: `domains`, `command`, `release_command`. */
  listItems: 100,
  /** Characters of a map key. */
  keyChars: 128,
  /** Characters of an `env` value or a build argument. */
  envValueChars: 16 * 1024,
  /** Characters of any other string (image, paths, commands, schedule…). */
  stringChars: 1024,
} as const;

/** At most this many limit errors are reported (the rest are the same mistake again). */
const MAX_ERRORS = 20;

/** The size check, done on the text before anything parses it. */
export function configSizeProblem(text: string): ErrorDetail | null {
  // A string of n UTF-16 units is at least n bytes: the cheap test first, the exact count after.
  const bytes = text.length > CONFIG_LIMITS.bytes ? text.length : new TextEncoder().encode(text).length;
  if (bytes <= CONFIG_LIMITS.bytes) return null;
  return { path: '(file)', message: `size limit exceeded: slipway.yml is ${bytes} bytes; at most ${CONFIG_LIMITS.bytes} bytes (${CONFIG_LIMITS.bytes / 1024} KiB) are accepted` };
}

/**
 * Checks the composed YAML value against CONFIG_LIMITS. Walks at most `values` values
 * (aliases make a shared value count once per reference, as zod will see it).
 */
export function configLimitProblems(raw: unknown): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  let values = 0;
  const walk = (value: unknown, path: string[], depth: number): boolean => {
    if (errors.length >= MAX_ERRORS) return false;
    if (++values > CONFIG_LIMITS.values) {
      errors.push({ path: '(file)', message: `size limit exceeded: the file holds more than ${CONFIG_LIMITS.values} values (YAML aliases count once per use)` });
      return false;
    }
    const at = path.join('.') || '(root)';
    if (typeof value === 'string') {
      const max = isFreeText(path) ? CONFIG_LIMITS.envValueChars : CONFIG_LIMITS.stringChars;
      if (value.length > max) errors.push({ path: at, message: `must be at most ${max} characters (got ${value.length})` });
      return true;
    }
    if (value === null || typeof value !== 'object') return true;
    if (depth >= CONFIG_LIMITS.depth) {
      errors.push({ path: at, message: `nesting limit exceeded: maps and lists may nest at most ${CONFIG_LIMITS.depth} deep` });
      return true;
    }
    if (Array.isArray(value)) {
      if (isVolumeList(path) && value.length > CONFIG_LIMITS.volumes) {
        errors.push({ path: at, message: `must have at most ${CONFIG_LIMITS.volumes} volumes (got ${value.length})` });
        return true;
      }
      if (value.length > CONFIG_LIMITS.listItems) {
        errors.push({ path: at, message: `must have at most ${CONFIG_LIMITS.listItems} items (got ${value.length})` });
        return true;
      }
      for (let i = 0; i < value.length; i++) if (!walk(value[i], [...path, String(i)], depth + 1)) return false;
      return true;
    }
    const keys = Object.keys(value);
    const { max, what } = mapLimit(path);
    if (keys.length > max) {
      errors.push({ path: at, message: `must have at most ${max} ${what} (got ${keys.length})` });
      return true;
    }
    for (const key of keys) {
      if (key.length > CONFIG_LIMITS.keyChars) {
        errors.push({ path: at, message: `a key is longer than ${CONFIG_LIMITS.keyChars} characters ("${key.slice(0, 32)}…")` });
        continue;
      }
      if (!walk((value as Record<string, unknown>)[key], [...path, key], depth + 1)) return false;
    }
    return true;
  };
  walk(raw, [], 0);
  return errors;
}

/** `services.web.env.X`, `environments.s.services.web.env.X`, `services.web.build.args.X`. */
function isFreeText(path: string[]): boolean {
  const parent = path[path.length - 2];
  return path.length >= 2 && (parent === 'env' || (parent === 'args' && path[path.length - 3] === 'build'));
}

/** `services.web.volumes`, `accessories.db.volumes` and their overrides under `environments`. */
function isVolumeList(path: string[]): boolean {
  const owners = path.length === 3 ? path[0] : path.length === 5 && path[0] === 'environments' ? path[2] : undefined;
  return path[path.length - 1] === 'volumes' && (owners === 'services' || owners === 'accessories');
}

function mapLimit(path: string[]): { max: number; what: string } {
  const last = path[path.length - 1];
  if (path.length === 1 && last === 'services') return { max: CONFIG_LIMITS.services, what: 'services' };
  if (path.length === 3 && path[0] === 'environments' && last === 'services') return { max: CONFIG_LIMITS.services, what: 'services' };
  if (path.length === 1 && last === 'accessories') return { max: CONFIG_LIMITS.accessories, what: 'accessories' };
  if (path.length === 3 && path[0] === 'environments' && last === 'accessories') return { max: CONFIG_LIMITS.accessories, what: 'accessories' };
  if (path.length === 1 && last === 'environments') return { max: CONFIG_LIMITS.environments, what: 'environments' };
  if (last === 'env') return { max: CONFIG_LIMITS.mapEntries, what: 'variables' };
  return { max: CONFIG_LIMITS.mapEntries, what: 'entries' };
}
