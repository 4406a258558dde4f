/** slipway webhook: the project's push webhook (GitHub or any signer), its URL and secret. */
import type { Command } from 'commander';
import { connect, type GlobalOptions } from '../connection';
import { printJson } from '../output';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';

const projectOpts = (c: Command) => projectOptions(c, { env: false });

export function registerWebhook(program: Command): void {
  const webhook = program.command('webhook').description('push webhook: a push to a branch matching branches: (or of a tag matching tags:) in slipway.yml deploys that commit');

  projectOpts(
    webhook
      .command('create')
      .description('register (or re-key) the webhook; prints its URL and secret once')
      .requiredOption('--repo <url>', 'git URL the server fetches pushed commits from')
      .option('--path <dir>', 'directory of slipway.yml in the repository (default: the root)', '')
      .addHelpText('after', '\nThen in GitHub: Settings → Webhooks → Payload URL = the URL printed, Content type = application/json,\nSecret = the secret printed, events = push. slipway.yml needs e.g.:\n  branches: { main: staging, "release/*": production }\n  tags: { "v*": production }\nOther senders sign "<X-Slipway-Timestamp>.<X-Slipway-Delivery>.<body>" (docs/webhooks.md).\nA push older than the live commit is refused unless forced and allowed (webhooks: { allow_force_push: [main] }).'),
  ).action(async (opts: { repo: string; path: string; project?: string; file?: string }, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const res = await client.createWebhook(projectName(opts), { repository: opts.repo, path: opts.path });
    const url = `${client.url}${res.url}`;
    if (g.json) return printJson({ ...res, url });
    console.log(`webhook of ${res.webhook.project}: ${url}`);
    console.log(`secret: ${res.secret}`);
    console.error('copy the secret now: it is not shown again (create again to re-key)');
  });

  projectOpts(webhook.command('show').description('the webhook URL and repository (never the secret)')).action(async (opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const res = await client.webhook(projectName(opts));
    if (g.json) return printJson({ ...res, url: `${client.url}${res.url}` });
    console.log(`${client.url}${res.url}  ← ${res.webhook.repository}${res.webhook.path ? ` (slipway.yml in ${res.webhook.path})` : ''}, created by ${res.webhook.createdBy}`);
  });

  projectOpts(webhook.command('remove').description('remove the webhook: deliveries are refused from now on')).action(async (opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const res = await connect(g).removeWebhook(projectName(opts));
    if (g.json) return printJson(res);
    console.log(`removed the webhook of ${res.removed}`);
  });
}
