/**
 * The rules of the migration lint (migration-lint.ts), one parsed statement at a time.
 * `SchemaModel` remembers what earlier statements of the same set of files did — tables
 * they created, CHECK (col IS NOT NULL) constraints they validated — because most rules
 * only matter for a table that already holds data and is used by the running release.
 */
import type { AlterTableCmd, ColumnDef, Constraint, IndexStmt, Node, RangeVar, RenameStmt } from 'libpg-query';

export type LintRule =
  | 'parse-error'
  | 'drop-table'
  | 'drop-column'
  | 'rename'
  | 'type-change'
  | 'not-null-without-default'
  | 'index-not-concurrently'
  | 'constraint-not-valid'
  | 'no-lock-timeout';

export interface RuleHit {
  rule: LintRule;
  message: string;
  safePattern: string;
}

/** A table name as the parser gives it: unquoted identifiers are already folded to lower case. */
interface TableName {
  schema?: string;
  name: string;
}

/** What one statement means for the lint: the rules it breaks and the lock it waits for. */
export interface StatementVerdict {
  hits: RuleHit[];
  /** Set when the statement takes a lock that blocks an existing table's traffic: what it does, for the lock_timeout rule. */
  locks?: string;
}

const SAFE: Record<LintRule, string> = {
  'parse-error': 'fix the SQL so Postgres can parse it; nothing else in this file was checked.',
  'drop-table': 'stop using the table in one release, drop it in a later one.',
  'drop-column': 'stop reading the column in one release, drop it in a later one.',
  rename: 'add the new name alongside the old one (a new column kept in sync, or a view), move readers and writers over, then drop the old name in a later release.',
  'type-change': 'add a column of the new type, write both and backfill it in batches, switch readers over, then drop the old column in a later release.',
  'not-null-without-default': 'give the new column a DEFAULT, or add it nullable, backfill it, and make it NOT NULL in a later step.',
  'index-not-concurrently': 'use CREATE INDEX CONCURRENTLY, in a migration without a transaction block.',
  'constraint-not-valid': 'add the constraint NOT VALID, then VALIDATE CONSTRAINT it in a separate statement, which does not block writes.',
  'no-lock-timeout': "start the file with SET lock_timeout = '5s' (SET LOCAL inside a transaction) so a blocked lock fails fast instead of queueing traffic, and retry.",
};

const SAFE_SET_NOT_NULL = 'add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT it in a separate statement, then SET NOT NULL, which then skips the scan.';

export function ruleHit(rule: LintRule, message: string, safePattern = SAFE[rule]): RuleHit {
  return { rule, message, safePattern };
}

function tableOf(rel: RangeVar | undefined): TableName | undefined {
  return rel?.relname ? { schema: rel.schemaname, name: rel.relname } : undefined;
}

/** `a`, `s.a` or `db.s.a` as in DROP TABLE's list of names. */
function tableOfNames(n: Node): TableName | undefined {
  const parts = ('List' in n ? (n.List.items ?? []) : []).map((p) => ('String' in p ? (p.String.sval ?? '') : ''));
  const name = parts.at(-1);
  return name ? { schema: parts.at(-2), name } : undefined;
}

