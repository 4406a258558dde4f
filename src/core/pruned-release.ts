/**
 * What to say when a release's image was removed by retention: the release, why, and the two
 * ways back (run a prebuilt image, or rebuild from its commit), as commands to copy.
 */
import { commitOf } from './git-source';

export interface PrunedRelease {
  number: number;
  imageRef: string;
  imageDigest: string;
  sourceRef: string | null;
}

/** The two commands that bring a pruned release's code back. */
export function prunedReleaseCommands(r: PrunedRelease, service: string, env: string): { redeploy: string; rebuild: string } {
  const envFlag = env === 'production' ? '' : ` --env ${env}`;
  const commit = commitOf(r.sourceRef);
  return {
    redeploy: `slipway redeploy ${service}${envFlag} --image ${r.imageRef}`,
    rebuild: commit ? `slipway deploy ${service}${envFlag} --ref ${commit}` : `slipway deploy ${service}${envFlag}`,
  };
}

export function prunedReleaseMessage(r: PrunedRelease, service: string, env: string): string {
  const cmds = prunedReleaseCommands(r, service, env);
  const commit = commitOf(r.sourceRef);
  return (
    `cannot roll back ${service} in ${env} to v${r.number}: its image ${r.imageRef} (${r.imageDigest.slice(0, 19)}) was pruned by image retention (retention.releases in slipway.yml). ` +
    `Run that image again once it is back on the host (rebuilt, or "docker load"), with the live release's config: ${cmds.redeploy}; ` +
    `or rebuild it ${commit ? `from its commit ${commit.slice(0, 12)}` : 'from its source (a checkout of the code v' + r.number + ' ran)'}: ${cmds.rebuild}`
  );
}
