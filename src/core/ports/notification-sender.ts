/** Delivers one event to one target over HTTP; throws (with a reason) when not accepted. */
import type { NotificationTarget, OutboxEvent } from '../domain';

export interface NotificationSender {
  /** `secret` is the target's opened HMAC secret (generic webhooks). */
  send(target: NotificationTarget, event: OutboxEvent, secret: string | null): Promise<void>;
}
