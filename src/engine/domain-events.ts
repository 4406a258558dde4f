/**
 * The domain events the outbox carries (see notifier.ts). Built here so every writer
 * names the same fields; written by the store in the same transaction as the change.
 */
import type { Deployment, EventType, ServiceRef } from '../core/domain';
import type { NewOutboxEvent } from '../core/ports/store';

export function deploymentEvent(type: EventType, ref: ServiceRef, d: Pick<Deployment, 'id' | 'kind' | 'triggeredBy'>, extra: Record<string, unknown> = {}): NewOutboxEvent {
  return {
    type,
    project: ref.project,
    payload: { deploymentId: d.id, project: ref.project, service: ref.service, env: ref.env, kind: d.kind, triggeredBy: d.triggeredBy, ...extra },
  };
}

export function jobFailedEvent(ref: ServiceRef, run: { id: number; status: string; exitCode: number | null; note: string | null; release: number }): NewOutboxEvent {
  return {
    type: 'job.failed',
    project: ref.project,
    payload: { jobRun: run.id, project: ref.project, service: ref.service, env: ref.env, status: run.status, exitCode: run.exitCode, note: run.note, release: run.release },
  };
}
