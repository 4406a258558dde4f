/** Read-only commands: status, releases, deployments, deployment (logs: commands/logs.ts). */
import type { Command } from 'commander';
import { connect, type GlobalOptions } from '../connection';
import { ago, duration, printJson, printTable } from '../output';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';
import { formatCpu, formatMemory, hostLine } from '../stats-format';
import { canaryWindowLines, liveCanaryLines } from '../canary-format';
import { edgeHealthCell, repairLine, restartsCell, restartsText } from '../health-format';
import type { ReleaseView } from '../../core/contract/views';
import { ACCESSORY_COLUMNS, accessoryBackupLines, accessoryRows, limitsCell } from '../accessories-format';
import { deploymentBackupLines } from '../backups-format';

const projectOpts = (c: Command) => projectOptions(c);
/** `slipway releases`: whether each release went live (derived from its deployments by the server). */
const OUTCOME_TEXT: Record<ReleaseView['outcome'], string> = {
  live: 'live',
  was_live: 'was live',
  rolled_back: 'rolled back',
  never_live: 'never live',
  deploying: 'deploying',
};

export function registerInspect(program: Command): void {
  projectOpts(program.command('status').description('services, their live release, replicas and edge state')).action(async (opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const status = await connect(g).status(projectName(opts), opts.env);
    if (g.json) return printJson(status);
    console.log(`project ${status.project} (${status.env}) — edge ${status.edge.running ? `running on :${status.edge.httpPort}` : 'NOT RUNNING'}`);
    console.log(hostLine(status.host));
    for (const s of status.services) {
      const rel = s.currentRelease ? `v${s.currentRelease.number}` : 'no release';
      const replicas = s.stopped ? `stopped (slipway start ${s.service} runs it again${s.urls.length > 0 ? `; its domains answer 503 "${s.service} is stopped"` : ''})` : `${s.readyReplicas}/${s.desiredReplicas} ready${restartsText(s.restarts)}`;
      console.log(`\n${s.service}: ${rel}, ${replicas}${s.activeDeployment ? `, deploying (${s.activeDeployment.state}, ${s.activeDeployment.id})` : ''}`);
      for (const url of s.urls) console.log(`  ${url}`);
      if (s.warmSet) {
        const left = Math.max(0, Math.round((Date.parse(s.warmSet.retireAt) - Date.now()) / 1000));
        console.log(`  warm: v${s.warmSet.release} (${s.warmSet.replicas} replica(s) out of rotation) until ${new Date(s.warmSet.retireAt).toLocaleTimeString()} (in ${left}s); "slipway rollback ${s.service}" switches back to it without starting a container`);
      }
      if (s.canary) for (const line of liveCanaryLines(s.canary, s.service)) console.log(line);
      if (s.lastDeployment && s.lastDeployment.state !== 'succeeded') console.log(`  last deployment ${s.lastDeployment.state}: ${s.lastDeployment.error ?? ''}`);
      const repaired = repairLine(s.lastDeployment);
      if (repaired) console.log(repaired);
      printTable(
        s.replicas.map((r) => ({
          replica: r.name,
          release: `v${r.release}`,
          container: r.state,
          edge: r.edge,
          health: edgeHealthCell(r.edgeHealth, r.edgeHealthSeconds),
          'in-flight': r.activeRequests,
          cpu: formatCpu(r.stats?.cpuPercent ?? null),
          memory: formatMemory(r.stats),
          restarts: restartsCell(r),
          address: r.address,
          started: ago(r.startedAt),
          ...(r.resources ? { limits: limitsCell(r.resources) } : {}),
        })),
        ['replica', 'release', 'container', 'edge', 'health', 'in-flight', 'cpu', 'memory', 'restarts', 'address', 'started', ...(s.replicas.some((r) => r.resources) ? ['limits'] : [])],
      );
    }
    if (status.accessories?.length) {
      console.log('\naccessories:');
      printTable(accessoryRows(status.accessories), ACCESSORY_COLUMNS);
      for (const line of accessoryBackupLines(status.accessories)) console.log(line);
    }
  });

  projectOpts(program.command('releases').description('releases of a service, newest first').argument('<service>')).action(async (service: string, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const { releases } = await connect(g).releases(projectName(opts), service, opts.env);
    if (g.json) return printJson(releases);
    if (releases.length === 0) return console.log(`no releases of ${service} in ${opts.env} yet: run "slipway deploy ${service}"`);
    printTable(
      releases.map((r) => ({ release: `v${r.number}${r.current ? ' (live)' : ''}`, outcome: OUTCOME_TEXT[r.outcome] + (r.liveUntil ? ` (until ${ago(r.liveUntil)})` : ''), image: r.imagePruned ? `${r.imageRef} (pruned)` : r.imageRef, digest: r.imageDigest.slice(0, 19), source: r.sourceRef, secrets: r.secretsVersion ? `v${r.secretsVersion}` : '-', created: ago(r.createdAt) })),
      ['release', 'outcome', 'image', 'digest', 'source', 'secrets', 'created'],
    );
  });

  projectOpts(program.command('deployments').description('recent deployments').argument('[service]')).action(async (service: string | undefined, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const { deployments } = await connect(g).deployments(projectName(opts), { env: opts.env, service });
    if (g.json) return printJson(deployments);
    printTable(
      deployments.map((d) => ({ id: d.id, service: d.service, kind: d.kind, release: d.releaseNumber ? `v${d.releaseNumber}` : '-', state: d.state, took: duration(d.startedAt, d.finishedAt), created: ago(d.createdAt), error: d.error })),
      ['id', 'service', 'kind', 'release', 'state', 'took', 'created', 'error'],
    );
  });

  program
    .command('deployment')
    .description('one deployment: its steps and log')
    .argument('<id>')
    .action(async (id: string, _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const client = connect(g);
      const { deployment } = await client.deployment(id);
      const { lines } = await client.deploymentLogs(id);
      const { backups } = await client.backups(deployment.project, deployment.env, { deployment: id, expired: true });
      if (g.json) return printJson({ ...deployment, backups, log: lines });
      console.log(`${deployment.id}  ${deployment.project}/${deployment.service} → ${deployment.env}  ${deployment.kind}  ${deployment.state}${deployment.error ? `: ${deployment.error}` : ''}`);
      if (deployment.git) console.log(`pushed ${deployment.git.ref} at ${deployment.git.commit}${deployment.triggeredBy ? ` (${deployment.triggeredBy})` : ''}`);
      for (const l of canaryWindowLines(deployment)) console.log(l);
      for (const l of deploymentBackupLines(backups, deployment.project)) console.log(l);
      for (const l of lines) console.log(`${new Date(l.at).toLocaleTimeString()}  ${l.message}`);
    });
}
