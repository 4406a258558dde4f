/**
 * Cron schedules for scheduled jobs (`schedule: "0 *\/6 * * *"` in slipway.yml).
 *
 * Accepts standard 5-field cron (minute hour day-of-month month day-of-week),
 * a 6-field form with a leading seconds field, and the macros @hourly, @daily,
 * @midnight, @weekly, @monthly, @yearly and @annually. Fields take `*`,
 * numbers, ranges `a-b`, steps `*\/n`, `a-b/n` and `a/n`, and lists `a,b,c`;
 * months take JAN-DEC and days SUN-SAT (case-insensitive), and day-of-week 7
 * is Sunday.
 *
 * Day matching follows Vixie cron: when both day-of-month and day-of-week are
 * restricted, a day matches if EITHER matches. As in Vixie, a field counts as
 * unrestricted when it starts with `*` (so `*\/2` is unrestricted for this rule).
 *
 * All schedules are evaluated in UTC: a server's local timezone must not shift
 * when jobs run, and UTC has no DST gaps or repeated hours.
 */
import { SlipwayError } from './errors';

export interface CronSchedule {
  /** The expression as written (trimmed), for messages and display. */
  readonly expression: string;
  /** True for the 6-field form; 5-field schedules always fire at second 0. */
  readonly hasSeconds: boolean;
  /** The first matching UTC instant strictly after `after`, with milliseconds 0. */
  next(after: Date): Date;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  // Index 0 is a placeholder so that a name's index is its month number.
  names: ['', 'JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
// Max is 7 so that `5-7` and `7` parse; 7 is folded onto 0 (Sunday) afterwards.
const DAY_OF_WEEK: FieldSpec = {
  name: 'day-of-week',
  min: 0,
  max: 7,
  names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
};

const MACROS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

// Any satisfiable schedule matches within 8 years (29 Feb across a skipped
// century leap year); the guard only protects next() against looping forever.
const MAX_SEARCH_YEARS = 10;

// Longest each month can be, so Feb 29 counts as possible.
const MAX_DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function invalid(message: string): SlipwayError {
  return new SlipwayError('SLW_CONFIG_INVALID', message);
}

function parseValue(token: string, spec: FieldSpec, raw: string): number {
  let value: number;
  if (/^\d+$/.test(token)) {
    value = Number(token);
  } else {
    const idx = token === '' ? -1 : (spec.names?.indexOf(token.toUpperCase()) ?? -1);
    if (idx < 0) throw invalid(`${spec.name} field "${raw}": expected ${expectedSyntax(spec)}`);
    value = idx;
  }
  if (value < spec.min || value > spec.max) {
    throw invalid(`${spec.name} field "${raw}": expected ${spec.min}-${spec.max}, got ${token}`);
  }
  return value;
}

function expectedSyntax(spec: FieldSpec): string {
  const names = spec.names?.filter(Boolean);
  const range = names ? `${spec.min}-${spec.max} or ${names[0]}-${names.at(-1)}` : `${spec.min}-${spec.max}`;
  return `${range}, a range a-b, a step */n or a list a,b`;
}

/** Parses one field into the sorted set of values it allows. */
function parseField(raw: string, spec: FieldSpec): number[] {
  const values = new Set<number>();
  for (const item of raw.split(',')) {
    const [base = '', stepText, ...extra] = item.split('/');
    if (item === '' || base === '' || extra.length > 0) {
      throw invalid(`${spec.name} field "${raw}": expected ${expectedSyntax(spec)}`);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw invalid(`${spec.name} field "${raw}": step must be a positive integer, got "${stepText}"`);
      }
      step = Number(stepText);
    }
    let start: number;
    let end: number;
    if (base === '*') {
      start = spec.min;
      end = spec.max;
    } else {
      const bounds = base.split('-');
      if (bounds.length > 2) {
        throw invalid(`${spec.name} field "${raw}": expected a range a-b, got "${base}"`);
      }
      start = parseValue(bounds[0]!, spec, raw);
      // `a/n` means "from a to the end of the field, every n", as in Vixie.
      end = bounds.length === 2 ? parseValue(bounds[1]!, spec, raw) : stepText !== undefined ? spec.max : start;
      if (start > end) {
        throw invalid(`${spec.name} field "${raw}": range start ${start} is greater than end ${end}`);
      }
    }
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * Parses a cron expression. Throws SlipwayError(SLW_CONFIG_INVALID) naming the
 * offending field, or when the schedule can never fire (e.g. `0 0 30 2 *`).
 */
export function parseCron(expr: string): CronSchedule {
  const expression = expr.trim();
  const source = expression.startsWith('@') ? MACROS[expression.toLowerCase()] : expression;
  if (source === undefined) {
    throw invalid(`schedule "${expression}": unknown macro, expected one of ${Object.keys(MACROS).join(' ')}`);
  }
  const parts = source === '' ? [] : source.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw invalid(
      `schedule "${expression}": expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, got ${parts.length}`,
    );
  }
  const hasSeconds = parts.length === 6;
  const [secRaw, minRaw, hourRaw, domRaw, monRaw, dowRaw] = (hasSeconds ? parts : ['0', ...parts]) as [
    string, string, string, string, string, string,
  ];

  const seconds = parseField(secRaw, SECOND);
  const minutes = parseField(minRaw, MINUTE);
  const hours = parseField(hourRaw, HOUR);
  const doms = parseField(domRaw, DAY_OF_MONTH);
  const months = parseField(monRaw, MONTH);
  const dows = new Set(parseField(dowRaw, DAY_OF_WEEK).map((d) => d % 7));
  const domSet = new Set(doms);
  const domRestricted = !domRaw.startsWith('*');
  const dowRestricted = !dowRaw.startsWith('*');

  // Only a restricted day-of-month with an unrestricted day-of-week can be
  // impossible (any weekday occurs in every month), so this check is exact and
  // avoids a search at parse time.
  if (domRestricted && !dowRestricted && !months.some((m) => doms[0]! <= MAX_DAYS_IN_MONTH[m]!)) {
    throw invalid(`schedule "${expression}" never matches: no selected month has day ${doms.join(',')}`);
  }

  const dayMatches = (y: number, m: number, d: number): boolean => {
    const domOk = domSet.has(d);
    const dowOk = dows.has(new Date(Date.UTC(y, m - 1, d)).getUTCDay());
    if (domRestricted && dowRestricted) return domOk || dowOk;
    if (domRestricted) return domOk;
    if (dowRestricted) return dowOk;
    return true;
  };

  const next = (after: Date): Date => {
    const afterMs = after.getTime();
    if (!Number.isFinite(afterMs)) throw new SlipwayError('SLW_INTERNAL', 'cron next() needs a valid Date');
    // Start at the next whole unit so the result is strictly after `after`.
    const unit = hasSeconds ? 1000 : 60_000;
    let t = new Date(Math.floor(afterMs / unit) * unit + unit);
    const yearLimit = t.getUTCFullYear() + MAX_SEARCH_YEARS;

    // Each step jumps to the next candidate of the first mismatching field and
    // resets the smaller fields; Date.UTC normalises overflow (month 13, day 32)
    // into the following year/month/day.
    for (;;) {
      const y = t.getUTCFullYear();
      if (y > yearLimit) throw invalid(`schedule "${expression}" never matches`);
      const mo = t.getUTCMonth() + 1;
      const d = t.getUTCDate();
      const h = t.getUTCHours();
      const mi = t.getUTCMinutes();
      const s = t.getUTCSeconds();

      if (!months.includes(mo)) {
        const nm = months.find((v) => v > mo);
        t = nm === undefined ? utc(y + 1, months[0]!, 1, 0, 0, 0) : utc(y, nm, 1, 0, 0, 0);
        continue;
      }
      if (!dayMatches(y, mo, d)) {
        t = utc(y, mo, d + 1, 0, 0, 0);
        continue;
      }
      if (!hours.includes(h)) {
        const nh = hours.find((v) => v > h);
        t = nh === undefined ? utc(y, mo, d + 1, 0, 0, 0) : utc(y, mo, d, nh, 0, 0);
        continue;
      }
      if (!minutes.includes(mi)) {
        const nmi = minutes.find((v) => v > mi);
        t = nmi === undefined ? utc(y, mo, d, h + 1, 0, 0) : utc(y, mo, d, h, nmi, 0);
        continue;
      }
      if (!seconds.includes(s)) {
        const ns = seconds.find((v) => v > s);
        t = ns === undefined ? utc(y, mo, d, h, mi + 1, 0) : utc(y, mo, d, h, mi, ns);
        continue;
      }
      return t;
    }
  };

  return { expression, hasSeconds, next };
}

function utc(y: number, month: number, d: number, h: number, mi: number, s: number): Date {
  return new Date(Date.UTC(y, month - 1, d, h, mi, s));
}

/** The next `n` run times after `from`, each strictly after the previous one. */
export function describeNextRuns(schedule: CronSchedule, from: Date, n: number): Date[] {
  const runs: Date[] = [];
  let cursor = from;
  for (let i = 0; i < n; i++) {
    cursor = schedule.next(cursor);
    runs.push(cursor);
  }
  return runs;
}
