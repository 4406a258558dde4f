/**
 * Prints rows as an aligned plain-text table on stdout: a header, a rule, one line per
 * row. Columns default to the keys of the first row; numeric columns are right-aligned.
 */
export function printTable(rows: Array<Record<string, string | number>>, columns?: string[]): void {
  console.log(formatTable(rows, columns));
}

/** The text printTable prints (without the final newline). */
export function formatTable(rows: Array<Record<string, string | number>>, columns?: string[]): string {
  const cols = columns ?? Object.keys(rows[0] ?? {});
  if (cols.length === 0) return '';
  const cell = (v: string | number | undefined): string => (v === undefined ? '' : String(v));
  const numeric = cols.map((c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || r[c] === undefined));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (cells: string[]): string =>
    cells
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}
