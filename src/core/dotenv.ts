/**
 * Parses a `.env` file for `slipway secrets set --from-file`: `KEY=value` lines,
 * `#` comments, blank lines, an optional `export ` prefix, single quotes (literal),
 * double quotes (with \n \r \t \" \\ escapes, may span lines), and unquoted values
 * (trailing ` #comment` removed, surrounding spaces trimmed). Any other line is an
 * error naming its line number; the whole file is rejected so nothing is half-applied.
 * Errors never quote values, only names and line numbers.
 */
import { VAR_NAME_RE } from './config-schema';
import { SlipwayError, type ErrorDetail } from './errors';

export function parseDotenv(text: string, fileName = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  const errors: ErrorDetail[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      errors.push({ path: `${fileName}:${lineNo}`, message: 'expected KEY=VALUE' });
      continue;
    }
    const name = m[1]!;
    let rest = m[2]!;
    if (!VAR_NAME_RE.test(name)) {
      errors.push({ path: `${fileName}:${lineNo}`, message: `"${name.slice(0, 64)}" is not a valid variable name (letters, digits and _, not starting with a digit)` });
      continue;
    }
    let value: string;
    if (rest.startsWith('"')) {
      // Double-quoted values may continue over following lines until the closing quote.
      let body = rest.slice(1);
      let end = closingQuote(body);
      while (end < 0 && i + 1 < lines.length) {
        i++;
        body += `\n${lines[i]}`;
        end = closingQuote(body);
      }
      if (end < 0) {
        errors.push({ path: `${fileName}:${lineNo}`, message: `${name}: the double quote is never closed` });
        continue;
      }
      if (!isTrailerOk(body.slice(end + 1))) {
        errors.push({ path: `${fileName}:${lineNo}`, message: `${name}: unexpected text after the closing quote` });
        continue;
      }
      value = body.slice(0, end).replace(/\\([nrt"\\])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' })[c]!);
    } else if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) {
        errors.push({ path: `${fileName}:${lineNo}`, message: `${name}: the single quote is never closed` });
        continue;
      }
      if (!isTrailerOk(rest.slice(end + 1))) {
        errors.push({ path: `${fileName}:${lineNo}`, message: `${name}: unexpected text after the closing quote` });
        continue;
      }
      value = rest.slice(1, end);
    } else {
      const hash = rest.search(/\s#/);
      if (hash >= 0) rest = rest.slice(0, hash);
      value = rest.trim();
    }
    if (name in out) {
      errors.push({ path: `${fileName}:${lineNo}`, message: `${name} is set twice` });
      continue;
    }
    out[name] = value;
  }
  if (errors.length > 0) {
    throw new SlipwayError('SLW_BAD_REQUEST', `${fileName}: ${errors.length} malformed line(s); nothing was changed\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`, errors);
  }
  return out;
}

/** Index of the first unescaped `"`, or -1. */
function closingQuote(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

const isTrailerOk = (s: string) => /^\s*(#.*)?$/.test(s);
