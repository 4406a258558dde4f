/**
 * The audit trail: who did what to which target, from where, with what outcome. Written
 * by the API for every mutating or refused call and by the webhook receiver; append-only
 * in the store (no update, no delete; triggers refuse both).
 *
 * Refusals repeat (a scanner, a broken CI job, a flood without a token), so they are
 * aggregated: the first refusal of a kind (same client IP, action, actor and status) in a
 * minute is written at once; the repeats in that minute become one more entry with their
 * `count`, written when the minute ends, before a read of the log, or at shutdown. A flood
 * therefore adds at most a few rows per IP, route and minute, and the counts add up.
 */
import type { AuditEntry } from '../core/domain';
import type { AuditQuery, Store } from '../core/ports/store';
import type { Logger } from 'pino';

type NewEntry = Omit<AuditEntry, 'seq' | 'at' | 'count'>;

/** Repeats of one refusal within the current minute, not yet written. */
interface Repeats {
  minute: number;
  first: NewEntry;
  count: number;
  /** null once the repeats differ in it (the entry then names none). */
  target: string | null;
  project: string | null;
  detail: string | null;
}

const MINUTE_MS = 60_000;
/** Distinct refusals kept in memory at most; beyond it they are written early. */
const MAX_KINDS = 10_000;

export class AuditLog {
  private readonly repeats = new Map<string, Repeats>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Never throws: a failed audit write is logged loudly, the call it describes already happened. */
  async record(e: NewEntry): Promise<void> {
    if (e.outcome !== 'denied') return this.write(e, 1);
    const minute = Math.floor(this.now() / MINUTE_MS);
    const key = `${minute}\u0000${e.clientIp}\u0000${e.action}\u0000${e.actor}\u0000${e.status}`;
    const seen = this.repeats.get(key);
    if (!seen) {
      this.repeats.set(key, { minute, first: e, count: 0, target: e.target, project: e.project, detail: e.detail });
      this.arm();
      if (this.repeats.size > MAX_KINDS) await this.flush(true);
      return this.write(e, 1);
    }
    seen.count++;
    if (seen.target !== e.target) seen.target = null;
    if (seen.project !== e.project) seen.project = null;
    if (seen.detail !== e.detail) seen.detail = null;
  }

  /**
   * Writes the repeats counted so far as one entry per kind, with their count. A kind whose
   * minute ended (or every kind, with `drop`) is forgotten; one of the current minute keeps
   * aggregating, so its next repeats are counted from zero into another entry.
   */
  async flush(drop = false): Promise<void> {
    const current = Math.floor(this.now() / MINUTE_MS);
    const due: Array<{ entry: NewEntry; count: number }> = [];
    for (const [key, r] of this.repeats) {
      if (r.count > 0) {
        due.push({ entry: { ...r.first, target: r.target, project: r.project, detail: r.detail }, count: r.count });
        Object.assign(r, { count: 0, target: r.first.target, project: r.first.project, detail: r.first.detail });
      }
      if (drop || r.minute < current) this.repeats.delete(key);
    }
    for (const d of due) await this.write(d.entry, d.count);
  }

  /** Writes what is pending; call at shutdown. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush(true);
  }

  /** Entries newest first; repeats counted so far are written first, so counts are up to date. */
  async list(q: AuditQuery): Promise<AuditEntry[]> {
    await this.flush();
    return this.store.listAudit(q);
  }

  private arm(): void {
    if (this.timer) return;
    const wait = MINUTE_MS - (this.now() % MINUTE_MS) + 50;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().then(() => {
        if (this.repeats.size > 0) this.arm();
      });
    }, wait);
    this.timer.unref();
  }

  private async write(e: NewEntry, count: number): Promise<void> {
    try {
      await this.store.appendAudit({ ...e, count });
    } catch (err) {
      this.logger.error({ err: (err as Error).message, action: e.action, actor: e.actor, count }, 'could not write the audit record');
    }
  }
}
