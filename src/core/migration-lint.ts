/**
 * The migration lint: before a release command migrates a production database, Slipway reads
 * the migration's SQL with Postgres's own parser (libpg-query, compiled to WASM) and blocks
 * statements that break the running release (drops, renames, type changes) or queue traffic
 * behind a long lock on a busy table. The rules are in migration-lint-rules.ts; this module
 * parses the files in order, places each statement (file and line) and tracks lock_timeout.
 * No I/O: the caller reads the files.
 */
import type { ParseResult, RawStmt, ScanToken } from 'libpg-query';
import { SchemaModel, lockTimeoutEffect, ruleHit, type LintRule, type RuleHit } from './migration-lint-rules';

export type { LintRule } from './migration-lint-rules';

export interface MigrationFile {
  /** How findings name the file, e.g. `db/migrations/0003_drop.sql`. */
  name: string;
  sql: string;
}

export interface LintOptions {
  /**
   * The tables the database holds before the migration (`name` or `schema.name`); with
   * 'unknown' (the default) every table the files do not create is taken to exist.
   */
  existingTables?: ReadonlySet<string> | 'unknown';
}

export interface LintFinding {
  file: string;
  /** The statement's text, trimmed, on one line, at most about 300 characters. */
  statement: string;
  /** 1-based line in the file where the statement starts. */
  line: number;
  rule: LintRule;
  severity: 'blocking';
  /** What is wrong, naming the table and column. */
  message: string;
  /** The safe way to do it. */
  safePattern: string;
}

type Parser = typeof import('libpg-query');

const MAX_STATEMENT = 300;

/** Lints the files in the order they run; a parse error is a finding, never a throw. */
export async function lintMigrationSql(files: readonly MigrationFile[], opts: LintOptions = {}): Promise<LintFinding[]> {
  // Imported on first use: the parser instantiates its WASM module on import.
  const pg: Parser = await import('libpg-query');
  await pg.loadModule();
  const schema = new SchemaModel(opts.existingTables ?? 'unknown');
  return files.flatMap((f) => lintFile(pg, f, schema));
}

/** `file:line: rule: statement — message. Safe: pattern`, on one line. */
export function formatFinding(f: LintFinding): string {
  return oneLine(`${f.file}:${f.line}: ${f.rule}: ${f.statement} — ${f.message}. Safe: ${f.safePattern}`);
}

function lintFile(pg: Parser, file: MigrationFile, schema: SchemaModel): LintFinding[] {
  if (file.sql.trim() === '') return []; // the parser refuses an empty string
  const src = new Source(file.sql);
  let parsed: ParseResult;
  try {
    parsed = pg.parseSync(file.sql);
  } catch (err) {
    return [parseErrorFinding(pg, file, src, err)];
  }
  const findings: LintFinding[] = [];
  const at = (raw: RawStmt, h: RuleHit): LintFinding => ({ file: file.name, ...src.statement(raw), severity: 'blocking', ...h });
  // lock_timeout as the session would have it: SET LOCAL lasts until the transaction ends.
  let timeout: 'none' | 'set' | 'local' = 'none';
  let lockReported = false;
  for (const raw of parsed.stmts ?? []) {
    if (!raw.stmt) continue;
    const effect = lockTimeoutEffect(raw.stmt);
    if (effect === 'set') timeout = 'set';
    else if (effect === 'set-local') timeout = 'local';
    else if (effect === 'unset' || (effect === 'transaction-end' && timeout === 'local')) timeout = 'none';
    const verdict = schema.apply(raw.stmt);
    findings.push(...verdict.hits.map((h) => at(raw, h)));
    if (verdict.locks && timeout === 'none' && !lockReported) {
      lockReported = true; // one finding per file, at the first statement that waits unbounded
      findings.push(at(raw, ruleHit('no-lock-timeout', `${verdict.locks} runs without SET lock_timeout first (while it waits for its lock, every query on the table queues behind it)`)));
    }
  }
  return findings;
}

function parseErrorFinding(pg: Parser, file: MigrationFile, src: Source, err: unknown): LintFinding {
  const message = err instanceof Error ? err.message : String(err);
  // The parser reports the error position in characters (code points), 0-based.
  const cursor = pg.hasSqlDetails(err) ? (err.sqlDetails?.cursorPosition ?? 0) : 0;
  const span = statementAround(pg, src, src.byteOfCodePoint(cursor));
  return { file: file.name, statement: src.text(span.start, span.end), line: src.lineAt(span.start), severity: 'blocking', ...ruleHit('parse-error', message) };
}

/** The statement holding byte `pos`: between the `;` tokens around it, or its line if the SQL cannot even be tokenized. */
function statementAround(pg: Parser, src: Source, pos: number): { start: number; end: number } {
  let tokens: ScanToken[];
  try {
    tokens = pg.scanSync(src.sql).tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT');
  } catch {
    return src.lineSpan(pos);
  }
  const before = tokens.findLast((t) => t.text === ';' && t.start < pos);
  const first = tokens.find((t) => t.start >= (before?.end ?? 0));
  const after = tokens.find((t) => t.text === ';' && t.start >= pos);
  return { start: first?.start ?? pos, end: after?.start ?? src.bytes.length };
}

/** The file's text addressed as the parser addresses it: in UTF-8 bytes. */
class Source {
  readonly bytes: Buffer;

  constructor(readonly sql: string) {
    this.bytes = Buffer.from(sql, 'utf8');
  }

  statement(raw: RawStmt): { statement: string; line: number } {
    let start = raw.stmt_location ?? 0;
    // A missing (or 0) length means the statement runs to the end of the file.
    const end = raw.stmt_len ? start + raw.stmt_len : this.bytes.length;
    while (start < end && isSpace(this.bytes[start])) start++;
    return { statement: this.text(start, end), line: this.lineAt(start) };
  }

  text(start: number, end: number): string {
    const s = oneLine(this.bytes.subarray(start, end).toString('utf8')).replace(/;$/, '').trim();
    return s.length > MAX_STATEMENT ? `${s.slice(0, MAX_STATEMENT - 1)}…` : s;
  }

  lineAt(pos: number): number {
    let line = 1;
    for (let i = 0; i < pos && i < this.bytes.length; i++) if (this.bytes[i] === 0x0a) line++;
    return line;
  }

  lineSpan(pos: number): { start: number; end: number } {
    // (lastIndexOf with a negative offset would count from the end)
    const start = pos === 0 ? 0 : this.bytes.lastIndexOf(0x0a, pos - 1) + 1;
    const nl = this.bytes.indexOf(0x0a, pos);
    return { start, end: nl < 0 ? this.bytes.length : nl };
  }

  byteOfCodePoint(n: number): number {
    return Buffer.byteLength(Array.from(this.sql).slice(0, n).join(''), 'utf8');
  }
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();
const isSpace = (b: number | undefined): boolean => b === 0x20 || (b !== undefined && b >= 0x09 && b <= 0x0d);
