/** Store role: git-push webhooks (one per project, secret sealed) and the deliveries and pushes seen, against replays. */
import type { Webhook } from '../../domain';

export interface WebhookStore {
  /** Creates or replaces the project's webhook. */
  putWebhook(w: Omit<Webhook, 'createdAt'>): Promise<Webhook>;
  getWebhook(project: string): Promise<Webhook | null>;
  listWebhooks(): Promise<Webhook[]>;
  deleteWebhook(project: string): Promise<boolean>;
  /** Re-seals webhook secrets after a key rotation, in one transaction. */
  resealWebhooks(updates: Array<{ project: string; keyId: string; sealed: string }>): Promise<void>;
  /** Records a delivery id; false when it was seen before (a replay). */
  recordDelivery(project: string, deliveryId: string): Promise<boolean>;
  /**
   * Records an accepted push by what was signed (ref, commit, hash of the signed bytes);
   * false when the same push was accepted before, whatever its delivery id (a replay).
   */
  recordWebhookPush(p: { project: string; ref: string; commit: string; bodySha256: string; deliveryId: string }): Promise<boolean>;
  /** Forgets delivery ids and accepted pushes received before `before` (ISO time); returns how many. */
  pruneWebhookDeliveries(before: string): Promise<number>;
}
