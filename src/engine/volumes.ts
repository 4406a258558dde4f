/**
 * `slipway volumes`: the named volumes Slipway created for accessories and services, with
 * their sizes (Docker's disk usage) and the containers using them. A project-restricted
 * caller sees its own project's only: naming another project is refused, not emptied, so
 * the caller learns why.
 */
import type { VolumeView } from '../core/contract/views';
import { SlipwayError } from '../core/errors';
import type { EngineContext } from './engine-context';

export async function listVolumes(
  ctx: Pick<EngineContext, 'runtime'>,
  filter: { project?: string; env?: string },
  restrictedTo: string | null,
): Promise<VolumeView[]> {
  if (restrictedTo && filter.project && filter.project !== restrictedTo) {
    throw new SlipwayError('SLW_FORBIDDEN', `this token is restricted to project "${restrictedTo}"; it cannot list the volumes of project "${filter.project}"`, [
      { path: 'project', message: `must be "${restrictedTo}" (or left out) for this token` },
    ]);
  }
  const project = restrictedTo ?? filter.project;
  const volumes = await ctx.runtime.listVolumes({ ...(project ? { project } : {}), ...(filter.env ? { env: filter.env } : {}) });
  return volumes
    // The runtime filters too; this keeps a restricted caller safe whatever a driver returns.
    .filter((v) => (!project || v.project === project) && (!filter.env || v.env === filter.env))
    .map((v) => ({ name: v.name, project: v.project, env: v.env, owner: v.owner, volume: v.volume, sizeBytes: v.sizeBytes, createdAt: v.createdAt, usedBy: v.usedBy }))
    .sort((a, b) => a.project.localeCompare(b.project) || a.env.localeCompare(b.env) || a.owner.localeCompare(b.owner) || a.volume.localeCompare(b.volume));
}
