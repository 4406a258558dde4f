/**
 * The audit trail: who did what to which target, from where, with what outcome. Written
 * by the API for every mutating or refused call and by the webhook receiver; append-only
 * in the store (no update, no delete; triggers refuse both).
 */
import type { AuditEntry } from '../core/domain';
import type { AuditQuery, Store } from '../core/ports/store';
import type { Logger } from 'pino';

export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** Never throws: a failed audit write is logged loudly, the call it describes already happened. */
  async record(e: Omit<AuditEntry, 'seq' | 'at'>): Promise<void> {
    try {
      await this.store.appendAudit(e);
    } catch (err) {
      this.logger.error({ err: (err as Error).message, action: e.action, actor: e.actor }, 'could not write the audit record');
    }
  }

  list(q: AuditQuery): Promise<AuditEntry[]> {
    return this.store.listAudit(q);
  }
}
