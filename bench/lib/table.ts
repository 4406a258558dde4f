/** Prints rows as an aligned plain-text table. */
export function printTable(rows: Array<Record<string, string | number>>, columns?: string[]): void {
  if (rows.length === 0) return;
  const cols = columns ?? Object.keys(rows[0]!);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(cols));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(cols.map((c) => String(r[c] ?? ''))));
}
