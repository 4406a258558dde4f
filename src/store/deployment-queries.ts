/**
 * The deployments role of the Store port (releases and the live one, deployments with their
 * steps and log lines, leases, applied migrations) over Kysely.
 *
 * Numbering (release numbers, step and log seq) is `max + 1` inside a transaction that first
 * reads the parent row (see kysely-store.ts). A deployment's outbox event is inserted in the
 * deployment's own transaction (`insertOutbox`).
 */
import { sql, type RawBuilder } from 'kysely';
import type { Deployment, DeploymentLogLine, DeploymentState, DeploymentStep, LogLevel, PromotionSource, Release, StepStatus } from '../core/domain';
import { readStoredServiceConfig } from '../core/stored-service-config';
import { SlipwayError } from '../core/errors';
import type { DeploymentPatch, DeploymentQuery, DeploymentStore, NewDeployment, NewRelease } from '../core/ports/store';
import { insertOutbox } from './outbox-queries';
import { checkLimit, type Db, notFound, now, requireRow, type Row } from './query-support';
import type { Database } from './schema';

export interface DeploymentQueriesOptions {
  /** Breaks ties between deployments created in the same millisecond (see KyselyStoreOptions). */
  insertionOrder?: RawBuilder<unknown>;
}

export function deploymentQueries(db: Db, opts: DeploymentQueriesOptions = {}): DeploymentStore {
  return {
    async createRelease(r: NewRelease): Promise<Release> {
      return db.transaction().execute(async (trx) => {
        await requireRow(trx, 'services', r.serviceId, 'service');
        await requireRow(trx, 'environments', r.environmentId, 'environment');
        const { max } = await trx
          .selectFrom('releases')
          .select((eb) => eb.fn.max('number').as('max'))
          .where('service_id', '=', r.serviceId)
          .where('environment_id', '=', r.environmentId)
          .executeTakeFirstOrThrow();
        const row = await trx
          .insertInto('releases')
          .values({
            service_id: r.serviceId,
            environment_id: r.environmentId,
            number: Number(max ?? 0) + 1,
            image_ref: r.imageRef,
            image_digest: r.imageDigest,
            config: JSON.stringify(r.config),
            source_ref: r.sourceRef,
            secrets_version: r.secretsVersion,
            created_at: now(),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toRelease(row);
      });
    },

    async getRelease(id: number): Promise<Release | null> {
      const row = await db.selectFrom('releases').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toRelease(row) : null;
    },

    async getReleaseByNumber(serviceId: number, environmentId: number, number: number): Promise<Release | null> {
      const row = await db
        .selectFrom('releases')
        .selectAll()
        .where('service_id', '=', serviceId)
        .where('environment_id', '=', environmentId)
        .where('number', '=', number)
        .executeTakeFirst();
      return row ? toRelease(row) : null;
    },

    async listReleases(serviceId: number, environmentId: number, limit?: number): Promise<Release[]> {
      checkLimit(limit);
      const rows = await db
        .selectFrom('releases')
        .selectAll()
        .where('service_id', '=', serviceId)
        .where('environment_id', '=', environmentId)
        .orderBy('number', 'desc')
        .$if(limit !== undefined, (q) => q.limit(limit!))
        .execute();
      return rows.map(toRelease);
    },

    async getCurrentReleaseId(serviceId: number, environmentId: number): Promise<number | null> {
      const row = await db
        .selectFrom('current_releases')
        .select('release_id')
        .where('service_id', '=', serviceId)
        .where('environment_id', '=', environmentId)
        .executeTakeFirst();
      return row?.release_id ?? null;
    },

    async getCurrentRelease(serviceId: number, environmentId: number): Promise<Release | null> {
      const row = await db
        .selectFrom('current_releases as c')
        .innerJoin('releases as r', 'r.id', 'c.release_id')
        .selectAll('r')
        .where('c.service_id', '=', serviceId)
        .where('c.environment_id', '=', environmentId)
        .executeTakeFirst();
      return row ? toRelease(row) : null;
    },

    async listCurrentReleases(environmentId: number): Promise<Release[]> {
      const rows = await db
        .selectFrom('current_releases as c')
        .innerJoin('releases as r', 'r.id', 'c.release_id')
        .selectAll('r')
        .where('c.environment_id', '=', environmentId)
        .orderBy('r.service_id')
        .execute();
      return rows.map(toRelease);
    },

    async setCurrentReleaseId(serviceId: number, environmentId: number, releaseId: number | null): Promise<void> {
      await db
        .insertInto('current_releases')
        .values({ service_id: serviceId, environment_id: environmentId, release_id: releaseId })
        .onConflict((oc) => oc.columns(['service_id', 'environment_id']).doUpdateSet({ release_id: releaseId }))
        .execute();
    },

    async createDeployment(d: NewDeployment): Promise<Deployment> {
      return db.transaction().execute(async (trx) => {
        await requireRow(trx, 'services', d.serviceId, 'service');
        await requireRow(trx, 'environments', d.environmentId, 'environment');
        const row = await trx
          .insertInto('deployments')
          .values({
            id: d.id,
            service_id: d.serviceId,
            environment_id: d.environmentId,
            kind: d.kind,
            state: d.state ?? 'queued',
            release_id: d.releaseId,
            previous_release_id: d.previousReleaseId,
            source: d.source ? JSON.stringify(d.source) : null,
            plan: d.plan === undefined ? null : JSON.stringify(d.plan),
            triggered_by: d.triggeredBy ?? null,
            git_ref: d.git?.ref ?? null,
            git_commit: d.git?.commit ?? null,
            error_code: null,
            error: null,
            created_at: now(),
            started_at: null,
            finished_at: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        if (d.event) await insertOutbox(trx, d.event);
        return toDeployment(row);
      });
    },

    async getDeployment(id: string): Promise<Deployment | null> {
      const row = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toDeployment(row) : null;
    },

    async updateDeploymentIf(id: string, expected: DeploymentState, patch: DeploymentPatch): Promise<Deployment | null> {
      const row = await db.updateTable('deployments').set(deploymentSet(patch)).where('id', '=', id).where('state', '=', expected).returningAll().executeTakeFirst();
      return row ? toDeployment(row) : null;
    },

    async getDeploymentPlan(id: string): Promise<unknown> {
      const row = await db.selectFrom('deployments').select('plan').where('id', '=', id).executeTakeFirst();
      return row?.plan ? (JSON.parse(row.plan) as unknown) : null;
    },

    async updateDeployment(id: string, patch: DeploymentPatch): Promise<Deployment> {
      const { event, ...rest } = patch;
      const set = deploymentSet(rest);
      return db.transaction().execute(async (trx) => {
        const row =
          Object.keys(set).length > 0
            ? await trx.updateTable('deployments').set(set).where('id', '=', id).returningAll().executeTakeFirst()
            : await trx.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
        if (!row) throw notFound('deployment', id);
        if (event) await insertOutbox(trx, event);
        return toDeployment(row);
      });
    },

    async listDeployments(q: DeploymentQuery): Promise<Deployment[]> {
      checkLimit(q.limit);
      const tieBreak = opts.insertionOrder;
      const rows = await db
        .selectFrom('deployments')
        .selectAll()
        .$if(q.serviceId !== undefined, (qb) => qb.where('service_id', '=', q.serviceId!))
        .$if(q.environmentId !== undefined, (qb) => qb.where('environment_id', '=', q.environmentId!))
        .$if(q.states !== undefined && q.states.length > 0, (qb) => qb.where('state', 'in', q.states!))
        .orderBy('created_at', 'desc')
        .$if(tieBreak !== undefined, (qb) => qb.orderBy(tieBreak!, 'desc'))
        .$if(tieBreak === undefined, (qb) => qb.orderBy('id', 'desc'))
        .$if(q.limit !== undefined, (qb) => qb.limit(q.limit!))
        .execute();
      return rows.map(toDeployment);
    },

    async listRecentDeployments(environmentId: number, perService: number): Promise<Deployment[]> {
      checkLimit(perService);
      // The same order as listDeployments, ranked within each service.
      const tieBreak = opts.insertionOrder ?? sql.ref('id');
      const ranked = db
        .selectFrom('deployments')
        .selectAll()
        .select(sql<number>`row_number() over (partition by service_id order by created_at desc, ${tieBreak} desc)`.as('rank_in_service'))
        .select(sql<number>`${tieBreak}`.as('tie_break'))
        .where('environment_id', '=', environmentId);
      const rows = await db
        .selectFrom(ranked.as('d'))
        .selectAll()
        .where('rank_in_service', '<=', perService)
        .orderBy('created_at', 'desc')
        .orderBy('tie_break', 'desc')
        .execute();
      return rows.map(toDeployment);
    },

    async startStep(deploymentId: string, name: string, detail?: string): Promise<number> {
      return db.transaction().execute(async (trx) => {
        await requireRow(trx, 'deployments', deploymentId, 'deployment');
        const { max } = await trx
          .selectFrom('deployment_steps')
          .select((eb) => eb.fn.max('seq').as('max'))
          .where('deployment_id', '=', deploymentId)
          .executeTakeFirstOrThrow();
        const seq = Number(max ?? 0) + 1;
        await trx
          .insertInto('deployment_steps')
          .values({ deployment_id: deploymentId, seq, name, status: 'running', detail: detail ?? null, started_at: now(), finished_at: null })
          .execute();
        return seq;
      });
    },

    async finishStep(deploymentId: string, seq: number, status: Exclude<StepStatus, 'running'>, detail?: string): Promise<void> {
      const res = await db
        .updateTable('deployment_steps')
        .set({ status, finished_at: now(), ...(detail !== undefined ? { detail } : {}) })
        .where('deployment_id', '=', deploymentId)
        .where('seq', '=', seq)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw notFound('step', `${seq} of deployment ${deploymentId}`);
    },

    async listSteps(deploymentId: string): Promise<DeploymentStep[]> {
      const rows = await db.selectFrom('deployment_steps').selectAll().where('deployment_id', '=', deploymentId).orderBy('seq').execute();
      return rows.map((r) => ({
        deploymentId: r.deployment_id,
        seq: r.seq,
        name: r.name,
        status: r.status,
        detail: r.detail,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
      }));
    },

    async appendLog(deploymentId: string, level: LogLevel, message: string): Promise<DeploymentLogLine> {
      return db.transaction().execute(async (trx) => {
        await requireRow(trx, 'deployments', deploymentId, 'deployment');
        const { max } = await trx
          .selectFrom('deployment_logs')
          .select((eb) => eb.fn.max('seq').as('max'))
          .where('deployment_id', '=', deploymentId)
          .executeTakeFirstOrThrow();
        const line = { deployment_id: deploymentId, seq: Number(max ?? 0) + 1, level, message, at: now() };
        await trx.insertInto('deployment_logs').values(line).execute();
        return { deploymentId, seq: line.seq, level, message, at: line.at };
      });
    },

    async listLogs(deploymentId: string, afterSeq = 0): Promise<DeploymentLogLine[]> {
      const rows = await db
        .selectFrom('deployment_logs')
        .selectAll()
        .where('deployment_id', '=', deploymentId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .execute();
      return rows.map((r) => ({ deploymentId: r.deployment_id, seq: r.seq, level: r.level, message: r.message, at: r.at }));
    },

    async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new SlipwayError('SLW_INTERNAL', `lease ttl must be a positive number of ms (got ${ttlMs})`);
      const t = Date.now();
      const at = new Date(t).toISOString();
      const expiresAt = new Date(t + ttlMs).toISOString();
      // One statement: insert when free; take over when expired or renew when ours; otherwise
      // the conflict's WHERE fails and nothing changes. ISO-8601 UTC strings compare in time order.
      const res = await db
        .insertInto('leases')
        .values({ key, holder, expires_at: expiresAt })
        .onConflict((oc) =>
          oc
            .column('key')
            .doUpdateSet({ holder, expires_at: expiresAt })
            .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<=', at)])),
        )
        .executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async releaseLease(key: string, holder: string): Promise<void> {
      await db.deleteFrom('leases').where('key', '=', key).where('holder', '=', holder).execute();
    },

    async getLease(key: string): Promise<{ holder: string; expiresAt: string } | null> {
      const row = await db.selectFrom('leases').selectAll().where('key', '=', key).where('expires_at', '>', now()).executeTakeFirst();
      return row ? { holder: row.holder, expiresAt: row.expires_at } : null;
    },

    async listAppliedMigrations(serviceId: number, environmentId: number): Promise<string[]> {
      const rows = await db
        .selectFrom('applied_migrations')
        .select('name')
        .where('service_id', '=', serviceId)
        .where('environment_id', '=', environmentId)
        .orderBy('name')
        .execute();
      return rows.map((r) => r.name);
    },

    async recordAppliedMigrations(serviceId: number, environmentId: number, names: string[]): Promise<void> {
      const at = now();
      await db.transaction().execute(async (trx) => {
        await requireRow(trx, 'services', serviceId, 'service');
        await requireRow(trx, 'environments', environmentId, 'environment');
        // In chunks: SQLite bounds the variables of one statement.
        for (let i = 0; i < names.length; i += 200) {
          const values = names.slice(i, i + 200).map((name) => ({ service_id: serviceId, environment_id: environmentId, name, applied_at: at }));
          await trx.insertInto('applied_migrations').values(values).onConflict((oc) => oc.columns(['service_id', 'environment_id', 'name']).doNothing()).execute();
        }
      });
    },
  };
}

const toRelease = (r: Row<'releases'>): Release => ({
  id: r.id,
  serviceId: r.service_id,
  environmentId: r.environment_id,
  number: r.number,
  imageRef: r.image_ref,
  imageDigest: r.image_digest,
  // Parsed, not cast: older releases lack fields added since (defaults in one place).
  config: readStoredServiceConfig(JSON.parse(r.config), `release ${r.id}`),
  sourceRef: r.source_ref,
  secretsVersion: r.secrets_version,
  createdAt: r.created_at,
});
const toDeployment = (r: Row<'deployments'>): Deployment => ({
  id: r.id,
  serviceId: r.service_id,
  environmentId: r.environment_id,
  kind: r.kind,
  state: r.state,
  releaseId: r.release_id,
  previousReleaseId: r.previous_release_id,
  source: r.source ? (JSON.parse(r.source) as PromotionSource) : null,
  triggeredBy: r.triggered_by,
  git: r.git_ref && r.git_commit ? { ref: r.git_ref, commit: r.git_commit } : null,
  errorCode: r.error_code,
  error: r.error,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});
function deploymentSet(patch: DeploymentPatch): Partial<Database['deployments']> {
  const set: Partial<Database['deployments']> = {};
  if (patch.state !== undefined) set.state = patch.state;
  if (patch.previousReleaseId !== undefined) set.previous_release_id = patch.previousReleaseId;
  if (patch.releaseId !== undefined) set.release_id = patch.releaseId;
  if (patch.errorCode !== undefined) set.error_code = patch.errorCode;
  if (patch.error !== undefined) set.error = patch.error;
  if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
  if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
  // The plan is only needed until the deployment leaves awaiting_approval.
  if (patch.state !== undefined && patch.state !== 'awaiting_approval') set.plan = null;
  return set;
}
