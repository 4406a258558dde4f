/**
 * What the overview shows, loaded in one go: every project's environments, each with its
 * status, last-hour metrics and p95 series. App starts the first load together with the
 * session check (a signed-in reload then costs one round trip less); the page takes it.
 */
import { api } from '../../lib/api';
import { percent } from '../../lib/format';
import type { AccessoryView, ProjectStatusView, ServiceStatusView, VolumeView } from '../../../../src/core/contract/views';
import type { RouteResponse } from '../../../../src/core/contract/routes';

export type Metrics = RouteResponse<'GET /api/v1/projects/:project/metrics'>['groups'][number];
export type Series = RouteResponse<'GET /api/v1/projects/:project/metrics/series'>['series'][number];
export interface Row {
  project: string;
  env: string;
  status: ServiceStatusView;
  metrics: Metrics | null;
  series: Series | null;
  problems: string[];
}
export interface EnvBlock {
  project: string;
  env: string;
  edgeRunning: boolean;
  rows: Row[];
  /** slipway.yml accessories: of the environment, and its named volumes (never a credential). */
  accessories: AccessoryView[];
  volumes: VolumeView[];
}

function problemsOf(s: ServiceStatusView, m: Metrics | null): string[] {
  const p: string[] = [];
  if (s.type !== 'job' && s.currentRelease && s.readyReplicas < s.desiredReplicas) p.push(`${s.readyReplicas}/${s.desiredReplicas} replicas ready`);
  if (s.lastDeployment && (s.lastDeployment.state === 'failed' || s.lastDeployment.state === 'rolled_back')) p.push(`last deployment ${s.lastDeployment.state.replace('_', ' ')}`);
  if (m && m.requests >= 20 && m.errorRate >= 0.05) p.push(`${percent(m.errorRate)} errors`);
  return p;
}

function blockOf(status: ProjectStatusView, metrics: Metrics[], series: Series[]): EnvBlock {
  const rows = status.services.map((s) => {
    const m = metrics.find((g) => g.service === s.service) ?? null;
    return { project: status.project, env: status.env, status: s, metrics: m, series: series.find((x) => x.service === s.service) ?? null, problems: problemsOf(s, m) };
  });
  // Failing first, then by name.
  rows.sort((a, b) => b.problems.length - a.problems.length || a.status.service.localeCompare(b.status.service));
  return { project: status.project, env: status.env, edgeRunning: status.edge.running, rows, accessories: status.accessories ?? [], volumes: [] };
}

async function loadEnv(project: string, env: string): Promise<EnvBlock> {
  const [status, metrics, series] = await Promise.all([
    api.status(project, env),
    api.metricsOverview(project, { env, since: '1h' }).catch(() => null),
    api.metricsOverviewSeries(project, { env, since: '1h' }).catch(() => null),
  ]);
  return blockOf(status, metrics?.groups ?? [], series?.series ?? []);
}

export async function loadOverview(): Promise<EnvBlock[]> {
  const { projects } = await api.projects();
  const pairs = projects.flatMap((p) => p.environments.map((env) => ({ project: p.name, env })));
  // One volume listing for every environment (a server without volumes answers an empty list).
  const [blocks, volumes] = await Promise.all([Promise.all(pairs.map((x) => loadEnv(x.project, x.env))), api.volumes().then((v) => v.volumes, () => [])]);
  for (const b of blocks) b.volumes = volumes.filter((v) => v.project === b.project && v.env === b.env);
  return blocks;
}

let early: { at: number; blocks: Promise<EnvBlock[]> } | null = null;

/** Starts loading before the session is known; a 401 (not signed in) is simply not used. */
export function preloadOverview(): void {
  const blocks = loadOverview();
  blocks.catch(() => undefined);
  early = { at: Date.now(), blocks };
}

/** The preloaded overview if it is fresh and succeeded, else a new load. */
export function takeOverview(): Promise<EnvBlock[]> {
  const e = early;
  early = null;
  if (e && Date.now() - e.at < 5000) return e.blocks.catch(() => loadOverview());
  return loadOverview();
}
