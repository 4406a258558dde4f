/**
 * What the alerts page says about an alert and a silence: whether a silence covers it now,
 * what a silence covers in words, the silence "Silence 1 h" asks for, the order of the lists.
 * The same wording as `slipway alerts` (src/cli/alerts-format.ts). Pure: the clock is a parameter.
 */
import { silencedNow, silenceScope, silenceWhere } from '../../../../src/core/alert-records';
import type { RouteBody } from '../../../../src/core/contract/routes';
import type { AlertsOverview, AlertView, SilenceView } from '../../../../src/core/contract/alerts';
import type { SessionView } from '../../../../src/core/contract/views';

export type { AlertsOverview, AlertView, SilenceView };
export type SilenceBody = RouteBody<'POST /api/v1/alerts/silences'>;

export { silencedNow, silenceScope, silenceWhere };

/**
 * The silence that quiets this alert: its service (service rules), its certificate or backup
 * (those host rules), or the rule everywhere (disk, memory, edge_down: one server).
 */
export function silenceFor(a: AlertView, forText: string): SilenceBody {
  if (a.service !== null && a.project !== null) return { rule: a.rule, project: a.project, env: a.env ?? 'production', service: a.service, for: forText };
  if (a.subject.includes(':')) return { rule: a.rule, subject: a.subject, for: forText };
  return { rule: a.rule, for: forText };
}

/**
 * Whether this session may silence the alert: the deploy scope, and a project-restricted one
 * only its project's services (and backups).
 */
export function maySilence(a: AlertView, s: Pick<SessionView, 'scope' | 'project'> | null): boolean {
  if (!s || (s.scope !== 'deploy' && s.scope !== 'admin')) return false;
  if (s.project === null) return true;
  return a.project === s.project && (a.service !== null || a.subject.startsWith(`backup:${s.project}/`));
}

/** Whether this session may end the silence (a project-restricted one: its project's only). */
export function mayEnd(silence: SilenceView, s: Pick<SessionView, 'scope' | 'project'> | null): boolean {
  if (!s || (s.scope !== 'deploy' && s.scope !== 'admin')) return false;
  return s.project === null || silence.project === s.project;
}

/** Firing alerts needing attention (not silenced) first, then the newest. */
export function orderedFiring(alerts: AlertView[], silences: SilenceView[], now: number): AlertView[] {
  return alerts
    .filter((a) => a.state === 'firing')
    .sort((x, y) => Number(silencedNow(x, silences, now)) - Number(silencedNow(y, silences, now)) || Date.parse(y.startedAt) - Date.parse(x.startedAt));
}

/** Resolved alerts, the most recently ended first. */
export function orderedResolved(alerts: AlertView[]): AlertView[] {
  return alerts.filter((a) => a.state === 'resolved').sort((x, y) => Date.parse(y.endedAt ?? y.startedAt) - Date.parse(x.endedAt ?? x.startedAt));
}
