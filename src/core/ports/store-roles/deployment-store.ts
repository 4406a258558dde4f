/**
 * Store role: releases (and the live one per service and environment), deployments with their
 * steps and log lines, the leases that keep one deployment at a time, and the migration files
 * a release recorded as applied.
 */
import type { ServiceConfig } from '../../config';
import type { Deployment, DeploymentKind, DeploymentLogLine, DeploymentState, DeploymentStep, GitTrigger, LogLevel, PromotionSource, Release, StepStatus } from '../../domain';
import type { NewOutboxEvent } from './outbox-store';

export interface NewRelease {
  serviceId: number;
  environmentId: number;
  imageRef: string;
  imageDigest: string;
  config: ServiceConfig;
  sourceRef: string | null;
  secretsVersion: number | null;
}

export interface NewDeployment {
  id: string;
  serviceId: number;
  environmentId: number;
  kind: DeploymentKind;
  previousReleaseId: number | null;
  /** Set at creation for rollbacks (the release already exists). */
  releaseId: number | null;
  source?: PromotionSource | null;
  /** Default `queued`; `awaiting_approval` with the plan to run once approved. */
  state?: 'queued' | 'awaiting_approval';
  /** What an approved deployment runs (JSON-serializable); stored only while it awaits approval. */
  plan?: unknown;
  triggeredBy?: string | null;
  /** The pushed ref and commit (push webhooks). */
  git?: GitTrigger | null;
  /** Written atomically with the deployment (e.g. approval.needed). */
  event?: NewOutboxEvent;
}

export interface DeploymentPatch {
  /** Written atomically with the patch. */
  event?: NewOutboxEvent;
  state?: DeploymentState;
  previousReleaseId?: number | null;
  releaseId?: number;
  errorCode?: string | null;
  error?: string | null;
  startedAt?: string;
  finishedAt?: string;
}

export interface DeploymentQuery {
  serviceId?: number;
  environmentId?: number;
  states?: DeploymentState[];
  limit?: number;
}

export interface DeploymentStore {
  /** Assigns the next number for the service+environment atomically (v1, v2…). */
  createRelease(release: NewRelease): Promise<Release>;
  getRelease(id: number): Promise<Release | null>;
  getReleaseByNumber(serviceId: number, environmentId: number, number: number): Promise<Release | null>;
  /** Newest first. */
  listReleases(serviceId: number, environmentId: number, limit?: number): Promise<Release[]>;

  /** The release live for the service in the environment (set when a deployment succeeds). */
  getCurrentReleaseId(serviceId: number, environmentId: number): Promise<number | null>;
  /** The live release itself (one read), or null. */
  getCurrentRelease(serviceId: number, environmentId: number): Promise<Release | null>;
  setCurrentReleaseId(serviceId: number, environmentId: number, releaseId: number | null): Promise<void>;
  /** The live release of every service in the environment (one read for a status page). */
  listCurrentReleases(environmentId: number): Promise<Release[]>;

  /** Creates a deployment in state `queued`. */
  createDeployment(d: NewDeployment): Promise<Deployment>;
  getDeployment(id: string): Promise<Deployment | null>;
  updateDeployment(id: string, patch: DeploymentPatch): Promise<Deployment>;
  /** Applies the patch only if the deployment is in state `expected` (else null): approve/cancel races. */
  updateDeploymentIf(id: string, expected: DeploymentState, patch: DeploymentPatch): Promise<Deployment | null>;
  /** The plan stored with a deployment awaiting approval, or null. */
  getDeploymentPlan(id: string): Promise<unknown>;
  /** Newest first. */
  listDeployments(q: DeploymentQuery): Promise<Deployment[]>;
  /** The newest `perService` deployments of each service in the environment, newest first (one read for a status page). */
  listRecentDeployments(environmentId: number, perService: number): Promise<Deployment[]>;

  /** Records a step starting (returns its seq) and later its outcome. */
  startStep(deploymentId: string, name: string, detail?: string): Promise<number>;
  finishStep(deploymentId: string, seq: number, status: Exclude<StepStatus, 'running'>, detail?: string): Promise<void>;
  listSteps(deploymentId: string): Promise<DeploymentStep[]>;

  appendLog(deploymentId: string, level: LogLevel, message: string): Promise<DeploymentLogLine>;
  /** Log lines with seq > afterSeq, oldest first. */
  listLogs(deploymentId: string, afterSeq?: number): Promise<DeploymentLogLine[]>;

  /**
   * Leases: one holder per key until it expires. Acquire succeeds if the key is free,
   * expired, or already held by the same holder (which renews it).
   */
  acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(key: string, holder: string): Promise<void>;
  getLease(key: string): Promise<{ holder: string; expiresAt: string } | null>;

  /** The migration files recorded for a service in an environment (the migration lint skips them), by name. */
  listAppliedMigrations(serviceId: number, environmentId: number): Promise<string[]>;
  /** Adds these names to the recorded ones (names already recorded are kept as they were). */
  recordAppliedMigrations(serviceId: number, environmentId: number, names: string[]): Promise<void>;
}
