/** Printing helpers: aligned tables for people, JSON for scripts (--json). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(rows: Array<Record<string, string | number | null | undefined>>, columns: string[]): void {
  for (const line of tableLines(rows, columns)) console.log(line);
}

/** The lines printTable prints (a header, then a row each; none without rows), to indent or test. */
export function tableLines(rows: Array<Record<string, string | number | null | undefined>>, columns: string[]): string[] {
  if (rows.length === 0) return [];
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))];
}

export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function duration(startIso: string | null, endIso: string | null): string {
  if (!startIso || !endIso) return '-';
  const ms = Date.parse(endIso) - Date.parse(startIso);
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}
