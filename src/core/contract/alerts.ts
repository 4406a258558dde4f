/**
 * Alerts in the API: what fires and fired, the rules in force (server-wide defaults and each
 * service's), and silences. Alerts are read with a read token (a project-restricted one sees
 * its project's); silences need the deploy scope; the server-wide defaults the admin scope.
 */
import { z } from 'zod';
import { ALERT_RULES, alertRulesSchema } from '../alert-rules';
import { durationProblem, MAX_TIMER_MS, parseDuration } from '../duration';

const at = z.string().describe('ISO 8601 time');
const name = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, { error: 'must be a lowercase name' });
const ruleName = z.enum(ALERT_RULES, { error: `must be one of ${ALERT_RULES.join(', ')}` });

export const alertView = z.strictObject({
  id: z.number().int(),
  rule: ruleName,
  subject: z.string().describe('project/env/service, the server (local), certificate:<domain> or backup:project/env/accessory'),
  project: z.string().nullable(),
  env: z.string().nullable(),
  service: z.string().nullable(),
  state: z.enum(['firing', 'resolved']),
  startedAt: at,
  endedAt: at.nullable(),
  durationSeconds: z.number().int().describe('how long it fired (so far)'),
  value: z.number().nullable().describe('the measured value: a share 0–1 (error_rate, disk, memory), ms (p99, edge_down), a count (crash_loop, oom, certificate)'),
  summary: z.string().describe('the measured value in words, with the threshold'),
  link: z.string().nullable().describe('the dashboard page that explains it (a path on the API host)'),
  explain: z.string().nullable().describe('the CLI command that shows the requests or logs behind it'),
  silenced: z.boolean().describe('a silence covered it when it fired: nothing was sent'),
});
export type AlertView = z.infer<typeof alertView>;

export const silenceView = z.strictObject({
  id: z.number().int(),
  rule: ruleName,
  subject: z.string().nullable().describe('null: every subject of the rule (in `project` when set)'),
  project: z.string().nullable(),
  until: at,
  reason: z.string().nullable(),
  createdBy: z.string(),
  createdAt: at,
});
export type SilenceView = z.infer<typeof silenceView>;

export const alertsOverview = z.strictObject({
  firing: z.number().int().describe('alerts firing now (silenced ones included)'),
  alerts: z.array(alertView).describe('firing ones, newest first (with all=true, resolved ones too)'),
  silences: z.array(silenceView).describe('silences in force'),
});
export type AlertsOverview = z.infer<typeof alertsOverview>;

const ruleInForce = z.strictObject({ rule: ruleName, on: z.boolean(), description: z.string() });
export const alertRulesView = z.strictObject({
  defaults: z.record(z.string(), z.unknown()).describe('the server-wide defaults as written (PUT /api/v1/alerts/defaults)'),
  host: z.array(ruleInForce).describe('host rules in force (disk, memory, certificate, backup_verify, edge_down)'),
  services: z.array(z.strictObject({ project: z.string(), env: z.string(), service: z.string(), rules: z.array(ruleInForce) })).describe("each live service's rules (built-in ← defaults ← slipway.yml)"),
});
export type AlertRulesView = z.infer<typeof alertRulesView>;

export const alertsQuery = z.strictObject({
  all: z.enum(['true', 'false'], { error: 'must be true or false' }).optional().describe('resolved alerts too (the newest 500)'),
  project: name.optional(),
});

export const alertRulesQuery = z.strictObject({ project: name.optional(), env: name.optional() });

const forDuration = z
  .string({ error: 'must be a duration such as "2h"' })
  .superRefine((v, ctx) => {
    const p = durationProblem(v, MAX_TIMER_MS, '"30m" or "2h"');
    if (p) ctx.addIssue({ code: 'custom', message: p });
  })
  .transform((v) => parseDuration(v)!);

export const silenceBody = z
  .strictObject({
    rule: ruleName,
    project: name.optional().describe('service rules: the project (required with env or service)'),
    env: name.optional().describe('with service: its environment (default production)'),
    service: name.optional().describe('one service only (else every service of the project)'),
    subject: z.string().min(1).max(300).optional().describe('host rules: one subject (certificate:<domain>, backup:project/env/accessory); else all'),
    for: forDuration.describe('how long the silence lasts, e.g. 2h (at most 24d)'),
    reason: z.string().max(500, { error: 'must be at most 500 characters' }).optional(),
  })
  .refine((b) => b.service === undefined || b.project !== undefined, { error: 'a service needs its project', path: ['project'] })
  .refine((b) => b.subject === undefined || (b.service === undefined && b.env === undefined), { error: 'give either a subject or a service, not both', path: ['subject'] });

export const silenceParams = z.strictObject({ id: z.coerce.number({ error: 'must be a silence id (a number)' }).int({ error: 'must be a silence id (a number)' }).positive({ error: 'must be a silence id (a number)' }) });

export const alertDefaultsBody = alertRulesSchema;

export const ALERT_ROUTES = {
  'GET /api/v1/alerts': { summary: 'Alerts firing now (all=true: resolved ones too) and the silences in force', query: alertsQuery, response: alertsOverview },
  'GET /api/v1/alerts/rules': { summary: "The alert rules in force: server-wide defaults, host rules, and each live service's", query: alertRulesQuery, response: alertRulesView },
  'PUT /api/v1/alerts/defaults': {
    summary: 'Set the server-wide alert defaults (every rule; slipway.yml changes the service rules per project and service)',
    body: alertDefaultsBody,
    response: alertRulesView,
  },
  'POST /api/v1/alerts/silences': {
    summary: 'Silence a rule (for a service, a project, or everywhere) for a while: its alerts are recorded but nothing is sent',
    body: silenceBody,
    ok: { status: 201, description: 'silenced' },
    response: z.strictObject({ silence: silenceView }),
  },
  'DELETE /api/v1/alerts/silences/:id': { summary: 'End a silence', params: silenceParams, response: z.strictObject({ removed: z.number().int() }) },
} as const;
