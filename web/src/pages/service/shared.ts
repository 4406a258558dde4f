/** Shapes the service page and its parts share (all from the API contract). */
import type { RouteResponse } from '../../../../src/core/contract/routes';
import type { DeploymentView } from '../../../../src/core/contract/views';
import { toast } from '../../lib/toasts.svelte';

export type { DeploymentView, ReleaseView, ReplicaView, ServiceStatusView, LiveCanaryView, JobRunView, JobScheduleView, SecretListView } from '../../../../src/core/contract/views';

/** A question for the page's one confirmation dialog; `action` reports its own errors. */
export interface ConfirmRequest {
  title: string;
  body: string;
  confirmLabel: string;
  danger?: boolean;
  action: () => Promise<void>;
}
export type Ask = (req: ConfirmRequest) => void;

export type MetricsAnswer = RouteResponse<'GET /api/v1/projects/:project/services/:service/metrics'>;
export type MetricsSeriesAnswer = RouteResponse<'GET /api/v1/projects/:project/services/:service/metrics/series'>;

/** Deployment states the engine is done with. */
export const TERMINAL_STATES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled', 'rolled_back']);

/** The badge class of a deployment (or job run) state. */
export function stateBadge(state: string): 'ok' | 'bad' | 'warn' | '' {
  if (state === 'succeeded') return 'ok';
  if (state === 'failed' || state === 'rolled_back' || state === 'timed_out' || state === 'interrupted') return 'bad';
  if (state === 'cancelled' || state === 'skipped') return '';
  return 'warn';
}

export function stateText(state: string): string {
  return state.replace(/_/g, ' ');
}

/** A commit or other source reference (a SHA, or `content:<sha256>` for an uploaded context), short. */
export function shortRef(ref: string | null | undefined): string {
  if (!ref) return '—';
  const m = /^([a-z]+:)?([0-9a-f]{16,})$/.exec(ref);
  return m ? `${m[1] ?? ''}${m[2]!.slice(0, 10)}` : ref;
}

/** Who started something, without the token id the server appends (kept for the title). */
export function whoText(by: string | null | undefined): string {
  if (!by) return '—';
  return by.replace(/\s*\(tok_[^)]*\)$/, '');
}

/** The toast for a deployment the page just started. */
export function announce(d: DeploymentView, what: string): void {
  if (d.state === 'awaiting_approval') toast('info', `${what} waits for approval: slipway approve ${d.id}`);
  else toast('success', `${what}: deployment started`);
}
