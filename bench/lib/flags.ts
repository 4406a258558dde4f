/** A command-line option that must be a whole number ≥ 1 (`flag` as the user typed it, e.g. `--rounds`). */
export function wholeNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a whole number ≥ 1, got "${value}"`);
  return n;
}
