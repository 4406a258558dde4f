/**
 * The store's record of which server each replica runs on, squared with what the runtime lists:
 * a crash between starting a replica and recording it, or between removing one and forgetting
 * it, leaves the record behind the truth; recovery (at boot) puts it right. Replicas of
 * services the store does not know are not ours to record.
 */
import type { EngineContext } from './engine-context';

export async function squarePlacements(ctx: Pick<EngineContext, 'store' | 'runtime'>): Promise<{ recorded: number; forgotten: number }> {
  const { store, runtime } = ctx;
  const running = await runtime.listReplicas({});
  const placed = new Map((await store.listPlacements({})).map((p) => [p.replica, p]));
  let recorded = 0;
  const ids = new Map<string, { serviceId: number; environmentId: number } | null>();
  for (const r of running) {
    const p = placed.get(r.name);
    if (p && p.server === r.server) continue;
    const key = `${r.labels.project}/${r.labels.service}/${r.labels.env}`;
    if (!ids.has(key)) ids.set(key, await idsOf(ctx, r.labels.project, r.labels.service, r.labels.env));
    const where = ids.get(key);
    if (!where) continue;
    await store.recordPlacement({ replica: r.name, server: r.server, ...where, release: r.labels.release, deploymentId: r.labels.deployment, placedAt: r.startedAt ?? new Date().toISOString() });
    recorded++;
  }
  const names = new Set(running.map((r) => r.name));
  const gone = [...placed.keys()].filter((n) => !names.has(n));
  await store.forgetPlacements(gone);
  return { recorded, forgotten: gone.length };
}

async function idsOf(ctx: Pick<EngineContext, 'store'>, project: string, service: string, env: string): Promise<{ serviceId: number; environmentId: number } | null> {
  const p = await ctx.store.getProject(project);
  if (!p) return null;
  const [s, e] = await Promise.all([ctx.store.getService(p.id, service), ctx.store.getEnvironment(p.id, env)]);
  return s && e ? { serviceId: s.id, environmentId: e.id } : null;
}
