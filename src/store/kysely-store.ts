/**
 * The Store port over Kysely: one query module per role of the port (`*-queries.ts`, each a
 * factory over the Kysely instance returning that role's methods), composed here with the
 * lifecycle (migrate, close). Written against Kysely's query builder (no dialect-specific
 * SQL except the optional insertion-order tie-break passed in by the opener) so a Postgres
 * dialect can reuse it.
 *
 * Every method is one statement or one transaction of its own. A write that carries an outbox
 * event (deployments, job runs, certificates) inserts it inside its own transaction
 * (`insertOutbox` of outbox-queries.ts), and deleting a project or an environment deletes the
 * rows of every role in one transaction (project-queries.ts): no transaction spans two calls.
 *
 * Numbering (release numbers, step and log seq) is `max + 1` inside a transaction that first
 * reads the parent row. On SQLite every transaction begins IMMEDIATE (see sqlite-dialect.ts), so
 * writers are serialized and the max is always the committed one; a Postgres opener must give
 * the same guarantee (see docs/store.md). Leases are one conditional upsert, atomic on both.
 */
import { Migrator, type Kysely, type RawBuilder } from 'kysely';
import type { Logger } from 'pino';
import { SlipwayError } from '../core/errors';
import type { Store, StoreLifecycle } from '../core/ports/store';
import { accessQueries } from './access-queries';
import { accessoryQueries } from './accessory-queries';
import { alertQueries } from './alert-queries';
import { certificateQueries } from './certificate-queries';
import { deploymentQueries } from './deployment-queries';
import { jobRunQueries } from './job-run-queries';
import { migrationProvider } from './migrations';
import { outboxQueries } from './outbox-queries';
import { placementQueries } from './placement-queries';
import { projectQueries } from './project-queries';
import { replicaRestartQueries } from './replica-restart-queries';
import { requestMetricsQueries } from './request-metrics-queries';
import { resourceStatsQueries } from './resource-stats-queries';
import type { Database } from './schema';
import { secretQueries } from './secret-queries';
import { settingsQueries } from './settings-queries';
import { webhookQueries } from './webhook-queries';

export interface KyselyStoreOptions {
  logger?: Logger;
  /**
   * An expression ordering `deployments` rows by insertion, used to break ties between
   * deployments created in the same millisecond (`rowid` on SQLite). Without it ties are
   * broken by id, which is stable but not chronological.
   */
  insertionOrder?: RawBuilder<unknown>;
}

/** The Store over a Kysely instance (the store owns it: `close()` destroys it). */
export function createKyselyStore(db: Kysely<Database>, opts: KyselyStoreOptions = {}): Store {
  return {
    ...lifecycle(db, opts.logger),
    ...projectQueries(db),
    ...deploymentQueries(db, { insertionOrder: opts.insertionOrder }),
    ...placementQueries(db),
    ...alertQueries(db),
    ...replicaRestartQueries(db),
    ...jobRunQueries(db),
    ...secretQueries(db),
    ...accessoryQueries(db),
    ...accessQueries(db),
    ...webhookQueries(db),
    ...certificateQueries(db),
    ...outboxQueries(db),
    ...resourceStatsQueries(db),
    ...requestMetricsQueries(db),
    ...settingsQueries(db),
  };
}

function lifecycle(db: Kysely<Database>, logger: Logger | undefined): StoreLifecycle {
  return {
    async migrate(): Promise<void> {
      const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
      for (const r of results ?? []) {
        if (r.status === 'Success') logger?.info({ migration: r.migrationName }, 'store migration applied');
      }
      if (error !== undefined) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName;
        const reason = error instanceof Error ? error.message : String(error);
        throw new SlipwayError('SLW_INTERNAL', `store migration${failed ? ` ${failed}` : 's'} failed: ${reason}`);
      }
    },

    async close(): Promise<void> {
      await db.destroy();
    },
  };
}
