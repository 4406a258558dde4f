/**
 * Reading pgBackRest's answers, without I/O: `info --output=json` (the sets in the repository),
 * `verify` (which reports damage in its console output yet exits 0), and the progress of a
 * backup or restore at `--log-level-console=detail` (a percentage on every file line).
 */

export interface PgBackRestSet {
  label: string;
  type: 'full' | 'diff' | 'incr';
  /** The full (or prior) set it depends on; null for a full one. */
  prior: string | null;
  startedAt: string;
  stoppedAt: string;
  /** The database's size, and what the set stored in the repository. */
  sizeBytes: number;
  storedBytes: number;
  walStart: string | null;
  walStop: string | null;
}

export interface PgBackRestInfo {
  /** Sets oldest first. */
  sets: PgBackRestSet[];
  /** The WAL archive's range (null when nothing was archived). */
  archive: { min: string; max: string } | null;
  /** pgBackRest's status of the stanza (`ok`, or what is wrong). */
  status: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const iso = (epochSeconds: unknown): string => new Date(num(epochSeconds) * 1000).toISOString();

/** The stanza's sets from `pgbackrest info --output=json`; throws on text that is not its JSON. */
export function parsePgBackRestInfo(text: string, stanza: string): PgBackRestInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`pgbackrest info did not print JSON: ${text.slice(0, 200)}`);
  }
  if (!Array.isArray(parsed)) throw new Error('pgbackrest info: expected a list of stanzas');
  const entry = parsed.map(obj).find((s) => s.name === stanza);
  if (!entry) return { sets: [], archive: null, status: `stanza ${stanza} not found` };
  const sets = (Array.isArray(entry.backup) ? entry.backup : []).map(obj).map((b): PgBackRestSet => {
    const info = obj(b.info);
    const archive = obj(b.archive);
    const ts = obj(b.timestamp);
    const type = b.type === 'diff' || b.type === 'incr' ? b.type : 'full';
    return {
      label: str(b.label) ?? '',
      type,
      prior: str(b.prior),
      startedAt: iso(ts.start),
      stoppedAt: iso(ts.stop),
      sizeBytes: num(info.size),
      storedBytes: num(obj(info.repository).delta),
      walStart: str(archive.start),
      walStop: str(archive.stop),
    };
  });
  const archives = (Array.isArray(entry.archive) ? entry.archive : []).map(obj);
  const last = archives[archives.length - 1];
  const min = str(last?.min);
  const max = str(last?.max);
  return { sets, archive: min && max ? { min, max } : null, status: str(obj(entry.status).message) ?? 'unknown' };
}

/**
 * Problems `pgbackrest verify --log-level-console=detail` reported (empty: the checked sets
 * and WAL are intact). It exits 0 either way; damage shows as `status: error` with counts such
 * as `checksum invalid: 1` or `missing: 2` under the set or archive it concerns.
 */
export function verifyProblems(output: string): string[] {
  const lines = output.split('\n').map((l) => l.replace(/^\S+ \S+ P\d+ +\w+: /, '').trim());
  if (!lines.some((l) => /^status: error/.test(l))) return [];
  const problems: string[] = [];
  let subject = '';
  for (const l of lines) {
    const head = /^(backup|archiveId): ([^,]+)(?:, status: (\w+))?/.exec(l);
    if (head) subject = `${head[1] === 'backup' ? 'backup' : 'WAL archive'} ${head[2]}${head[3] && head[3] !== 'valid' ? ` (${head[3]})` : ''}`;
    const bad = /^(checksum invalid|size invalid|missing|other): (\d+)/.exec(l);
    if (bad && Number(bad[2]) > 0) problems.push(`${subject || 'repository'}: ${bad[1]} ${bad[2]} file(s)`);
  }
  return problems.length ? problems : ['pgBackRest verify reported status: error'];
}

/** The percentage a detail line reports (`backup file … (520KB, 31.40%)`, `restore file …`), or null. */
export function progressPercent(line: string): number | null {
  const m = /(?:backup|restore) file .*\(([\d.]+\s*[KMGT]?B), ([\d.]+)%\)/.exec(line);
  return m ? Number(m[2]) : null;
}

/** The label of the set a backup made (`new backup label = 20261207-102339F_20261207-103519D`). */
export function newBackupLabel(output: string): string | null {
  return /new backup label = (\S+)/.exec(output)?.[1] ?? null;
}
