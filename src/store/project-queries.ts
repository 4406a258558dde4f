/**
 * The projects role of the Store port (projects, environments, services) over Kysely. Deleting a
 * project or an environment deletes what every other role recorded for it, child tables first,
 * in one transaction (so those two methods reach into the other roles' tables on purpose).
 */
import type { ApprovalPolicy, Environment, Project, Service } from '../core/domain';
import type { ServiceType } from '../core/config';
import { SlipwayError } from '../core/errors';
import type { ProjectStore } from '../core/ports/store';
import { type Db, notFound, now, requireRow, type Row } from './query-support';

export function projectQueries(db: Db): ProjectStore {
  return {
    async upsertProject(name: string): Promise<Project> {
      return db.transaction().execute(async (trx) => {
        const found = await trx.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
        if (found) return toProject(found); // a production destroyed since stays destroyed
        const row = await trx.insertInto('projects').values({ name, created_at: now() }).returningAll().executeTakeFirstOrThrow();
        await trx.insertInto('environments').values({ project_id: row.id, name: 'production', created_at: now() }).execute();
        return toProject(row);
      });
    },

    async getProject(name: string): Promise<Project | null> {
      const row = await db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
      return row ? toProject(row) : null;
    },

    async listProjects(): Promise<Project[]> {
      return (await db.selectFrom('projects').selectAll().orderBy('name').execute()).map(toProject);
    },

    async deleteProject(projectId: number): Promise<void> {
      await db.transaction().execute(async (trx) => {
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
        await trx.deleteFrom('replica_placements').where('environment_id', 'in', envs).execute();
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
        await trx.deleteFrom('replica_restarts').where('project', '=', name).execute();
        await trx.deleteFrom('alerts').where('project', '=', name).execute();
        await trx.deleteFrom('alert_silences').where('project', '=', name).execute();
        await trx.deleteFrom('projects').where('id', '=', projectId).execute();
      });
    },

    async ensureEnvironment(projectId: number, name: string): Promise<Environment> {
      return db.transaction().execute(async (trx) => {
        await requireRow(trx, 'projects', projectId, 'project');
        await trx
          .insertInto('environments')
          .values({ project_id: projectId, name, created_at: now() })
          .onConflict((oc) => oc.columns(['project_id', 'name']).doNothing())
          .execute();
        const row = await trx.selectFrom('environments').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirstOrThrow();
        return toEnvironment(row);
      });
    },

    async getEnvironment(projectId: number, name: string): Promise<Environment | null> {
      const row = await db.selectFrom('environments').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
      return row ? toEnvironment(row) : null;
    },

    async listEnvironments(projectId: number): Promise<Environment[]> {
      return (await db.selectFrom('environments').selectAll().where('project_id', '=', projectId).orderBy('name').execute()).map(toEnvironment);
    },

    async setEnvironmentApproval(environmentId: number, approval: ApprovalPolicy): Promise<void> {
      const r = await db.updateTable('environments').set({ approval }).where('id', '=', environmentId).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw notFound('environment', environmentId);
    },

    async deleteEnvironment(environmentId: number): Promise<void> {
      // Explicit, child-first deletes rather than relying on ON DELETE CASCADE: deployments
      // reference releases without cascading, and the order must not depend on the dialect.
      await db.transaction().execute(async (trx) => {
        // Restarts are keyed by names (like the other time series): a preview environment made again starts from none.
        const names = await trx.selectFrom('environments').innerJoin('projects', 'projects.id', 'environments.project_id').select(['projects.name as project', 'environments.name as env']).where('environments.id', '=', environmentId).executeTakeFirst();
        if (names) await trx.deleteFrom('replica_restarts').where('project', '=', names.project).where('env', '=', names.env).execute();
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
        await trx.deleteFrom('replica_placements').where('environment_id', '=', environmentId).execute();
        const accessories = trx.selectFrom('accessories').select('id').where('environment_id', '=', environmentId);
        await trx.deleteFrom('accessory_credentials').where('accessory_id', 'in', accessories).execute();
        await trx.deleteFrom('accessories').where('environment_id', '=', environmentId).execute();
        await trx.deleteFrom('environments').where('id', '=', environmentId).execute();
      });
    },

    async upsertService(projectId: number, name: string, type: ServiceType): Promise<Service> {
      return db.transaction().execute(async (trx) => {
        await requireRow(trx, 'projects', projectId, 'project');
        await trx
          .insertInto('services')
          .values({ project_id: projectId, name, type, created_at: now() })
          .onConflict((oc) => oc.columns(['project_id', 'name']).doUpdateSet({ type }))
          .execute();
        const row = await trx.selectFrom('services').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirstOrThrow();
        return toService(row);
      });
    },

    async getService(projectId: number, name: string): Promise<Service | null> {
      const row = await db.selectFrom('services').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
      return row ? toService(row) : null;
    },

    async getServiceById(id: number): Promise<Service | null> {
      const row = await db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toService(row) : null;
    },

    async listServices(projectId: number): Promise<Service[]> {
      return (await db.selectFrom('services').selectAll().where('project_id', '=', projectId).orderBy('name').execute()).map(toService);
    },
  };
}

const toProject = (r: Row<'projects'>): Project => ({ id: r.id, name: r.name, createdAt: r.created_at });
const toEnvironment = (r: Row<'environments'>): Environment => ({ id: r.id, projectId: r.project_id, name: r.name, approval: r.approval, createdAt: r.created_at });
const toService = (r: Row<'services'>): Service => ({ id: r.id, projectId: r.project_id, name: r.name, type: r.type, createdAt: r.created_at });
