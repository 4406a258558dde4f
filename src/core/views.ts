/** Read models the API serves and the client receives. */
import type { Deployment, DeploymentStep } from './domain';
import type { EdgeServerState } from './ports/edge';

export interface ReplicaView {
  name: string;
  release: number;
  state: string;
  address: string | null;
  edge: EdgeServerState | 'absent';
  activeRequests: number;
  startedAt: string | null;
}

export interface ReleaseView {
  number: number;
  imageRef: string;
  imageDigest: string;
  sourceRef: string | null;
  /** The environment's secrets version the release runs with (names and versions only). */
  secretsVersion: number | null;
  createdAt: string;
  current: boolean;
}

export interface ServiceStatusView {
  service: string;
  type: 'web' | 'worker' | 'job';
  env: string;
  currentRelease: ReleaseView | null;
  desiredReplicas: number;
  readyReplicas: number;
  urls: string[];
  replicas: ReplicaView[];
  activeDeployment: { id: string; state: string; kind: string } | null;
  lastDeployment: { id: string; state: string; error: string | null; finishedAt: string | null } | null;
}

export interface ProjectStatusView {
  project: string;
  env: string;
  edge: { running: boolean; httpPort: number; version: string | null };
  services: ServiceStatusView[];
}

export interface DeploymentView extends Deployment {
  project: string;
  service: string;
  env: string;
  releaseNumber: number | null;
  steps: DeploymentStep[];
}


export interface HealthReport {
  ok: boolean;
  version: string;
  checks: Record<string, { ok: boolean; detail: string }>;
}

export interface EnvironmentView {
  name: string;
  createdAt: string;
  services: Array<{ service: string; release: number | null; replicas: number; domains: string[] }>;
}

export interface SecretListView {
  project: string;
  env: string;
  /** The environment's newest secrets version (null: none set yet). */
  version: number | null;
  secrets: Array<{ name: string; version: number; updatedAt: string }>;
}

export interface JobRunView {
  id: number;
  project: string;
  service: string;
  env: string;
  release: number | null;
  scheduledAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  status: string;
  exitCode: number | null;
  note: string | null;
  /** The tail of its output (secret values masked); only in single-run answers. */
  output?: string;
}

export interface ProjectSummaryView {
  name: string;
  environments: string[];
  services: Array<{ name: string; type: string }>;
}