/** `"s.a"` or `"a"`, parsed from an entry of `existingTables`. */
function tableOfKey(key: string): TableName {
  const dot = key.lastIndexOf('.');
  return dot < 0 ? { name: key } : { schema: key.slice(0, dot), name: key.slice(dot + 1) };
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Same table, ignoring case, unless both names carry a schema and the schemas differ (search_path is unknown here). */
const sameTable = (a: TableName, b: TableName): boolean => same(a.name, b.name) && (!a.schema || !b.schema || same(a.schema, b.schema));

const show = (t: TableName): string => `"${t.schema ? `${t.schema}.` : ''}${t.name}"`;

function constraintsOf(def: ColumnDef): Constraint[] {
  return (def.constraints ?? []).flatMap((c) => ('Constraint' in c ? [c.Constraint] : []));
}

/** The column a `CHECK (col IS NOT NULL)` tests, if that is all the check says. */
function notNullCheckColumn(c: Constraint): string | undefined {
  const expr = c.raw_expr;
  if (c.contype !== 'CONSTR_CHECK' || !expr || !('NullTest' in expr) || expr.NullTest.nulltesttype !== 'IS_NOT_NULL') return undefined;
  const arg = expr.NullTest.arg;
  const fields = arg && 'ColumnRef' in arg ? (arg.ColumnRef.fields ?? []) : [];
  const last = fields.at(-1);
  return fields.length === 1 && last && 'String' in last ? last.String.sval : undefined;
}

export class SchemaModel {
  private readonly known: TableName[] | 'unknown';
  private readonly created: TableName[] = [];
  private readonly createdIndexes = new Set<string>();
  /** CHECK (col IS NOT NULL) constraints seen, and whether they are validated yet. */
  private readonly notNullChecks: Array<{ table: TableName; conname?: string; column: string; valid: boolean }> = [];

  constructor(existingTables: ReadonlySet<string> | 'unknown') {
    this.known = existingTables === 'unknown' ? 'unknown' : [...existingTables].map(tableOfKey);
  }

  /** A table that holds data and serves the running release: not created earlier in these files. */
  isExisting(t: TableName): boolean {
    if (this.created.some((c) => sameTable(c, t))) return false;
    return this.known === 'unknown' || this.known.some((k) => sameTable(k, t));
  }

  /** Checks one statement against the rules, then records what it creates. */
  apply(stmt: Node): StatementVerdict {
    if ('CreateStmt' in stmt) return this.create(tableOf(stmt.CreateStmt.relation), stmt.CreateStmt.if_not_exists);
    if ('CreateTableAsStmt' in stmt) return this.create(tableOf(stmt.CreateTableAsStmt.into?.rel), stmt.CreateTableAsStmt.if_not_exists);
    if ('AlterTableStmt' in stmt) {
      const t = tableOf(stmt.AlterTableStmt.relation);
      if (!t || stmt.AlterTableStmt.objtype !== 'OBJECT_TABLE' || !this.isExisting(t)) return { hits: [] };
      const cmds = (stmt.AlterTableStmt.cmds ?? []).flatMap((c) => ('AlterTableCmd' in c ? [c.AlterTableCmd] : []));
      return { hits: cmds.flatMap((c) => this.alterCommand(t, c)), locks: `ALTER TABLE on ${show(t)}` };
    }
    if ('RenameStmt' in stmt) return this.rename(stmt.RenameStmt);
    if ('IndexStmt' in stmt) return this.createIndex(stmt.IndexStmt);
    if ('DropStmt' in stmt) return this.drop(stmt.DropStmt.removeType, stmt.DropStmt.objects ?? [], stmt.DropStmt.concurrent ?? false);
    return { hits: [] };
  }

  private create(t: TableName | undefined, ifNotExists = false): StatementVerdict {
    // CREATE TABLE IF NOT EXISTS on a table known to exist does nothing: it stays existing.
    if (t && !(ifNotExists && this.known !== 'unknown' && this.isExisting(t))) this.created.push(t);
    return { hits: [] };
  }

  private rename(r: RenameStmt): StatementVerdict {
    const t = tableOf(r.relation);
    if (!t || !r.newname) return { hits: [] };
    if (!this.isExisting(t)) {
      if (r.renameType === 'OBJECT_TABLE') this.created.push({ schema: t.schema, name: r.newname });
      return { hits: [] };
    }
    // (relationType is unset, so reads as OBJECT_ACCESS_METHOD, when a table itself is renamed)
    const message =
      r.renameType === 'OBJECT_TABLE' ? `renames table ${show(t)} to "${r.newname}" (old replicas still using ${show(t)} fail)`
      : r.renameType === 'OBJECT_COLUMN' && r.relationType === 'OBJECT_TABLE' ? `renames column "${r.subname}" of ${show(t)} to "${r.newname}" (old replicas still using "${r.subname}" fail)`
      : undefined;
    return message ? { hits: [ruleHit('rename', message)], locks: `ALTER TABLE on ${show(t)}` } : { hits: [] };
  }

  private createIndex(ix: IndexStmt): StatementVerdict {
    const t = tableOf(ix.relation);
    if (ix.idxname) this.createdIndexes.add(ix.idxname);
    // CONCURRENTLY takes a lock that lets reads and writes go on, so it needs no lock_timeout either.
    if (!t || ix.concurrent || !this.isExisting(t)) return { hits: [] };
    const what = ix.idxname ? `index "${ix.idxname}"` : 'an index';
    return {
      hits: [ruleHit('index-not-concurrently', `creates ${what} on existing table ${show(t)} without CONCURRENTLY (writes to ${show(t)} are blocked while it builds)`)],
      locks: `CREATE INDEX on ${show(t)}`,
    };
  }

  private drop(type: string | undefined, objects: Node[], concurrent: boolean): StatementVerdict {
    const names = objects.flatMap((o) => tableOfNames(o) ?? []);
    if (type === 'OBJECT_INDEX') {
      // DROP INDEX locks the index's table like ALTER TABLE does; which table that is, the SQL doesn't say.
      const old = names.filter((n) => !this.createdIndexes.has(n.name));
      return concurrent || old.length === 0 ? { hits: [] } : { hits: [], locks: `DROP INDEX ${old.map(show).join(', ')}` };
    }
    if (type !== 'OBJECT_TABLE') return { hits: [] };
    const old = names.filter((n) => this.isExisting(n));
    if (old.length === 0) return { hits: [] };
    const list = old.map(show).join(', ');
    const what = old.length === 1 ? `table ${list}` : `tables ${list}`;
    return { hits: [ruleHit('drop-table', `drops ${what} (its data is lost, and old replicas still using it fail)`)], locks: `DROP TABLE ${list}` };
  }

  private alterCommand(t: TableName, c: AlterTableCmd): RuleHit[] {
    const col = c.name;
    const def = c.def;
    switch (c.subtype) {
      case 'AT_DropColumn':
        return [ruleHit('drop-column', `drops column "${col}" of ${show(t)} (data is lost, and old replicas still reading it fail)`)];
      case 'AT_AlterColumnType':
        return [ruleHit('type-change', `changes the type of column "${col}" of ${show(t)} (most type changes rewrite the table under an exclusive lock, and old replicas may not handle the new type)`)];
      case 'AT_SetNotNull': {
        const proven = this.notNullChecks.some((k) => k.valid && k.column === col && sameTable(k.table, t));
        return proven ? [] : [ruleHit('not-null-without-default', `sets column "${col}" of existing table ${show(t)} NOT NULL, which scans every row under an exclusive lock`, SAFE_SET_NOT_NULL)];
      }
      case 'AT_AddColumn': {
        const cd = def && 'ColumnDef' in def ? def.ColumnDef : undefined;
        return cd ? this.addColumn(t, cd) : [];
      }
      case 'AT_AddConstraint': {
        const con = def && 'Constraint' in def ? def.Constraint : undefined;
        return con ? this.addConstraint(t, con) : [];
      }
      case 'AT_ValidateConstraint':
        for (const k of this.notNullChecks) if (k.conname === col && sameTable(k.table, t)) k.valid = true;
        return [];
      default:
        return [];
    }
  }

  private addColumn(t: TableName, cd: ColumnDef): RuleHit[] {
    const types = constraintsOf(cd).map((c) => c.contype);
    const notNull = types.includes('CONSTR_NOTNULL') || types.includes('CONSTR_PRIMARY');
    // An identity or generated column fills itself, as a DEFAULT would.
    const filled = types.some((ty) => ty === 'CONSTR_DEFAULT' || ty === 'CONSTR_IDENTITY' || ty === 'CONSTR_GENERATED');
    if (!notNull || filled) return [];
    const col = cd.colname;
    return [ruleHit('not-null-without-default', `adds NOT NULL column "${col}" to existing table ${show(t)} without a DEFAULT (fails once the table has rows, and old replicas' inserts leave it out)`)];
  }

  private addConstraint(t: TableName, con: Constraint): RuleHit[] {
    const column = notNullCheckColumn(con);
    if (column) this.notNullChecks.push({ table: t, conname: con.conname, column, valid: !con.skip_validation });
    if ((con.contype !== 'CONSTR_FOREIGN' && con.contype !== 'CONSTR_CHECK') || con.skip_validation) return [];
    const kind = con.contype === 'CONSTR_FOREIGN' ? 'FOREIGN KEY' : 'CHECK';
    const name = con.conname ? ` "${con.conname}"` : '';
    return [ruleHit('constraint-not-valid', `adds ${kind}${name} to existing table ${show(t)} without NOT VALID (checks every row while holding a lock that blocks writes)`)];
  }
}

/** How a statement changes the session's lock_timeout, if it does. */
export function lockTimeoutEffect(stmt: Node): 'set' | 'set-local' | 'unset' | 'transaction-end' | undefined {
  if ('TransactionStmt' in stmt) {
    const k = stmt.TransactionStmt.kind;
    return k === 'TRANS_STMT_COMMIT' || k === 'TRANS_STMT_ROLLBACK' ? 'transaction-end' : undefined;
  }
  if (!('VariableSetStmt' in stmt)) return undefined;
  const v = stmt.VariableSetStmt;
  if (v.kind === 'VAR_RESET_ALL') return 'unset';
  if (v.name?.toLowerCase() !== 'lock_timeout') return undefined;
  if (v.kind !== 'VAR_SET_VALUE') return 'unset';
  const arg = v.args?.[0];
  const c = arg && 'A_Const' in arg ? arg.A_Const : undefined;
  // 0 (the default) means "wait forever": it does not count as a timeout.
  const value = c ? (c.sval?.sval ?? c.fval?.fval ?? String(c.ival?.ival ?? 0)) : undefined;
  if (value !== undefined && /^\s*0+(\.0*)?\s*[a-z]*\s*$/i.test(value)) return 'unset';
  return v.is_local ? 'set-local' : 'set';
}
