/**
 * Delivers outbox events to notification targets, at least once. A tick fans new events
 * out into one delivery per matching target (idempotent: keyed by event and target), then
 * sends what is due, with exponential backoff (1 s, 2 s, 4 s… 256 s: 10 attempts over about
 * 8.5 minutes) before a delivery is marked failed. A crash between sending and recording means
 * one more send of the same event id: receivers dedupe on X-Slipway-Event-Id.
 */
import { randomBytes } from 'node:crypto';
import { EVENT_TYPES, type EventType, type NotificationDelivery, type NotificationTarget } from '../core/domain';
import { SlipwayError, errorMessage } from '../core/errors';
import type { NotificationSender } from '../core/ports/notification-sender';
import type { EngineContext } from './engine-context';

const TICK_MS = 500;
const MAX_ATTEMPTS = 10;
const FANOUT_CURSOR = 'outbox.fanout_seq';
/** The target NATS_URL configures (not matched by the API's ntf_<hex> ids: not removable by hand). */
export const NATS_TARGET_ID = 'ntf_nats';

export type TargetView = Omit<NotificationTarget, 'keyId' | 'sealed'>;

const sealContext = (id: string) => `notification-target:${id}`;

export class Notifier {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly sender: NotificationSender,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      const started = performance.now();
      this.running = this.tick().finally(() => {
        this.running = null;
        this.ctx.telemetry?.loopDone('notifier', (performance.now() - started) / 1000);
      });
    }, TICK_MS);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  async addTarget(req: { kind: 'webhook' | 'slack'; url: string; project?: string | null; events?: EventType[] }, by: string): Promise<{ target: TargetView; secret: string | null }> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new SlipwayError('SLW_BAD_REQUEST', 'url: must be an http(s) URL', [{ path: 'url', message: 'must be an http(s) URL' }]);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new SlipwayError('SLW_BAD_REQUEST', 'url: must be an http(s) URL', [{ path: 'url', message: 'must be an http(s) URL' }]);
    const unknown = (req.events ?? []).filter((e) => !(EVENT_TYPES as readonly string[]).includes(e));
    if (unknown.length) throw new SlipwayError('SLW_BAD_REQUEST', `events: unknown ${unknown.join(', ')} (known: ${EVENT_TYPES.join(', ')})`, [{ path: 'events', message: `must be among ${EVENT_TYPES.join(', ')}` }]);
    const id = `ntf_${randomBytes(6).toString('hex')}`;
    const secret = req.kind === 'webhook' ? randomBytes(32).toString('hex') : null;
    const sealed = secret ? this.ctx.cipher.seal(secret, sealContext(id)) : null;
    const target = await this.ctx.store.createNotificationTarget({
      id,
      kind: req.kind,
      url: req.url,
      keyId: sealed?.keyId ?? null,
      sealed: sealed?.sealed ?? null,
      project: req.project ?? null,
      events: req.events ?? [],
      createdBy: by,
    });
    return { target: view(target), secret };
  }

  /**
   * The NATS target follows NATS_URL: present (with that URL) when it is set, absent when
   * not. Its deliveries are recorded and retried like any other target's.
   */
  async ensureNatsTarget(url: string | null): Promise<void> {
    const { store } = this.ctx;
    const existing = (await store.listNotificationTargets()).find((t) => t.id === NATS_TARGET_ID);
    if (existing && existing.url === url) return;
    if (existing) await store.deleteNotificationTarget(NATS_TARGET_ID);
    if (url) await store.createNotificationTarget({ id: NATS_TARGET_ID, kind: 'nats', url, keyId: null, sealed: null, project: null, events: [], createdBy: 'NATS_URL' });
  }

  async listTargets(): Promise<TargetView[]> {
    return (await this.ctx.store.listNotificationTargets()).map(view);
  }

  async removeTarget(id: string): Promise<void> {
    if (!(await this.ctx.store.deleteNotificationTarget(id))) throw new SlipwayError('SLW_NOT_FOUND', `no notification target ${id}`);
  }

  deliveries(limit = 50): Promise<Array<NotificationDelivery & { type: EventType; project: string | null }>> {
    return this.ctx.store.listDeliveries(limit);
  }

  /** Re-seals target secrets under the primary key (part of a master key rotation). */
  async reseal(): Promise<void> {
    for (const t of await this.ctx.store.listNotificationTargets()) {
      if (!t.sealed) continue;
      const again = this.ctx.cipher.seal(this.ctx.cipher.open(t.sealed, sealContext(t.id)), sealContext(t.id));
      await this.ctx.store.resealNotificationTarget(t.id, again.keyId, again.sealed);
    }
  }

  /** Events not fanned out yet and deliveries still pending (the /metrics outbox backlog). */
  async backlog(): Promise<{ events: number; pendingDeliveries: number }> {
    const cursor = Number((await this.ctx.store.getSetting(FANOUT_CURSOR)) ?? 0);
    return this.ctx.store.outboxBacklog(cursor);
  }

  /** One round: fan out new events, then send what is due. */
  async tick(): Promise<void> {
    const { store, logger } = this.ctx;
    try {
      const cursor = Number((await store.getSetting(FANOUT_CURSOR)) ?? 0);
      const events = await store.listOutbox(cursor, 100);
      // Targets are read at most once a round, and only when there is something to do.
      let targets: NotificationTarget[] | null = null;
      const targetList = async () => (targets ??= await store.listNotificationTargets());
      if (events.length > 0) {
        const now = new Date().toISOString();
        for (const e of events) {
          const matching = (await targetList()).filter((t) => (!t.project || t.project === e.project) && (t.events.length === 0 || t.events.includes(e.type)));
          await store.addDeliveries(e.eventId, matching.map((t) => t.id), now);
        }
        await store.setSetting(FANOUT_CURSOR, String(events[events.length - 1]!.seq));
      }
      const due = await store.dueDeliveries(new Date().toISOString(), 20);
      if (due.length === 0) return;
      const byId = new Map((await targetList()).map((t) => [t.id, t]));
      for (const d of due) await this.deliver(d, byId.get(d.targetId));
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'notifier round failed');
    }
  }

  private async deliver(d: NotificationDelivery, target: NotificationTarget | undefined): Promise<void> {
    const { store, logger } = this.ctx;
    const event = await store.getOutboxEvent(d.eventId);
    if (!target || !event) {
      await store.updateDelivery(d.eventId, d.targetId, { status: 'failed', lastError: 'the target or event no longer exists' });
      return;
    }
    const attempts = d.attempts + 1;
    try {
      const secret = target.sealed ? this.ctx.cipher.open(target.sealed, sealContext(target.id)) : null;
      await this.sender.send(target, event, secret);
      await store.updateDelivery(d.eventId, d.targetId, { status: 'delivered', attempts, deliveredAt: new Date().toISOString(), lastError: null });
    } catch (err) {
      const failed = attempts >= MAX_ATTEMPTS;
      const backoffMs = 1000 * 2 ** (attempts - 1);
      await store.updateDelivery(d.eventId, d.targetId, {
        status: failed ? 'failed' : 'pending',
        attempts,
        lastError: errorMessage(err),
        // Given up: no next attempt (the row shows when it was given up, not a retry that never comes).
        nextAttemptAt: new Date(Date.now() + (failed ? 0 : backoffMs)).toISOString(),
      });
      logger.warn({ event: event.type, eventId: event.eventId, target: target.id, attempts, err: errorMessage(err) }, failed ? 'notification given up' : 'notification failed; will retry');
    }
  }
}

function view(t: NotificationTarget): TargetView {
  const { keyId: _k, sealed: _s, ...rest } = t;
  return rest;
}
