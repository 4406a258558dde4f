/** Store role: projects, their environments and services (the records everything else hangs off). */
import type { ServiceType } from '../../config';
import type { ApprovalPolicy, Environment, Project, Service } from '../../domain';

export interface ProjectStore {
  /** The project, created with its `production` environment if missing (an existing project's environments are left as they are). */
  upsertProject(name: string): Promise<Project>;
  getProject(name: string): Promise<Project | null>;
  listProjects(): Promise<Project[]>;
  /**
   * Deletes the project and everything recorded for it, in one transaction: its environments
   * (releases, deployments, logs, secrets, job runs, accessories and their credentials), services, webhook and its deliveries,
   * request metrics and resource samples. The audit log and the outbox are history: kept.
   */
  deleteProject(projectId: number): Promise<void>;

  /** Creates the environment if missing (`production` is created with each project). */
  ensureEnvironment(projectId: number, name: string): Promise<Environment>;
  getEnvironment(projectId: number, name: string): Promise<Environment | null>;
  listEnvironments(projectId: number): Promise<Environment[]>;
  /** Records the environment's approval policy (slipway.yml's, as a deploy or promotion resolved it). */
  setEnvironmentApproval(environmentId: number, approval: ApprovalPolicy): Promise<void>;
  /** Deletes the environment and everything recorded for it (releases, deployments, logs, secrets, accessories and their credentials). */
  deleteEnvironment(environmentId: number): Promise<void>;

  upsertService(projectId: number, name: string, type: ServiceType): Promise<Service>;
  getService(projectId: number, name: string): Promise<Service | null>;
  getServiceById(id: number): Promise<Service | null>;
  listServices(projectId: number): Promise<Service[]>;
}
