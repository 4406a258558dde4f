/**
 * NotificationSender over HTTP. Generic webhooks get the event as JSON with
 * `X-Slipway-Event-Id` (the idempotency key receivers dedupe on), `X-Slipway-Event`,
 * `X-Slipway-Timestamp` and `X-Slipway-Signature: sha256=HMAC(secret, "<timestamp>.<body>")`.
 * Slack-compatible incoming webhooks get `{ text }`. Any non-2xx, timeout or network error
 * is a failure the notifier retries.
 */
import { createHmac } from 'node:crypto';
import type { OutboxEvent } from '../../core/domain';
import type { NotificationSender } from '../../core/ports/notification-sender';

const TIMEOUT_MS = 10_000;

export const httpNotificationSender: NotificationSender = {
  async send(target, event, secret) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const body = target.kind === 'slack' ? JSON.stringify({ text: slackText(event) }) : JSON.stringify({ id: event.eventId, type: event.type, at: event.createdAt, project: event.project, data: event.payload });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'slipway-notifier', 'x-slipway-event-id': event.eventId, 'x-slipway-event': event.type };
    if (target.kind === 'webhook' && secret) {
      headers['x-slipway-timestamp'] = timestamp;
      headers['x-slipway-signature'] = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
    }
    let res: Response;
    try {
      res = await fetch(target.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new Error(`could not reach ${new URL(target.url).host}: ${cause}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`${new URL(target.url).host} answered HTTP ${res.status}`);
  },
};

export function slackText(e: OutboxEvent): string {
  const p = e.payload as Record<string, string | number | null>;
  const where = [p.project, p.service, p.env].filter(Boolean).join('/');
  switch (e.type) {
    case 'deployment.started':
      return `:rocket: ${where}: deployment started (${p.kind}${p.triggeredBy ? `, by ${p.triggeredBy}` : ''})`;
    case 'deployment.succeeded':
      return `:white_check_mark: ${where}: v${p.release} is live`;
    case 'deployment.rolled_back':
      return `:leftwards_arrow_with_hook: ${where}: rolled back to v${p.release}`;
    case 'deployment.failed':
      return `:x: ${where}: deployment failed: ${p.error}`;
    case 'approval.needed':
      return `:raised_hand: ${where}: deployment ${p.deploymentId} awaits approval (slipway approve ${p.deploymentId})`;
    case 'job.failed':
      return `:warning: ${where}: scheduled job run ${p.jobRun} ${p.status}${p.exitCode !== null ? ` (exit ${p.exitCode})` : ''}`;
    case 'certificate.issued':
      return `:lock: certificate for ${p.domain} ${p.renewal ? 'renewed' : 'issued'} (${p.source}, valid until ${p.notAfter})`;
    case 'certificate.failed':
      return `:warning: certificate for ${p.domain} could not be ${p.renewal ? 'renewed' : 'obtained'} (attempt ${p.failures}, next ${p.nextAttemptAt}): ${p.error}`;
    case 'edge.restarted':
      return `:rotating_light: the edge (HAProxy) died (${p.reason}) and was restarted with ${p.servers} server(s) in ${p.downMs} ms`;
    case 'edge.corrected':
      return `:wrench: ${where}: edge corrected: ${p.summary}`;
    case 'replica.unhealthy':
      return `:face_with_thermometer: ${where}: replica ${p.replica} ${p.reason}`;
    case 'replica.replaced':
      return `:recycle: ${where}: replica ${p.replica} replaced (${p.reason})`;
    case 'replica.oom_killed':
      return `:boom: ${where}: replica ${p.replica} (v${p.release}) was killed by the kernel's OOM killer${p.memoryLimitMiB !== null && p.memoryLimitMiB !== undefined ? ` (memory limit ${p.memoryLimitMiB} MiB)` : ' (no memory limit: the host ran out of memory)'}; the reconciler replaces it`;
    case 'disk.low':
      return `:floppy_disk: low disk on ${p.path}: ${p.detail}; new builds and deployments are refused until space is freed`;
    case 'accessory.restarted':
      return `:arrows_counterclockwise: ${where}: accessory ${p.accessory} ${p.detail}`;
    case 'accessory.recreated':
      return `:recycle: ${where}: accessory ${p.accessory} ${p.detail}`;
    case 'accessory.failed':
      return `:x: ${where}: accessory ${p.accessory} could not be restarted: ${p.detail}`;
    case 'backup.failed':
      return `:x: ${where}: backup ${p.backup} of ${p.accessory} failed: ${p.detail}`;
    case 'backup.verify_failed':
      return `:rotating_light: ${where}: backup ${p.backup} of ${p.accessory} did not pass verification: ${p.detail}`;
    case 'alert.firing':
      return `:rotating_light: alert ${p.rule} firing on ${p.subject}: ${p.summary}${p.explain ? ` (${p.explain})` : ''}`;
    case 'alert.resolved':
      return `:white_check_mark: alert ${p.rule} resolved on ${p.subject} (since ${p.startedAt}): ${p.summary}`;
  }
}
