/** slipway notifications: where deployment/approval/job events are delivered, and how it went. */
import type { Command } from 'commander';
import { EVENT_TYPES, type EventType } from '../../core/domain';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { ago, printJson, printTable } from '../output';

export function registerNotifications(program: Command): void {
  const n = program
    .command('notifications')
    .description('event deliveries to webhooks and Slack: recent deliveries (default), targets')
    .option('--limit <n>', 'deliveries to show', '30')
    .action(async (opts: { limit: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit: must be a whole number ≥ 1 (got "${opts.limit}")`);
      const { deliveries } = await connect(g).notificationDeliveries(limit);
      if (g.json) return printJson(deliveries);
      if (deliveries.length === 0) return console.log('no deliveries yet (add a target: slipway notifications add URL)');
      printTable(
        deliveries.map((d) => ({ event: d.type ?? '?', project: d.project ?? '-', target: d.targetId, status: d.status, attempts: d.attempts, delivered: ago(d.deliveredAt), error: d.lastError ?? '' })),
        ['event', 'project', 'target', 'status', 'attempts', 'delivered', 'error'],
      );
    });
  // The URL is an argument, not `--url`: that is the global option naming the control plane.
  n.command('add')
    .description('add a target; a webhook target gets an HMAC secret, printed once')
    .argument('<url>', 'http(s) URL events are POSTed to')
    .option('--kind <kind>', 'webhook (JSON, signed) or slack (incoming webhook)', 'webhook')
    .option('-p, --project <name>', 'only events of this project')
    .option('--events <list>', `comma-separated subset of: ${EVENT_TYPES.join(', ')}`)
    .addHelpText('after', '\nExamples:\n  slipway notifications add https://hooks.slack.com/services/T/B/X --kind slack --events deployment.failed,approval.needed\n  slipway notifications add https://ops.example.com/slipway --project shop')
    .action(async (url: string, opts: { kind: string; project?: string; events?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (opts.kind !== 'webhook' && opts.kind !== 'slack') throw new CliError(`--kind: must be webhook or slack (got "${opts.kind}")`);
      const events = opts.events ? (opts.events.split(',').map((e) => e.trim()) as EventType[]) : undefined;
      const res = await connect(g).addNotificationTarget({ kind: opts.kind, url, project: opts.project, events });
      if (g.json) return printJson(res);
      console.log(`added ${res.target.id} (${res.target.kind} → ${new URL(res.target.url).host})`);
      if (res.secret) console.log(`secret: ${res.secret}  (verify X-Slipway-Signature with it; shown once)`);
    });
  n.command('targets')
    .description('the targets (never their secrets)')
    .addHelpText('after', '\nExample:\n  slipway notifications targets --json')
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { targets } = await connect(g).notificationTargets();
      if (g.json) return printJson(targets);
      printTable(targets.map((t) => ({ id: t.id, kind: t.kind, host: new URL(t.url).host, project: t.project ?? '*', events: t.events.join(',') || 'all', by: t.createdBy })), ['id', 'kind', 'host', 'project', 'events', 'by']);
    });
  n.command('remove')
    .description('remove a target (its pending deliveries go with it)')
    .argument('<id>', 'target id (ntf_…)')
    .addHelpText('after', '\nExample:\n  slipway notifications remove ntf_3f2a9c1d4e5f')
    .action(async (id: string, _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const res = await connect(g).removeNotificationTarget(id);
      if (g.json) return printJson(res);
      console.log(`removed ${id}`);
    });
}
