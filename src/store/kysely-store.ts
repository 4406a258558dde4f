/**
 * The Store port over Kysely. Written against Kysely's query builder (no dialect-specific
 * SQL except the optional insertion-order tie-break passed in by the opener) so a Postgres
 * dialect can reuse it.
 *
 * Numbering (release numbers, step and log seq) is `max + 1` inside a transaction that first
 * reads the parent row. On SQLite every transaction begins IMMEDIATE (see sqlite-dialect.ts), so
 * writers are serialized and the max is always the committed one; a Postgres opener must give
 * the same guarantee (see docs/store.md). Leases are one conditional upsert, atomic on both.
 */
import { randomUUID } from 'node:crypto';
import { Migrator, sql, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { StoredFile } from '../core/ports/backup-files';
import type { AccessoryRecord, BackupRecord, BackupVerification, SealedAccessoryCredentials, ApiToken, ApprovalPolicy, AuditEntry, CertificateRecord, EventType, NotificationDelivery, NotificationTarget, OutboxEvent, Scope, User, Webhook, Deployment, DeploymentState, JobRun, JobRunStatus, DeploymentLogLine, DeploymentStep, Environment, LogLevel, Project, PromotionSource, Release, SealedSecrets, Service, StepStatus } from '../core/domain';
import type { AccessoryConfig, ServiceType } from '../core/config';
import { readStoredServiceConfig } from '../core/stored-service-config';
import { SlipwayError } from '../core/errors';
import type { AccessoryWrite, AuditQuery, BackupPatch, BackupQuery, NewBackup, DeploymentPatch, DeploymentQuery, NewDeployment, NewOutboxEvent, NewRelease, NewToken, Store } from '../core/ports/store';
import { migrationProvider } from './migrations';
import type { HostSample, ReplicaSample } from '../core/resource-stats';
import * as stats from './resource-stats-queries';
import type { Database } from './schema';
import type { RequestBucket, RequestBucketQuery } from '../core/request-metrics';
import * as requestMetrics from './request-metrics-queries';

export interface KyselyStoreOptions {
  logger?: Logger;
  /**
   * An expression ordering `deployments` rows by insertion, used to break ties between
   * deployments created in the same millisecond (`rowid` on SQLite). Without it ties are
   * broken by id, which is stable but not chronological.
   */
  insertionOrder?: RawBuilder<unknown>;
}

const now = (): string => new Date().toISOString();
/** Keys per `in (…)` of a batched settings read. */
const SETTINGS_CHUNK = 500;

export class KyselyStore implements Store {
  readonly #db: Kysely<Database>;
  readonly #logger: Logger | undefined;
  readonly #insertionOrder: RawBuilder<unknown> | undefined;

  constructor(db: Kysely<Database>, opts: KyselyStoreOptions = {}) {
    this.#db = db;
    this.#logger = opts.logger;
    this.#insertionOrder = opts.insertionOrder;
  }

  async migrate(): Promise<void> {
    const { error, results } = await new Migrator({ db: this.#db, provider: migrationProvider }).migrateToLatest();
    for (const r of results ?? []) {
      if (r.status === 'Success') this.#logger?.info({ migration: r.migrationName }, 'store migration applied');
    }
    if (error !== undefined) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      const reason = error instanceof Error ? error.message : String(error);
      throw new SlipwayError('SLW_INTERNAL', `store migration${failed ? ` ${failed}` : 's'} failed: ${reason}`);
    }
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  // projects -----------------------------------------------------------------
  async upsertProject(name: string): Promise<Project> {
    return this.#db.transaction().execute(async (trx) => {
      let row = await trx.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
      if (!row) row = await trx.insertInto('projects').values({ name, created_at: now() }).returningAll().executeTakeFirstOrThrow();
      await trx
        .insertInto('environments')
        .values({ project_id: row.id, name: 'production', created_at: now() })
        .onConflict((oc) => oc.columns(['project_id', 'name']).doNothing())
        .execute();
      return toProject(row);
    });
  }

  async getProject(name: string): Promise<Project | null> {
    const row = await this.#db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toProject(row) : null;
  }

  async listProjects(): Promise<Project[]> {
    return (await this.#db.selectFrom('projects').selectAll().orderBy('name').execute()).map(toProject);
  }

  async deleteProject(projectId: number): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const project = await trx.selectFrom('projects').select('name').where('id', '=', projectId).executeTakeFirst();
      if (!project) throw new SlipwayError('SLW_NOT_FOUND', `project ${projectId} does not exist`);
      const name = project.name;
      // Child-first, as in deleteEnvironment: deployments reference releases without cascading.
      const envs = trx.selectFrom('environments').select('id').where('project_id', '=', projectId);
      const deployments = trx.selectFrom('deployments').select('id').where('environment_id', 'in', envs);
      await trx.deleteFrom('deployment_logs').where('deployment_id', 'in', deployments).execute();
      await trx.deleteFrom('deployment_steps').where('deployment_id', 'in', deployments).execute();
      await trx.deleteFrom('deployments').where('environment_id', 'in', envs).execute();
      await trx.deleteFrom('current_releases').where('environment_id', 'in', envs).execute();
      await trx.deleteFrom('releases').where('environment_id', 'in', envs).execute();
      await trx.deleteFrom('secrets').where('environment_id', 'in', envs).execute();
      await trx.deleteFrom('job_runs').where('environment_id', 'in', envs).execute();
      await trx.deleteFrom('backups').where('environment_id', 'in', envs).execute();
      await trx.deleteFrom('applied_migrations').where('environment_id', 'in', envs).execute();
      const accessories = trx.selectFrom('accessories').select('id').where('environment_id', 'in', envs);
      await trx.deleteFrom('accessory_credentials').where('accessory_id', 'in', accessories).execute();
      await trx.deleteFrom('accessories').where('environment_id', 'in', envs).execute();
      await trx.deleteFrom('environments').where('project_id', '=', projectId).execute();
      await trx.deleteFrom('services').where('project_id', '=', projectId).execute();
      await trx.deleteFrom('webhooks').where('project', '=', name).execute();
      await trx.deleteFrom('webhook_deliveries').where('project', '=', name).execute();
      await trx.deleteFrom('webhook_pushes').where('project', '=', name).execute();
      await trx.deleteFrom('request_metrics').where('project', '=', name).execute();
      const series = trx.selectFrom('replica_series').select('id').where('project', '=', name);
      await trx.deleteFrom('replica_stats').where('series_id', 'in', series).execute();
      await trx.deleteFrom('replica_series').where('project', '=', name).execute();
      await trx.deleteFrom('projects').where('id', '=', projectId).execute();
    });
  }

  // environments -------------------------------------------------------------
  async ensureEnvironment(projectId: number, name: string): Promise<Environment> {
    return this.#db.transaction().execute(async (trx) => {
      await requireRow(trx, 'projects', projectId, 'project');
      await trx
        .insertInto('environments')
        .values({ project_id: projectId, name, created_at: now() })
        .onConflict((oc) => oc.columns(['project_id', 'name']).doNothing())
        .execute();
      const row = await trx.selectFrom('environments').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirstOrThrow();
      return toEnvironment(row);
    });
  }

  async getEnvironment(projectId: number, name: string): Promise<Environment | null> {
    const row = await this.#db.selectFrom('environments').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    return row ? toEnvironment(row) : null;
  }

  async listEnvironments(projectId: number): Promise<Environment[]> {
    return (await this.#db.selectFrom('environments').selectAll().where('project_id', '=', projectId).orderBy('name').execute()).map(toEnvironment);
  }

  async setEnvironmentApproval(environmentId: number, approval: ApprovalPolicy): Promise<void> {
    const r = await this.#db.updateTable('environments').set({ approval }).where('id', '=', environmentId).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw notFound('environment', environmentId);
  }

  async deleteEnvironment(environmentId: number): Promise<void> {
    // Explicit, child-first deletes rather than relying on ON DELETE CASCADE: deployments
    // reference releases without cascading, and the order must not depend on the dialect.
    await this.#db.transaction().execute(async (trx) => {
      const deployments = trx.selectFrom('deployments').select('id').where('environment_id', '=', environmentId);
      await trx.deleteFrom('deployment_logs').where('deployment_id', 'in', deployments).execute();
      await trx.deleteFrom('deployment_steps').where('deployment_id', 'in', deployments).execute();
      await trx.deleteFrom('deployments').where('environment_id', '=', environmentId).execute();
      await trx.deleteFrom('current_releases').where('environment_id', '=', environmentId).execute();
      await trx.deleteFrom('releases').where('environment_id', '=', environmentId).execute();
      await trx.deleteFrom('secrets').where('environment_id', '=', environmentId).execute();
      await trx.deleteFrom('job_runs').where('environment_id', '=', environmentId).execute();
      await trx.deleteFrom('backups').where('environment_id', '=', environmentId).execute();
      await trx.deleteFrom('applied_migrations').where('environment_id', '=', environmentId).execute();
      const accessories = trx.selectFrom('accessories').select('id').where('environment_id', '=', environmentId);
      await trx.deleteFrom('accessory_credentials').where('accessory_id', 'in', accessories).execute();
      await trx.deleteFrom('accessories').where('environment_id', '=', environmentId).execute();
      await trx.deleteFrom('environments').where('id', '=', environmentId).execute();
    });
  }

  // services -----------------------------------------------------------------
  async upsertService(projectId: number, name: string, type: ServiceType): Promise<Service> {
    return this.#db.transaction().execute(async (trx) => {
      await requireRow(trx, 'projects', projectId, 'project');
      await trx
        .insertInto('services')
        .values({ project_id: projectId, name, type, created_at: now() })
        .onConflict((oc) => oc.columns(['project_id', 'name']).doUpdateSet({ type }))
        .execute();
      const row = await trx.selectFrom('services').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirstOrThrow();
      return toService(row);
    });
  }

  async getService(projectId: number, name: string): Promise<Service | null> {
    const row = await this.#db.selectFrom('services').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    return row ? toService(row) : null;
  }

  async getServiceById(id: number): Promise<Service | null> {
    const row = await this.#db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toService(row) : null;
  }

  async listServices(projectId: number): Promise<Service[]> {
    return (await this.#db.selectFrom('services').selectAll().where('project_id', '=', projectId).orderBy('name').execute()).map(toService);
  }

  // releases -----------------------------------------------------------------
  async createRelease(r: NewRelease): Promise<Release> {
    return this.#db.transaction().execute(async (trx) => {
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
  }

  async getRelease(id: number): Promise<Release | null> {
    const row = await this.#db.selectFrom('releases').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRelease(row) : null;
  }

  async getReleaseByNumber(serviceId: number, environmentId: number, number: number): Promise<Release | null> {
    const row = await this.#db
      .selectFrom('releases')
      .selectAll()
      .where('service_id', '=', serviceId)
      .where('environment_id', '=', environmentId)
      .where('number', '=', number)
      .executeTakeFirst();
    return row ? toRelease(row) : null;
  }

  async listReleases(serviceId: number, environmentId: number, limit?: number): Promise<Release[]> {
    checkLimit(limit);
    const rows = await this.#db
      .selectFrom('releases')
      .selectAll()
      .where('service_id', '=', serviceId)
      .where('environment_id', '=', environmentId)
      .orderBy('number', 'desc')
      .$if(limit !== undefined, (q) => q.limit(limit!))
      .execute();
    return rows.map(toRelease);
  }

  async getCurrentReleaseId(serviceId: number, environmentId: number): Promise<number | null> {
    const row = await this.#db
      .selectFrom('current_releases')
      .select('release_id')
      .where('service_id', '=', serviceId)
      .where('environment_id', '=', environmentId)
      .executeTakeFirst();
    return row?.release_id ?? null;
  }

  async getCurrentRelease(serviceId: number, environmentId: number): Promise<Release | null> {
    const row = await this.#db
      .selectFrom('current_releases as c')
      .innerJoin('releases as r', 'r.id', 'c.release_id')
      .selectAll('r')
      .where('c.service_id', '=', serviceId)
      .where('c.environment_id', '=', environmentId)
      .executeTakeFirst();
    return row ? toRelease(row) : null;
  }

  async listCurrentReleases(environmentId: number): Promise<Release[]> {
    const rows = await this.#db
      .selectFrom('current_releases as c')
      .innerJoin('releases as r', 'r.id', 'c.release_id')
      .selectAll('r')
      .where('c.environment_id', '=', environmentId)
      .orderBy('r.service_id')
      .execute();
    return rows.map(toRelease);
  }

  async setCurrentReleaseId(serviceId: number, environmentId: number, releaseId: number | null): Promise<void> {
    await this.#db
      .insertInto('current_releases')
      .values({ service_id: serviceId, environment_id: environmentId, release_id: releaseId })
      .onConflict((oc) => oc.columns(['service_id', 'environment_id']).doUpdateSet({ release_id: releaseId }))
      .execute();
  }

  // deployments ----------------------------------------------------------------
  async createDeployment(d: NewDeployment): Promise<Deployment> {
    return this.#db.transaction().execute(async (trx) => {
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
  }

  async getDeployment(id: string): Promise<Deployment | null> {
    const row = await this.#db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toDeployment(row) : null;
  }

  async updateDeploymentIf(id: string, expected: DeploymentState, patch: DeploymentPatch): Promise<Deployment | null> {
    const row = await this.#db.updateTable('deployments').set(deploymentSet(patch)).where('id', '=', id).where('state', '=', expected).returningAll().executeTakeFirst();
    return row ? toDeployment(row) : null;
  }

  async getDeploymentPlan(id: string): Promise<unknown> {
    const row = await this.#db.selectFrom('deployments').select('plan').where('id', '=', id).executeTakeFirst();
    return row?.plan ? (JSON.parse(row.plan) as unknown) : null;
  }

  async updateDeployment(id: string, patch: DeploymentPatch): Promise<Deployment> {
    const { event, ...rest } = patch;
    const set = deploymentSet(rest);
    return this.#db.transaction().execute(async (trx) => {
      const row =
        Object.keys(set).length > 0
          ? await trx.updateTable('deployments').set(set).where('id', '=', id).returningAll().executeTakeFirst()
          : await trx.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('deployment', id);
      if (event) await insertOutbox(trx, event);
      return toDeployment(row);
    });
  }

  async listDeployments(q: DeploymentQuery): Promise<Deployment[]> {
    checkLimit(q.limit);
    const tieBreak = this.#insertionOrder;
    const rows = await this.#db
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
  }

  async listRecentDeployments(environmentId: number, perService: number): Promise<Deployment[]> {
    checkLimit(perService);
    // The same order as listDeployments, ranked within each service.
    const tieBreak = this.#insertionOrder ?? sql.ref('id');
    const ranked = this.#db
      .selectFrom('deployments')
      .selectAll()
      .select(sql<number>`row_number() over (partition by service_id order by created_at desc, ${tieBreak} desc)`.as('rank_in_service'))
      .select(sql<number>`${tieBreak}`.as('tie_break'))
      .where('environment_id', '=', environmentId);
    const rows = await this.#db
      .selectFrom(ranked.as('d'))
      .selectAll()
      .where('rank_in_service', '<=', perService)
      .orderBy('created_at', 'desc')
      .orderBy('tie_break', 'desc')
      .execute();
    return rows.map(toDeployment);
  }

  // steps and logs ------------------------------------------------------------
  async startStep(deploymentId: string, name: string, detail?: string): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
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
  }

  async finishStep(deploymentId: string, seq: number, status: Exclude<StepStatus, 'running'>, detail?: string): Promise<void> {
    const res = await this.#db
      .updateTable('deployment_steps')
      .set({ status, finished_at: now(), ...(detail !== undefined ? { detail } : {}) })
      .where('deployment_id', '=', deploymentId)
      .where('seq', '=', seq)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw notFound('step', `${seq} of deployment ${deploymentId}`);
  }

  async listSteps(deploymentId: string): Promise<DeploymentStep[]> {
    const rows = await this.#db.selectFrom('deployment_steps').selectAll().where('deployment_id', '=', deploymentId).orderBy('seq').execute();
    return rows.map((r) => ({
      deploymentId: r.deployment_id,
      seq: r.seq,
      name: r.name,
      status: r.status,
      detail: r.detail,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    }));
  }

  async appendLog(deploymentId: string, level: LogLevel, message: string): Promise<DeploymentLogLine> {
    return this.#db.transaction().execute(async (trx) => {
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
  }

  async listLogs(deploymentId: string, afterSeq = 0): Promise<DeploymentLogLine[]> {
    const rows = await this.#db
      .selectFrom('deployment_logs')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({ deploymentId: r.deployment_id, seq: r.seq, level: r.level, message: r.message, at: r.at }));
  }

  // leases and settings ---------------------------------------------------------
  async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new SlipwayError('SLW_INTERNAL', `lease ttl must be a positive number of ms (got ${ttlMs})`);
    const t = Date.now();
    const at = new Date(t).toISOString();
    const expiresAt = new Date(t + ttlMs).toISOString();
    // One statement: insert when free; take over when expired or renew when ours; otherwise
    // the conflict's WHERE fails and nothing changes. ISO-8601 UTC strings compare in time order.
    const res = await this.#db
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
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    await this.#db.deleteFrom('leases').where('key', '=', key).where('holder', '=', holder).execute();
  }

  async getLease(key: string): Promise<{ holder: string; expiresAt: string } | null> {
    const row = await this.#db.selectFrom('leases').selectAll().where('key', '=', key).where('expires_at', '>', now()).executeTakeFirst();
    return row ? { holder: row.holder, expiresAt: row.expires_at } : null;
  }

  // secrets -------------------------------------------------------------------
  async getSecrets(environmentId: number, version?: number): Promise<SealedSecrets | null> {
    let q = this.#db.selectFrom('secrets').selectAll().where('environment_id', '=', environmentId);
    q = version === undefined ? q.orderBy('version', 'desc').limit(1) : q.where('version', '=', version);
    const row = await q.executeTakeFirst();
    return row ? toSecrets(row) : null;
  }

  async addSecrets(s: Omit<SealedSecrets, 'createdAt'>): Promise<SealedSecrets> {
    return this.#db.transaction().execute(async (trx) => {
      await requireRow(trx, 'environments', s.environmentId, 'environment');
      const clash = await trx.selectFrom('secrets').select('version').where('environment_id', '=', s.environmentId).where('version', '=', s.version).executeTakeFirst();
      if (clash) throw new SlipwayError('SLW_CONFLICT', `secrets version ${s.version} already exists (changed concurrently); retry`);
      const row = await trx
        .insertInto('secrets')
        .values({ environment_id: s.environmentId, version: s.version, key_id: s.keyId, sealed: s.sealed, names: JSON.stringify(s.names), created_at: now() })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toSecrets(row);
    });
  }

  async listAllSecrets(): Promise<SealedSecrets[]> {
    return (await this.#db.selectFrom('secrets').selectAll().orderBy('environment_id').orderBy('version').execute()).map(toSecrets);
  }

  async resealSecrets(updates: Array<{ environmentId: number; version: number; keyId: string; sealed: string }>): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      for (const u of updates) {
        const r = await trx
          .updateTable('secrets')
          .set({ key_id: u.keyId, sealed: u.sealed })
          .where('environment_id', '=', u.environmentId)
          .where('version', '=', u.version)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw notFound(`secrets version ${u.version} of environment`, u.environmentId);
      }
    });
  }

  // backups -----------------------------------------------------------------------
  async createBackup(b: NewBackup): Promise<BackupRecord> {
    await this.#db.transaction().execute(async (trx) => {
      await requireRow(trx, 'environments', b.environmentId, 'environment');
      await trx
        .insertInto('backups')
        .values({ id: b.id, environment_id: b.environmentId, accessory: b.accessory, type: b.type, trigger: b.trigger, deployment_id: b.deploymentId, triggered_by: b.triggeredBy, state: 'running', started_at: now() })
        .execute();
    });
    return (await this.getBackup(b.id))!;
  }

  async updateBackup(id: string, patch: BackupPatch): Promise<BackupRecord> {
    const set: Partial<Row<'backups'>> = {};
    if (patch.type !== undefined) set.type = patch.type;
    if (patch.state !== undefined) set.state = patch.state;
    if (patch.label !== undefined) set.label = patch.label;
    if (patch.restorePoint !== undefined) set.restore_point = patch.restorePoint;
    if (patch.sizeBytes !== undefined) set.size_bytes = patch.sizeBytes;
    if (patch.storedBytes !== undefined) set.stored_bytes = patch.storedBytes;
    if (patch.walStart !== undefined) set.wal_start = patch.walStart;
    if (patch.walStop !== undefined) set.wal_stop = patch.walStop;
    if (patch.tableCounts !== undefined) set.table_counts = patch.tableCounts === null ? null : JSON.stringify(patch.tableCounts);
    if (patch.error !== undefined) set.error = patch.error;
    if (patch.verification !== undefined) set.verify = patch.verification === null ? null : JSON.stringify(patch.verification);
    if (patch.files !== undefined) set.files = patch.files === null ? null : JSON.stringify(patch.files);
    if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
    if (patch.expiredAt !== undefined) set.expired_at = patch.expiredAt;
    if (Object.keys(set).length > 0) {
      const r = await this.#db.updateTable('backups').set(set).where('id', '=', id).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw notFound('backup', id);
    }
    const row = await this.getBackup(id);
    if (!row) throw notFound('backup', id);
    return row;
  }

  async getBackup(id: string): Promise<BackupRecord | null> {
    const row = await this.#db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toBackup(row) : null;
  }

  async listBackups(q: BackupQuery): Promise<BackupRecord[]> {
    const rows = await this.#db
      .selectFrom('backups')
      .selectAll()
      .$if(q.environmentId !== undefined, (b) => b.where('environment_id', '=', q.environmentId!))
      .$if(q.accessory !== undefined, (b) => b.where('accessory', '=', q.accessory!))
      .$if(q.deploymentId !== undefined, (b) => b.where('deployment_id', '=', q.deploymentId!))
      .$if(q.states !== undefined && q.states.length > 0, (b) => b.where('state', 'in', q.states!))
      .$if(!q.expired, (b) => b.where('expired_at', 'is', null))
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit ?? 100)
      .execute();
    return rows.map(toBackup);
  }

  // applied migrations (the migration lint) ----------------------------------------
  async listAppliedMigrations(serviceId: number, environmentId: number): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('applied_migrations')
      .select('name')
      .where('service_id', '=', serviceId)
      .where('environment_id', '=', environmentId)
      .orderBy('name')
      .execute();
    return rows.map((r) => r.name);
  }

  async recordAppliedMigrations(serviceId: number, environmentId: number, names: string[]): Promise<void> {
    const at = now();
    await this.#db.transaction().execute(async (trx) => {
      await requireRow(trx, 'services', serviceId, 'service');
      await requireRow(trx, 'environments', environmentId, 'environment');
      // In chunks: SQLite bounds the variables of one statement.
      for (let i = 0; i < names.length; i += 200) {
        const values = names.slice(i, i + 200).map((name) => ({ service_id: serviceId, environment_id: environmentId, name, applied_at: at }));
        await trx.insertInto('applied_migrations').values(values).onConflict((oc) => oc.columns(['service_id', 'environment_id', 'name']).doNothing()).execute();
      }
    });
  }

  // accessories -------------------------------------------------------------------
  async listAccessories(environmentId?: number): Promise<AccessoryRecord[]> {
    const rows = await this.#db
      .selectFrom('accessories')
      .selectAll()
      .$if(environmentId !== undefined, (q) => q.where('environment_id', '=', environmentId!))
      .orderBy('environment_id')
      .orderBy('name')
      .execute();
    return rows.map(toAccessory);
  }

  async getAccessory(environmentId: number, name: string): Promise<AccessoryRecord | null> {
    const row = await this.#db.selectFrom('accessories').selectAll().where('environment_id', '=', environmentId).where('name', '=', name).executeTakeFirst();
    return row ? toAccessory(row) : null;
  }

  async saveAccessory(a: AccessoryWrite): Promise<AccessoryRecord> {
    return this.#db.transaction().execute(async (trx) => {
      await requireRow(trx, 'environments', a.environmentId, 'environment');
      const at = now();
      const applied = { kind: a.kind, config: JSON.stringify(a.config), image_digest: a.imageDigest, spec_hash: a.specHash, updated_at: at };
      // The credentials version is not written here: only addAccessoryCredentials moves it.
      await trx
        .insertInto('accessories')
        .values({ environment_id: a.environmentId, name: a.name, ...applied, created_at: at })
        .onConflict((oc) => oc.columns(['environment_id', 'name']).doUpdateSet(applied))
        .execute();
      const row = await trx.selectFrom('accessories').selectAll().where('environment_id', '=', a.environmentId).where('name', '=', a.name).executeTakeFirstOrThrow();
      return toAccessory(row);
    });
  }

  async deleteAccessory(id: number): Promise<void> {
    // Idempotent: a destroy resumed after a crash may find the record already gone.
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('accessory_credentials').where('accessory_id', '=', id).execute();
      await trx.deleteFrom('accessories').where('id', '=', id).execute();
    });
  }

  async addAccessoryCredentials(accessoryId: number, sealed: { keyId: string; sealed: string }): Promise<SealedAccessoryCredentials> {
    return this.#db.transaction().execute(async (trx) => {
      const owner = await trx.selectFrom('accessories').select('id').where('id', '=', accessoryId).executeTakeFirst();
      if (!owner) throw notFound('accessory', accessoryId);
      const { max } = await trx
        .selectFrom('accessory_credentials')
        .select((eb) => eb.fn.max('version').as('max'))
        .where('accessory_id', '=', accessoryId)
        .executeTakeFirstOrThrow();
      const row = await trx
        .insertInto('accessory_credentials')
        .values({ accessory_id: accessoryId, version: Number(max ?? 0) + 1, key_id: sealed.keyId, sealed: sealed.sealed, created_at: now() })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx.updateTable('accessories').set({ credentials_version: row.version }).where('id', '=', accessoryId).execute();
      return toAccessoryCredentials(row);
    });
  }

  async getAccessoryCredentials(accessoryId: number, version?: number): Promise<SealedAccessoryCredentials | null> {
    let wanted = version;
    if (wanted === undefined) {
      const owner = await this.#db.selectFrom('accessories').select('credentials_version').where('id', '=', accessoryId).executeTakeFirst();
      if (!owner || owner.credentials_version === 0) return null;
      wanted = owner.credentials_version;
    }
    const row = await this.#db.selectFrom('accessory_credentials').selectAll().where('accessory_id', '=', accessoryId).where('version', '=', wanted).executeTakeFirst();
    return row ? toAccessoryCredentials(row) : null;
  }

  async listAllAccessoryCredentials(): Promise<SealedAccessoryCredentials[]> {
    return (await this.#db.selectFrom('accessory_credentials').selectAll().orderBy('accessory_id').orderBy('version').execute()).map(toAccessoryCredentials);
  }

  async resealAccessoryCredentials(updates: Array<{ accessoryId: number; version: number; keyId: string; sealed: string }>): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      for (const u of updates) {
        const r = await trx
          .updateTable('accessory_credentials')
          .set({ key_id: u.keyId, sealed: u.sealed })
          .where('accessory_id', '=', u.accessoryId)
          .where('version', '=', u.version)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw notFound(`credentials version ${u.version} of accessory`, u.accessoryId);
      }
    });
  }

  // job runs --------------------------------------------------------------------
  async createJobRun(r: Omit<JobRun, 'id' | 'finishedAt' | 'exitCode' | 'output'> & { output?: string }): Promise<JobRun> {
    const row = await this.#db
      .insertInto('job_runs')
      .values({
        service_id: r.serviceId,
        environment_id: r.environmentId,
        release_id: r.releaseId,
        scheduled_at: r.scheduledAt,
        started_at: r.startedAt,
        finished_at: r.status === 'running' ? null : now(),
        status: r.status,
        exit_code: null,
        note: r.note,
        output: r.output ?? '',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toJobRun(row);
  }

  async finishJobRun(id: number, patch: { status: JobRunStatus; exitCode: number | null; note?: string | null; output: string; event?: NewOutboxEvent }): Promise<JobRun> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('job_runs')
        .set({ status: patch.status, exit_code: patch.exitCode, note: patch.note ?? null, output: patch.output, finished_at: now() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw notFound('job run', id);
      if (patch.event) await insertOutbox(trx, patch.event);
      return toJobRun(row);
    });
  }

  async getJobRun(id: number): Promise<JobRun | null> {
    const row = await this.#db.selectFrom('job_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toJobRun(row) : null;
  }

  async listJobRuns(q: { environmentId: number; serviceId?: number; status?: JobRunStatus; limit?: number }): Promise<JobRun[]> {
    checkLimit(q.limit);
    const rows = await this.#db
      .selectFrom('job_runs')
      .selectAll()
      .where('environment_id', '=', q.environmentId)
      .$if(q.serviceId !== undefined, (qb) => qb.where('service_id', '=', q.serviceId!))
      .$if(q.status !== undefined, (qb) => qb.where('status', '=', q.status!))
      .orderBy('id', 'desc')
      .$if(q.limit !== undefined, (qb) => qb.limit(q.limit!))
      .execute();
    return rows.map(toJobRun);
  }

  // users, tokens, audit -----------------------------------------------------------
  async createUser(u: { name: string; passwordHash: string; scope: Scope }): Promise<User> {
    const row = await this.#db
      .insertInto('users')
      .values({ name: u.name, password_hash: u.passwordHash, scope: u.scope, created_at: now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new SlipwayError('SLW_CONFLICT', `a user named "${u.name}" already exists`);
    return toUser(row);
  }

  async getUserByName(name: string): Promise<(User & { passwordHash: string }) | null> {
    const row = await this.#db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
  }

  async getUserById(id: number): Promise<User | null> {
    const row = await this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async listUsers(): Promise<User[]> {
    return (await this.#db.selectFrom('users').selectAll().orderBy('id').execute()).map(toUser);
  }

  async deleteUser(name: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const user = await trx.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
      if (!user) return false;
      await trx.deleteFrom('api_tokens').where('user_id', '=', user.id).execute();
      await trx.deleteFrom('users').where('id', '=', user.id).execute();
      return true;
    });
  }

  async createToken(t: NewToken): Promise<ApiToken> {
    const row = await this.#db
      .insertInto('api_tokens')
      .values({
        id: t.id,
        name: t.name,
        token_hash: t.tokenHash,
        scope: t.scope,
        project: t.project,
        user_id: t.userId,
        created_by: t.createdBy,
        parent_token_id: t.parentTokenId,
        created_at: now(),
        expires_at: t.expiresAt,
        last_used_at: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toToken(row);
  }

  async getTokenByHash(tokenHash: string): Promise<ApiToken | null> {
    const row = await this.#db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row ? toToken(row) : null;
  }

  async listTokens(): Promise<ApiToken[]> {
    return (await this.#db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute()).map(toToken);
  }

  async revokeToken(id: string): Promise<boolean> {
    const r = await this.#db.updateTable('api_tokens').set({ revoked_at: now() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async touchToken(id: string, at: string): Promise<void> {
    await this.#db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async appendAudit(e: Omit<AuditEntry, 'seq' | 'at' | 'count'> & { count?: number }): Promise<AuditEntry> {
    const row = await this.#db
      .insertInto('audit_log')
      .values({ at: now(), actor: e.actor, action: e.action, project: e.project, target: e.target, client_ip: e.clientIp, outcome: e.outcome, status: e.status, detail: e.detail, count: e.count ?? 1 })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toAudit(row);
  }

  async listAudit(q: AuditQuery): Promise<AuditEntry[]> {
    checkLimit(q.limit);
    const rows = await this.#db
      .selectFrom('audit_log')
      .selectAll()
      .$if(q.project !== undefined, (qb) => qb.where('project', '=', q.project!))
      .$if(q.since !== undefined, (qb) => qb.where('at', '>=', q.since!))
      .orderBy('seq', 'desc')
      .$if(q.limit !== undefined, (qb) => qb.limit(q.limit!))
      .execute();
    return rows.map(toAudit);
  }

  // webhooks ----------------------------------------------------------------------
  async putWebhook(w: Omit<Webhook, 'createdAt'>): Promise<Webhook> {
    const values = { project: w.project, repository: w.repository, path: w.path, key_id: w.keyId, sealed: w.sealed, created_by: w.createdBy, created_at: now() };
    const row = await this.#db
      .insertInto('webhooks')
      .values(values)
      .onConflict((oc) => oc.column('project').doUpdateSet({ repository: values.repository, path: values.path, key_id: values.key_id, sealed: values.sealed, created_by: values.created_by, created_at: values.created_at }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toWebhook(row);
  }

  async getWebhook(project: string): Promise<Webhook | null> {
    const row = await this.#db.selectFrom('webhooks').selectAll().where('project', '=', project).executeTakeFirst();
    return row ? toWebhook(row) : null;
  }

  async listWebhooks(): Promise<Webhook[]> {
    return (await this.#db.selectFrom('webhooks').selectAll().orderBy('project').execute()).map(toWebhook);
  }

  async deleteWebhook(project: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('webhooks').where('project', '=', project).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async resealWebhooks(updates: Array<{ project: string; keyId: string; sealed: string }>): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      for (const u of updates) await trx.updateTable('webhooks').set({ key_id: u.keyId, sealed: u.sealed }).where('project', '=', u.project).execute();
    });
  }

  // certificates --------------------------------------------------------------------
  async putCertificate(c: Omit<CertificateRecord, 'createdAt' | 'updatedAt'>, event?: NewOutboxEvent): Promise<CertificateRecord> {
    const at = now();
    const values = {
      domain: c.domain,
      source: c.source,
      status: c.status,
      cert_pem: c.certPem,
      key_id: c.keyId,
      sealed_key: c.sealedKey,
      domains: JSON.stringify(c.domains),
      not_before: c.notBefore,
      not_after: c.notAfter,
      issuer: c.issuer,
      fingerprint256: c.fingerprint256,
      renew_at: c.renewAt,
      issued_at: c.issuedAt,
      last_error: c.lastError,
      failures: c.failures,
      next_attempt_at: c.nextAttemptAt,
      updated_at: at,
    };
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('certificates')
        .values({ ...values, created_at: at })
        .onConflict((oc) => oc.column('domain').doUpdateSet(values))
        .returningAll()
        .executeTakeFirstOrThrow();
      if (event) await insertOutbox(trx, event);
      return toCertificate(row);
    });
  }

  async getCertificate(domain: string): Promise<CertificateRecord | null> {
    const row = await this.#db.selectFrom('certificates').selectAll().where('domain', '=', domain).executeTakeFirst();
    return row ? toCertificate(row) : null;
  }

  async listCertificates(): Promise<CertificateRecord[]> {
    return (await this.#db.selectFrom('certificates').selectAll().orderBy('domain').execute()).map(toCertificate);
  }

  async deleteCertificate(domain: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('certificates').where('domain', '=', domain).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async resealCertificates(updates: Array<{ domain: string; keyId: string; sealedKey: string }>): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      for (const u of updates) await trx.updateTable('certificates').set({ key_id: u.keyId, sealed_key: u.sealedKey }).where('domain', '=', u.domain).execute();
    });
  }

  async recordDelivery(project: string, deliveryId: string): Promise<boolean> {
    const r = await this.#db
      .insertInto('webhook_deliveries')
      .values({ project, delivery_id: deliveryId, received_at: now() })
      .onConflict((oc) => oc.columns(['project', 'delivery_id']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async recordWebhookPush(p: { project: string; ref: string; commit: string; bodySha256: string; deliveryId: string }): Promise<boolean> {
    const r = await this.#db
      .insertInto('webhook_pushes')
      .values({ project: p.project, ref: p.ref, commit_sha: p.commit, body_sha256: p.bodySha256, delivery_id: p.deliveryId, received_at: now() })
      .onConflict((oc) => oc.columns(['project', 'ref', 'commit_sha', 'body_sha256']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async pruneWebhookDeliveries(before: string): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      const a = await trx.deleteFrom('webhook_deliveries').where('received_at', '<', before).executeTakeFirst();
      const b = await trx.deleteFrom('webhook_pushes').where('received_at', '<', before).executeTakeFirst();
      return Number(a.numDeletedRows) + Number(b.numDeletedRows);
    });
  }

  // outbox and notifications ---------------------------------------------------------
  async appendOutboxEvent(e: NewOutboxEvent): Promise<void> {
    await this.#db.transaction().execute((trx) => insertOutbox(trx, e));
  }

  async listOutbox(afterSeq: number, limit: number): Promise<OutboxEvent[]> {
    const rows = await this.#db.selectFrom('outbox').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
    return rows.map(toOutbox);
  }

  async getOutboxEvent(eventId: string): Promise<OutboxEvent | null> {
    const row = await this.#db.selectFrom('outbox').selectAll().where('event_id', '=', eventId).executeTakeFirst();
    return row ? toOutbox(row) : null;
  }

  async createNotificationTarget(t: Omit<NotificationTarget, 'createdAt'>): Promise<NotificationTarget> {
    const row = await this.#db
      .insertInto('notification_targets')
      .values({ id: t.id, kind: t.kind, url: t.url, key_id: t.keyId, sealed: t.sealed, project: t.project, events: JSON.stringify(t.events), created_by: t.createdBy, created_at: now() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toTarget(row);
  }

  async listNotificationTargets(): Promise<NotificationTarget[]> {
    return (await this.#db.selectFrom('notification_targets').selectAll().orderBy('created_at').execute()).map(toTarget);
  }

  async deleteNotificationTarget(id: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('notification_targets').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async resealNotificationTarget(id: string, keyId: string, sealed: string): Promise<void> {
    await this.#db.updateTable('notification_targets').set({ key_id: keyId, sealed }).where('id', '=', id).execute();
  }

  async addDeliveries(eventId: string, targetIds: string[], at: string): Promise<void> {
    if (targetIds.length === 0) return;
    await this.#db
      .insertInto('notification_deliveries')
      .values(targetIds.map((targetId) => ({ event_id: eventId, target_id: targetId, status: 'pending' as const, attempts: 0, next_attempt_at: at, last_error: null, delivered_at: null })))
      .onConflict((oc) => oc.columns(['event_id', 'target_id']).doNothing())
      .execute();
  }

  async dueDeliveries(at: string, limit: number): Promise<NotificationDelivery[]> {
    const rows = await this.#db
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', at)
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async outboxBacklog(afterSeq: number): Promise<{ events: number; pendingDeliveries: number }> {
    const events = await this.#db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('seq', '>', afterSeq).executeTakeFirstOrThrow();
    const pending = await this.#db.selectFrom('notification_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
    return { events: Number(events.n), pendingDeliveries: Number(pending.n) };
  }

  async updateDelivery(eventId: string, targetId: string, patch: Partial<Omit<NotificationDelivery, 'eventId' | 'targetId'>>): Promise<void> {
    const set: Record<string, unknown> = {};
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.attempts !== undefined) set.attempts = patch.attempts;
    if (patch.nextAttemptAt !== undefined) set.next_attempt_at = patch.nextAttemptAt;
    if (patch.lastError !== undefined) set.last_error = patch.lastError;
    if (patch.deliveredAt !== undefined) set.delivered_at = patch.deliveredAt;
    await this.#db.updateTable('notification_deliveries').set(set).where('event_id', '=', eventId).where('target_id', '=', targetId).execute();
  }

  async listDeliveries(limit: number): Promise<Array<NotificationDelivery & { type: EventType; project: string | null }>> {
    const rows = await this.#db
      .selectFrom('notification_deliveries')
      .innerJoin('outbox', 'outbox.event_id', 'notification_deliveries.event_id')
      .selectAll('notification_deliveries')
      .select(['outbox.type', 'outbox.project'])
      .orderBy('outbox.seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...toDelivery(r), type: r.type as EventType, project: r.project }));
  }

  // settings --------------------------------------------------------------------
  // resource stats (0009) --------------------------------------------------------
  addResourceSamples(replicas: ReplicaSample[], hosts: HostSample[]): Promise<void> {
    return stats.addResourceSamples(this.#db, replicas, hosts);
  }

  latestReplicaSamples(replicas: string[]): Promise<ReplicaSample[]> {
    return stats.latestReplicaSamples(this.#db, replicas);
  }

  latestHostSample(server: string): Promise<HostSample | null> {
    return stats.latestHostSample(this.#db, server);
  }

  listReplicaSamples(q: { project: string; service: string; env: string; since: number }): Promise<ReplicaSample[]> {
    return stats.listReplicaSamples(this.#db, q);
  }

  listHostSamples(server: string, since: number): Promise<HostSample[]> {
    return stats.listHostSamples(this.#db, server, since);
  }

  compactResourceSamples(c: { rollupBefore: number; deleteBefore: number }): Promise<{ averaged: number; deleted: number }> {
    return stats.compactResourceSamples(this.#db, c);
  }

  // request metrics (0008) -------------------------------------------------------
  mergeRequestBuckets(buckets: RequestBucket[]): Promise<void> {
    return requestMetrics.mergeRequestBuckets(this.#db, buckets);
  }

  listRequestBuckets(q: RequestBucketQuery): Promise<RequestBucket[]> {
    return requestMetrics.listRequestBuckets(this.#db, q);
  }

  pruneRequestBuckets(before: number): Promise<number> {
    return requestMetrics.pruneRequestBuckets(this.#db, before);
  }

  async getSetting(key: string): Promise<string | null> {
    return (await this.#db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value ?? null;
  }

  async getSettings(keys: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    // Chunks keep each statement well under SQLite's bound-parameter limit.
    for (let i = 0; i < keys.length; i += SETTINGS_CHUNK) {
      const rows = await this.#db.selectFrom('settings').select(['key', 'value']).where('key', 'in', keys.slice(i, i + SETTINGS_CHUNK)).execute();
      for (const r of rows) found.set(r.key, r.value);
    }
    return found;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.#db.insertInto('settings').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }
}

// helpers ------------------------------------------------------------------------

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

function notFound(what: string, id: string | number): SlipwayError {
  return new SlipwayError('SLW_NOT_FOUND', `${what} ${id} does not exist`);
}

/** Reads the parent row inside the transaction; a missing parent is SLW_NOT_FOUND rather than a foreign-key error. */
async function requireRow(
  trx: Transaction<Database>,
  table: 'projects' | 'services' | 'environments' | 'deployments',
  id: number | string,
  what: string,
): Promise<void> {
  const row =
    table === 'deployments'
      ? await trx.selectFrom('deployments').select('id').where('id', '=', String(id)).executeTakeFirst()
      : await trx.selectFrom(table).select('id').where('id', '=', Number(id)).executeTakeFirst();
  if (!row) throw notFound(what, id);
}

function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new SlipwayError('SLW_BAD_REQUEST', `limit must be a whole number >= 0 (got ${limit})`);
  }
}

type Row<T extends keyof Database> = Selectable<Database[T]>;

const toProject = (r: Row<'projects'>): Project => ({ id: r.id, name: r.name, createdAt: r.created_at });
const toEnvironment = (r: Row<'environments'>): Environment => ({ id: r.id, projectId: r.project_id, name: r.name, approval: r.approval, createdAt: r.created_at });
const toService = (r: Row<'services'>): Service => ({ id: r.id, projectId: r.project_id, name: r.name, type: r.type, createdAt: r.created_at });
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
const toJobRun = (r: Row<'job_runs'>): JobRun => ({
  id: r.id,
  serviceId: r.service_id,
  environmentId: r.environment_id,
  releaseId: r.release_id,
  scheduledAt: r.scheduled_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  status: r.status,
  exitCode: r.exit_code,
  note: r.note,
  output: r.output,
});
const toSecrets = (r: Row<'secrets'>): SealedSecrets => ({
  environmentId: r.environment_id,
  version: r.version,
  keyId: r.key_id,
  sealed: r.sealed,
  names: JSON.parse(r.names) as SealedSecrets['names'],
  createdAt: r.created_at,
});
const toAccessory = (r: Row<'accessories'>): AccessoryRecord => ({
  id: r.id,
  environmentId: r.environment_id,
  name: r.name,
  kind: r.kind,
  config: JSON.parse(r.config) as AccessoryConfig,
  imageDigest: r.image_digest,
  specHash: r.spec_hash,
  credentialsVersion: r.credentials_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toBackup = (r: Row<'backups'>): BackupRecord => ({
  id: r.id,
  environmentId: r.environment_id,
  accessory: r.accessory,
  type: r.type,
  trigger: r.trigger,
  deploymentId: r.deployment_id,
  triggeredBy: r.triggered_by,
  state: r.state,
  label: r.label,
  restorePoint: r.restore_point,
  sizeBytes: r.size_bytes,
  storedBytes: r.stored_bytes,
  walStart: r.wal_start,
  walStop: r.wal_stop,
  tableCounts: r.table_counts === null ? null : (JSON.parse(r.table_counts) as Record<string, number>),
  error: r.error,
  verification: r.verify === null ? null : (JSON.parse(r.verify) as BackupVerification),
  files: r.files === null ? null : (JSON.parse(r.files) as StoredFile[]),
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  expiredAt: r.expired_at,
});
const toAccessoryCredentials = (r: Row<'accessory_credentials'>): SealedAccessoryCredentials => ({
  accessoryId: r.accessory_id,
  version: r.version,
  keyId: r.key_id,
  sealed: r.sealed,
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
  errorCode: r.error_code,
  error: r.error,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});
const toUser = (r: Row<'users'>): User => ({ id: r.id, name: r.name, scope: r.scope, createdAt: r.created_at });
const toToken = (r: Row<'api_tokens'>): ApiToken => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  project: r.project,
  userId: r.user_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
  parentTokenId: r.parent_token_id,
});
const toAudit = (r: Row<'audit_log'>): AuditEntry => ({
  seq: r.seq,
  at: r.at,
  actor: r.actor,
  action: r.action,
  project: r.project,
  target: r.target,
  clientIp: r.client_ip,
  outcome: r.outcome,
  status: r.status,
  detail: r.detail,
  count: r.count,
});
const toWebhook = (r: Row<'webhooks'>): Webhook => ({
  project: r.project,
  repository: r.repository,
  path: r.path,
  keyId: r.key_id,
  sealed: r.sealed,
  createdBy: r.created_by,
  createdAt: r.created_at,
});
const toCertificate = (r: Row<'certificates'>): CertificateRecord => ({
  domain: r.domain,
  source: r.source,
  status: r.status,
  certPem: r.cert_pem,
  keyId: r.key_id,
  sealedKey: r.sealed_key,
  domains: JSON.parse(r.domains) as string[],
  notBefore: r.not_before,
  notAfter: r.not_after,
  issuer: r.issuer,
  fingerprint256: r.fingerprint256,
  renewAt: r.renew_at,
  issuedAt: r.issued_at,
  lastError: r.last_error,
  failures: r.failures,
  nextAttemptAt: r.next_attempt_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
async function insertOutbox(trx: Transaction<Database>, e: NewOutboxEvent): Promise<void> {
  await trx.insertInto('outbox').values({ event_id: randomUUID(), type: e.type, project: e.project, payload: JSON.stringify(e.payload), created_at: now() }).execute();
}
const toOutbox = (r: Row<'outbox'>): OutboxEvent => ({
  seq: r.seq,
  eventId: r.event_id,
  type: r.type as EventType,
  project: r.project,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  createdAt: r.created_at,
});
const toTarget = (r: Row<'notification_targets'>): NotificationTarget => ({
  id: r.id,
  kind: r.kind,
  url: r.url,
  keyId: r.key_id,
  sealed: r.sealed,
  project: r.project,
  events: JSON.parse(r.events) as EventType[],
  createdBy: r.created_by,
  createdAt: r.created_at,
});
const toDelivery = (r: Row<'notification_deliveries'>): NotificationDelivery => ({
  eventId: r.event_id,
  targetId: r.target_id,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  deliveredAt: r.delivered_at,
});
