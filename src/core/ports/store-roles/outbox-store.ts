/**
 * Store role: the outbox of domain events and the notification targets and deliveries the
 * notifier fans them out to. Other roles append an event in the same transaction as the change
 * it describes (a `NewOutboxEvent` passed along with the write).
 */
import type { EventType, NotificationDelivery, NotificationTarget, OutboxEvent } from '../../domain';

/** A domain event to append to the outbox in the same transaction as the change it describes. */
export interface NewOutboxEvent {
  type: EventType;
  project: string | null;
  payload: Record<string, unknown>;
}

export interface OutboxStore {
  /** Appends an event that accompanies no stored change (e.g. `edge.restarted`). */
  appendOutboxEvent(e: NewOutboxEvent): Promise<void>;
  /** Outbox events after `seq`, oldest first. */
  listOutbox(afterSeq: number, limit: number): Promise<OutboxEvent[]>;
  getOutboxEvent(eventId: string): Promise<OutboxEvent | null>;
  createNotificationTarget(t: Omit<NotificationTarget, 'createdAt'>): Promise<NotificationTarget>;
  listNotificationTargets(): Promise<NotificationTarget[]>;
  deleteNotificationTarget(id: string): Promise<boolean>;
  resealNotificationTarget(id: string, keyId: string, sealed: string): Promise<void>;
  /** Creates pending deliveries of the event to these targets (existing ones are kept). */
  addDeliveries(eventId: string, targetIds: string[], at: string): Promise<void>;
  /** Pending deliveries due at `now`, oldest first. */
  dueDeliveries(now: string, limit: number): Promise<NotificationDelivery[]>;
  updateDelivery(eventId: string, targetId: string, patch: Partial<Omit<NotificationDelivery, 'eventId' | 'targetId'>>): Promise<void>;
  /** What the notifier still has to do: events after `afterSeq` (not fanned out yet) and pending deliveries. */
  outboxBacklog(afterSeq: number): Promise<{ events: number; pendingDeliveries: number }>;
  /** Newest first, with the event's type and project. */
  listDeliveries(limit: number): Promise<Array<NotificationDelivery & { type: EventType; project: string | null }>>;
}
