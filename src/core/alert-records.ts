/** Alerts as the store keeps them: one row per firing (start, end, value), and silences. */
import type { AlertRuleName } from './alert-rules';

export interface AlertRecord {
  id: number;
  rule: AlertRuleName;
  /**
   * What the rule judged: `project/env/service` for a service rule, the server (`local`) for
   * disk, memory and the edge, `certificate:<domain>`, `backup:project/env/accessory`.
   */
  subject: string;
  project: string | null;
  env: string | null;
  service: string | null;
  state: 'firing' | 'resolved';
  startedAt: string;
  endedAt: string | null;
  /** The measured value when it fired, then the newest one while it fires (ratio, ms, count). */
  value: number | null;
  /** The measured value in words with its threshold ("12.5 % of 240 requests > 5 %"). */
  summary: string;
  /** Where to look: the dashboard page (a path of the API's host) that explains it. */
  link: string | null;
  /** The CLI command that shows the requests or logs behind it. */
  explain: string | null;
  /** A silence covered it when it fired: no notification was sent (nor will be when it resolves). */
  silenced: boolean;
}

export type NewAlert = Omit<AlertRecord, 'id' | 'state' | 'endedAt'>;

export interface AlertSilence {
  id: number;
  rule: AlertRuleName;
  /** Null: every subject of the rule (of `project` when set). */
  subject: string | null;
  project: string | null;
  until: string;
  reason: string | null;
  createdBy: string;
  createdAt: string;
}

export type NewSilence = Omit<AlertSilence, 'id'>;

/** Whether a silence covers an alert of `rule` on `subject` (in `project`) at `now` (ISO). */
export function silences(s: AlertSilence, rule: AlertRuleName, subject: string, project: string | null, now: string): boolean {
  return s.rule === rule && s.until > now && (s.subject === null ? s.project === null || s.project === project : s.subject === subject);
}

/** Silenced when it fired (nothing was sent), or covered by a silence in force at `now` (one made after it fired included). */
export function silencedNow(a: Pick<AlertRecord, 'silenced' | 'rule' | 'subject' | 'project'>, inForce: AlertSilence[], now: number): boolean {
  const at = new Date(now).toISOString();
  return a.silenced || inForce.some((s) => silences(s, a.rule, a.subject, a.project, at));
}

/** What a silence covers, in words: its subject, every service of its project, or everywhere. */
export function silenceScope(s: Pick<AlertSilence, 'subject' | 'project'>): string {
  if (s.subject !== null) return s.subject;
  if (s.project !== null) return `every service of ${s.project}`;
  return 'everywhere';
}

/** After a rule's name: "everywhere", "on every service of shop", "on shop/production/web". */
export function silenceWhere(s: Pick<AlertSilence, 'subject' | 'project'>): string {
  return s.subject === null && s.project === null ? 'everywhere' : `on ${silenceScope(s)}`;
}
