/**
 * How `slipway alerts` prints alerts (each with its value in words, the command that explains
 * it and its dashboard page as a full URL), silences, the rules in force and the server-wide
 * defaults; and how it turns `slipway alerts silence <rule>` into the API's request. Pure (the
 * clock and the server's URL are parameters), so it is tested without a server
 * (alerts-format.test.ts).
 */
import { stringify } from 'yaml';
import { silencedNow, silenceScope, silenceWhere } from '../core/alert-records';
import { ALERT_RULES, alertRulesSchema, HOST_ALERT_RULES, SERVICE_ALERT_RULES, type AlertRuleName } from '../core/alert-rules';
import type { AlertRulesView, AlertsOverview, AlertView, SilenceView } from '../core/contract/alerts';
import type { ErrorDetail } from '../core/errors';
import { durationProblem, MAX_TIMER_MS } from '../core/duration';
import { issuesToDetails } from '../core/parse-config';
import { instant, span } from './certs-format';
import { tableLines } from './output';

const isRule = (s: string): s is AlertRuleName => (ALERT_RULES as readonly string[]).includes(s);
const isServiceRule = (s: string) => (SERVICE_ALERT_RULES as readonly string[]).includes(s);

/** A dashboard path (`/servers`) as a full URL on the API's address. */
export function dashboardUrl(baseUrl: string, link: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${link}`;
}

export { silencedNow, silenceScope };

/** One alert: a head line (rule, subject, state, since and for how long), its value in words, the command and the page. */
export function alertLines(a: AlertView, o: { baseUrl: string; silences: SilenceView[]; now: number }): string[] {
  const span_ = span(a.durationSeconds * 1000);
  const when = a.state === 'firing' ? `FIRING for ${span_} (since ${instant(a.startedAt)})` : `resolved after ${span_} (${instant(a.startedAt)} – ${a.endedAt ? instant(a.endedAt) : '?'})`;
  const quiet = a.silenced ? '  [silenced: nothing was sent]' : a.state === 'firing' && silencedNow(a, o.silences, o.now) ? '  [silenced now]' : '';
  const lines = [`${a.rule} on ${a.subject}: ${when}${quiet}`, `  ${a.summary}`];
  if (a.explain) lines.push(`  explain: ${a.explain}`);
  if (a.link) lines.push(`  see:     ${dashboardUrl(o.baseUrl, a.link)}`);
  return lines;
}

/** Time left, rounded up to the minute (a 2h silence made a moment ago has "2h" left, not "1h"). */
const left = (ms: number) => span(ms >= 60_000 ? Math.ceil(ms / 60_000) * 60_000 : ms);

export const SILENCE_COLUMNS = ['id', 'rule', 'covers', 'until', 'reason', 'by'];

export function silenceRows(silences: SilenceView[], now: number): Array<Record<string, string | number>> {
  return silences.map((s) => ({
    id: s.id,
    rule: s.rule,
    covers: silenceScope(s),
    until: `${instant(s.until)} (in ${left(Date.parse(s.until) - now)})`,
    reason: s.reason ?? '-',
    by: s.createdBy,
  }));
}

/** Everything `slipway alerts` prints: firing alerts (resolved ones too with --all), then the silences in force. */
export function overviewLines(o: AlertsOverview, opts: { baseUrl: string; now: number; all: boolean; project?: string }): string[] {
  const where = opts.project ? ` in ${opts.project}` : '';
  const firing = o.alerts.filter((a) => a.state === 'firing');
  const resolved = o.alerts.filter((a) => a.state === 'resolved');
  const lines: string[] = [];
  if (firing.length === 0) lines.push(`no alerts firing${where}`);
  else {
    const quiet = firing.filter((a) => silencedNow(a, o.silences, opts.now)).length;
    lines.push(`${firing.length} alert${firing.length === 1 ? '' : 's'} firing${where}${quiet ? ` (${quiet} silenced)` : ''}:`);
    for (const a of firing) lines.push('', ...alertLines(a, { ...opts, silences: o.silences }));
  }
  if (opts.all) {
    if (resolved.length === 0) lines.push('', `no resolved alerts${where}`);
    else {
      lines.push('', `resolved (newest first):`);
      for (const a of resolved) lines.push('', ...alertLines(a, { ...opts, silences: o.silences }));
    }
  }
  if (o.silences.length > 0) {
    lines.push('', 'silences in force:');
    lines.push(...tableLines(silenceRows(o.silences, opts.now), SILENCE_COLUMNS).map((l) => `  ${l}`));
  }
  return lines;
}

/** What `slipway alerts silence` prints once the silence is in force. */
export function silencedLines(s: SilenceView, now: number): string[] {
  return [
    `silenced ${s.rule} ${silenceWhere(s)} until ${instant(s.until)} (in ${left(Date.parse(s.until) - now)}): silence ${s.id}${s.reason ? ` (${s.reason})` : ''}`,
    'its alerts are still recorded (slipway alerts), but no notification is sent for those that fire meanwhile',
    `end it early: slipway alerts unsilence ${s.id}`,
  ];
}

/** The rules in force: the host rules (server-wide), then each live service's; on/off and the settings in words. */
export function rulesLines(v: AlertRulesView): string[] {
  const rule = (r: AlertRulesView['host'][number]) => `  ${r.rule.padEnd(14)} ${(r.on ? 'on' : 'off').padEnd(4)}${r.on ? r.description : ''}`.trimEnd();
  const lines = ['host rules (server-wide: slipway alerts defaults --file):', ...v.host.map(rule)];
  if (v.services.length === 0) lines.push('', 'no live services (matching -p/--env): service rules apply once one is deployed');
  for (const s of v.services) lines.push('', `${s.project}/${s.env}/${s.service}:`, ...s.rules.map(rule));
  return lines;
}

/** The server-wide defaults as written (YAML, as a rules file takes them), or that none are set. */
export function defaultsLines(written: Record<string, unknown>): string[] {
  if (Object.keys(written).length === 0) return ['no server-wide defaults: the built-in rules apply (slipway alerts rules shows them; set some with slipway alerts defaults --file rules.yml)'];
  return ['server-wide alert defaults (as written; slipway.yml alerts: override the service rules):', ...stringify(written).trimEnd().split('\n').map((l) => `  ${l}`)];
}

/**
 * A rules file's content (YAML or JSON, optionally under a top-level `alerts:`) checked as the
 * API checks it: the rules to send, or each problem named by its field.
 */
export function readDefaultsFile(content: unknown): { rules: Record<string, unknown> } | { problems: ErrorDetail[] } {
  let v = content;
  if (v === null || v === undefined) v = {};
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && 'alerts' in v) v = (v as { alerts: unknown }).alerts ?? {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { problems: [{ path: '', message: `must be a map of rules (${ALERT_RULES.join(', ')}), e.g. { disk: { above: "85%" }, p99: off }` }] };
  const r = alertRulesSchema.safeParse(v);
  if (!r.success) return { problems: issuesToDetails(r.error.issues) };
  return { rules: v as Record<string, unknown> };
}

export type SilenceBody = { rule: AlertRuleName; project?: string; env?: string; service?: string; subject?: string; for: string; reason?: string };

export interface SilenceFlags {
  for: string;
  reason?: string;
  subject?: string;
  project?: string;
  env: string;
}

/**
 * `slipway alerts silence <target>`: `error_rate` (every service of the project), `web/error_rate`
 * or `web:error_rate` (one service, in --env), a host rule (`disk`: everywhere), a host rule
 * with one subject (`--subject shop.example.com`, or `certificate:shop.example.com`). `project()`
 * is asked only for service rules (host rules need no slipway.yml).
 */
export function silenceRequest(target: string, flags: SilenceFlags, project: () => string | undefined): { body: SilenceBody } | { problem: string } {
  const forProblem = durationProblem(flags.for, MAX_TIMER_MS, '"30m" or "2h"');
  if (forProblem) return { problem: `--for: ${forProblem}` };
  if (flags.reason !== undefined && flags.reason.length > 500) return { problem: '--reason: must be at most 500 characters' };
  const t = target.trim();
  let rule: string;
  let service: string | undefined;
  let subject = flags.subject?.trim() || undefined;
  const prefixed = /^(certificate|backup):(.+)$/.exec(t);
  const split = /^([a-z][a-z0-9-]*)[/:]([a-z_0-9]+)$/.exec(t);
  if (prefixed) {
    if (subject) return { problem: `give the subject once: ${t} or --subject ${subject}` };
    rule = prefixed[1] === 'backup' ? 'backup_verify' : 'certificate';
    subject = t;
  } else if (split && isRule(split[2]!)) {
    service = split[1]!;
    rule = split[2]!;
    if (!isServiceRule(rule)) return { problem: `<rule>: ${rule} is a host rule, not one of a service: silence it without a service (slipway alerts silence ${rule})` };
  } else rule = t;
  if (!isRule(rule)) {
    return { problem: `<rule>: "${t}" is not a rule: one of ${ALERT_RULES.join(', ')}, optionally for one service (web/error_rate) or one subject (certificate:shop.example.com)` };
  }
  const base = { rule, for: flags.for.trim(), ...(flags.reason ? { reason: flags.reason } : {}) };
  if (isServiceRule(rule)) {
    if (subject) return { problem: `--subject: ${rule} is a service rule: name the service instead (slipway alerts silence web/${rule})` };
    const p = project();
    if (!p) return { problem: `-p/--project: ${rule} is a service rule: which project's services (-p/--project, or run it next to slipway.yml)?` };
    return { body: { ...base, project: p, ...(service ? { env: flags.env, service } : {}) } };
  }
  if (flags.project) return { problem: `-p/--project: ${rule} is a host rule (${HOST_ALERT_RULES.join(', ')}): it is silenced everywhere, or for one subject with --subject` };
  if (subject && rule === 'certificate' && !subject.startsWith('certificate:')) subject = `certificate:${subject}`;
  if (subject && rule === 'backup_verify' && !subject.startsWith('backup:')) subject = `backup:${subject}`;
  return { body: { ...base, ...(subject ? { subject } : {}) } };
}

/** The flag (or argument) an API detail of POST /api/v1/alerts/silences concerns. */
export const SILENCE_FLAGS: Record<string, string> = { for: '--for', reason: '--reason', subject: '--subject', project: '-p/--project', env: '--env', service: '<rule>', rule: '<rule>' };
