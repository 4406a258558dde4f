/**
 * The kinds of value a `slipway server` setting holds. Each kind turns the text of a flag or
 * an environment variable into a value, with an error that names the flag or variable and the
 * form expected (`SLIPWAY_API_PORT: expected a port number (0-65535), got "x"`), and writes a
 * value back as it would be typed, for `--help` and docs/operations.md.
 */
import path from 'node:path';
import { parseDuration } from '../core/duration';

export interface SettingKind<T> {
  /** What a flag takes, for --help and the docs (`<duration>`); null: a switch without a value. */
  placeholder: string | null;
  /** The text of a flag or variable (never empty: empty means unset) → the value; throws an Error naming `name`. */
  parse(text: string, name: string): T;
  /** A value as it would be typed (defaults in --help and the docs). */
  format(value: T): string;
  /** Values that stand for "the default" (`0` of a timeout that cannot be off). */
  meansDefault?(value: T): boolean;
}

const got = (text: string) => `got ${JSON.stringify(text)}`;

/** Any text (host names, listen addresses, network names). */
export function text(placeholder = '<text>'): SettingKind<string> {
  return { placeholder, parse: (t) => t, format: (v) => v };
}

/** A secret: any text, never shown. */
export function secret(): SettingKind<string> {
  return { placeholder: '<secret>', parse: (t) => t, format: () => '(secret)' };
}

/** A file or directory, made absolute against the working directory. */
export function filePath(placeholder = '<path>'): SettingKind<string> {
  return { placeholder, parse: (t) => path.resolve(t), format: (v) => v };
}

/** One of a fixed list of words. */
export function choice<const T extends string>(values: readonly T[], placeholder = `<${values.join('|')}>`): SettingKind<T> {
  return {
    placeholder,
    parse: (t, name) => {
      if (!(values as readonly string[]).includes(t)) throw new Error(`${name}: expected one of ${values.join(', ')}, ${got(t)}`);
      return t as T;
    },
    format: (v) => v,
  };
}

/** A TCP port, 0 (any free port) to 65535; `off` too when `off` is given (→ null). */
export function port(): SettingKind<number>;
export function port(opts: { off: true }): SettingKind<number | null>;
export function port(opts: { off?: boolean } = {}): SettingKind<number | null> {
  return {
    placeholder: opts.off ? '<port|off>' : '<port>',
    parse: (t, name) => {
      if (opts.off && t === 'off') return null;
      const n = Number(t);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}: expected a port number (0-65535)${opts.off ? ' or off' : ''}, ${got(t)}`);
      return n;
    },
    format: (v) => (v === null ? 'off' : String(v)),
  };
}

/** A whole number within bounds. */
export function count(min: number, max: number, placeholder = '<n>'): SettingKind<number> {
  return {
    placeholder,
    parse: (t, name) => {
      const n = Number(t);
      if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: expected a whole number from ${min} to ${max}, ${got(t)}`);
      return n;
    },
    format: (v) => String(v),
  };
}

/** A size in bytes: a whole number within bounds. */
export function bytes(min: number, max = Number.MAX_SAFE_INTEGER): SettingKind<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
  return {
    placeholder: '<bytes>',
    parse: (t, name) => {
      const n = Number(t);
      if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${name}: expected a size in bytes (${range}), ${got(t)}`);
      return n;
    },
    format: (v) => String(v),
  };
}

/**
 * A duration in milliseconds: `500ms`, `5s`, `1m`, `1h`, `14d` or bare seconds. `zero`: what
 * `0` and `off` mean — `off` (the value 0: the loop does not run) or `default` (the default is
 * used; for timeouts and intervals that cannot be off); absent, they are refused below `min`.
 */
export function duration(opts: { zero?: 'off' | 'default'; min?: number } = {}): SettingKind<number> {
  const expected = opts.min
    ? `a duration of at least ${formatDuration(opts.min)} (e.g. 5s, 14d)`
    : `a duration such as 5s or 500ms${opts.zero === 'off' ? ' (0 or off to disable)' : opts.zero === 'default' ? ' (0 or off for the default)' : ''}`;
  return {
    placeholder: '<duration>',
    parse: (t, name) => {
      const ms = t === 'off' && opts.zero ? 0 : parseDuration(/^\d+(\.\d+)?$/.test(t) ? Number(t) : t);
      if (ms === null || ms < (opts.min ?? 0)) throw new Error(`${name}: expected ${expected}, ${got(t)}`);
      return ms;
    },
    format: formatDuration,
    ...(opts.zero === 'default' ? { meansDefault: (ms: number) => ms === 0 } : {}),
  };
}

/** `on`/`off` switch: a flag without a value, or a variable set to 1/0 (true/false, yes/no, on/off). */
export function toggle(): SettingKind<boolean> {
  return {
    placeholder: null,
    parse: (t, name) => {
      if (['1', 'true', 'yes', 'on'].includes(t)) return true;
      if (['0', 'false', 'no', 'off'].includes(t)) return false;
      throw new Error(`${name}: expected 1 or 0, ${got(t)}`);
    },
    format: (v) => (v ? '1' : '0'),
  };
}

/** A kind whose value may be absent (null when unset): the default says so. */
export function optional<T>(kind: SettingKind<T>): SettingKind<T | null> {
  return { placeholder: kind.placeholder, parse: (t, name) => kind.parse(t, name), format: (v) => (v === null ? '' : kind.format(v)) };
}

/** A kind with its own parser (ACME directories, listen addresses, CIDR lists…). */
export function custom<T>(placeholder: string, parse: (text: string, name: string) => T, format: (value: T) => string): SettingKind<T> {
  return { placeholder, parse, format };
}

/** 5000 → `5s`, 60000 → `60s`, 3600000 → `1h`, 14 days → `14d`, 500 → `500ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
