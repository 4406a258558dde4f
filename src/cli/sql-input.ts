/**
 * The interactive `db shell`'s line handling (pure): statements end with `;` at the end of a
 * line (outside quotes), a line starting with `\` is a psql meta-command on its own (`\dt`),
 * and `\q` quits. What is not complete yet stays in `rest` for the next line.
 */
export function splitStatements(text: string): { statements: string[]; rest: string; quit: boolean } {
  const statements: string[] = [];
  let current: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (current.length === 0 && trimmed.startsWith('\\')) {
      if (/^\\q\b/.test(trimmed)) return { statements, rest: '', quit: true };
      statements.push(trimmed);
      continue;
    }
    if (current.length === 0 && trimmed === '') continue;
    current.push(line);
    if (trimmed.endsWith(';') && !insideQuote(current.join('\n'))) {
      statements.push(current.join('\n'));
      current = [];
    }
  }
  return { statements, rest: current.join('\n'), quit: false };
}

/** Whether the text ends inside a '…' or "…" literal or a $tag$ body (then `;` does not end the statement). */
function insideQuote(text: string): boolean {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (text.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = null;
      }
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return false;
      i = nl;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '$') {
      const tag = /^\$[A-Za-z_]?[A-Za-z0-9_]*\$/.exec(text.slice(i, i + 64));
      if (tag) {
        quote = tag[0];
        i += tag[0].length - 1;
      }
    }
  }
  return quote !== null;
}
