/**
 * The status filter of recent requests (`slipway requests --status`, the API's `status`, the
 * dashboard's filter): a comma-separated list of status classes and codes, `5xx`, `4xx,5xx`,
 * `404`, `404,500`, `4xx,503`. A request matches when its status is in one of the classes or
 * is one of the codes; a request without a status (the client went away first: -1) matches
 * none. Pure: the CLI, the API's query schema and the dashboard parse with the same function.
 */

export interface StatusFilter {
  /** Hundreds digit of each class written (`4xx` → 4), sorted. */
  classes: number[];
  /** Codes written (`404`), sorted. */
  codes: number[];
}

/** Most entries one filter may hold (every class and a few codes fit easily). */
export const MAX_STATUS_FILTER_ENTRIES = 20;

const EXAMPLE = 'status classes and codes separated by commas, such as 5xx, 4xx,5xx, 404 or 404,500';

/** The filter written as `text`, or what is wrong with it (to follow the flag's or field's name). */
export function parseStatusFilter(text: string): { ok: true; filter: StatusFilter } | { ok: false; message: string } {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length > MAX_STATUS_FILTER_ENTRIES) return { ok: false, message: `at most ${MAX_STATUS_FILTER_ENTRIES} entries (got ${parts.length}); expected ${EXAMPLE}` };
  const classes = new Set<number>();
  const codes = new Set<number>();
  for (const part of parts) {
    if (part === '') return { ok: false, message: `an empty entry in "${text}"; expected ${EXAMPLE}` };
    const cls = /^([1-5])xx$/i.exec(part);
    if (cls) {
      classes.add(Number(cls[1]));
      continue;
    }
    if (/^\d{3}$/.test(part) && Number(part) >= 100 && Number(part) <= 599) {
      codes.add(Number(part));
      continue;
    }
    return { ok: false, message: `"${part}" is neither a status class (1xx to 5xx) nor a status code (100 to 599); expected ${EXAMPLE}` };
  }
  return { ok: true, filter: { classes: [...classes].sort(), codes: [...codes].sort((a, b) => a - b) } };
}

/** Whether a request answered with `status` (-1: no answer) passes the filter. */
export function statusMatches(filter: StatusFilter, status: number): boolean {
  if (status < 100) return false;
  return filter.classes.includes(Math.floor(status / 100)) || filter.codes.includes(status);
}

/** The filter written back in its canonical form (`4xx,5xx,404`): a classes-first, sorted list. */
export function formatStatusFilter(filter: StatusFilter): string {
  return [...filter.classes.map((c) => `${c}xx`), ...filter.codes.map(String)].join(',');
}
