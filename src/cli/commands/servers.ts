/** `slipway servers`: the hosts Slipway deploys to, their Docker engine and edge. */
import type { Command } from 'commander';
import { connect, type GlobalOptions } from '../connection';
import { printJson, printTable } from '../output';

const gib = (bytes: number | null) => (bytes === null ? null : `${(bytes / 1024 ** 3).toFixed(1)} GiB`);

export function registerServers(program: Command): void {
  program
    .command('servers')
    .description('hosts Slipway deploys to: Docker engine and edge state')
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { servers } = await connect(g).servers();
      if (g.json) return printJson(servers);
      printTable(
        servers.map((s) => ({
          server: s.name,
          docker: s.docker.ok ? s.docker.version : `DOWN: ${s.docker.detail}`,
          cpus: s.docker.cpus,
          memory: gib(s.docker.memoryBytes),
          running: s.docker.containersRunning,
          disk: s.disk ? `${s.disk.low ? 'LOW DISK: ' : ''}${gib(s.disk.availableBytes)} free of ${gib(s.disk.totalBytes)}` : null,
          edge: s.edge.running ? `HAProxy ${s.edge.version ?? '?'} on :${s.edge.httpPort}${s.edge.httpsPort ? `, :${s.edge.httpsPort} (TLS)` : ''} (pid ${s.edge.pid})` : 'NOT RUNNING',
          reloads: s.edge.reloads,
        })),
        ['server', 'docker', 'cpus', 'memory', 'running', 'disk', 'edge', 'reloads'],
      );
      for (const s of servers) {
        if (s.disk?.low) console.log(`\n${s.name}: low disk on ${s.disk.path} (${s.disk.detail}): new builds and deployments are refused until space is freed (docs/operations.md)`);
      }
    });
}
