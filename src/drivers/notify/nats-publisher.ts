/**
 * NotificationSender for the `nats` target (configured by NATS_URL): publishes each event
 * to `slipway.events.<type>` with the event id as `Nats-Msg-Id` (JetStream deduplicates on
 * it) and waits for the server to have it (flush) before the delivery counts as done.
 */
import { connect, headers, type NatsConnection } from 'nats';
import type { NotificationSender } from '../../core/ports/notification-sender';

export class NatsPublisher implements NotificationSender {
  private connection: Promise<NatsConnection> | null = null;
  private url: string | null = null;

  async send(target: Parameters<NotificationSender['send']>[0], event: Parameters<NotificationSender['send']>[1]): Promise<void> {
    const nc = await this.connect(target.url);
    const h = headers();
    h.set('Nats-Msg-Id', event.eventId);
    h.set('Slipway-Event', event.type);
    const body = JSON.stringify({ id: event.eventId, type: event.type, at: event.createdAt, project: event.project, data: event.payload });
    nc.publish(`slipway.events.${event.type}`, new TextEncoder().encode(body), { headers: h });
    await nc.flush();
  }

  async close(): Promise<void> {
    const c = this.connection;
    this.connection = null;
    if (c) await (await c.catch(() => null))?.close();
  }

  private connect(url: string): Promise<NatsConnection> {
    if (!this.connection || this.url !== url) {
      this.url = url;
      const servers = url.split(',').map((s) => s.trim().replace(/^nats:\/\//, ''));
      const attempt = connect({ servers, name: 'slipway', maxReconnectAttempts: -1, reconnectTimeWait: 1000, timeout: 5000 });
      // A failed connect is retried by the next delivery attempt (the notifier backs off).
      attempt.catch(() => {
        if (this.connection === attempt) this.connection = null;
      });
      this.connection = attempt;
    }
    return this.connection;
  }
}
