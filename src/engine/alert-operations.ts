/**
 * What the API does with alerts: list them (a project's only, for a project-restricted token),
 * show the rules in force, set the server-wide defaults, silence a rule and end a silence.
 * Evaluation itself is the alert loop's (alerts.ts).
 */
import type { AlertRecord, AlertSilence } from '../core/alert-records';
import { ALERT_RULES, alertRulesSchema, describeRule, HOST_ALERT_RULES, mergeAlertRules, SERVICE_ALERT_RULES
  , type AlertRuleName } from '../core/alert-rules';
import type { AlertRulesView, AlertsOverview, AlertView, SilenceView } from '../core/contract/alerts';
import { SlipwayError } from '../core/errors';
import type { Store } from '../core/ports/store';
import { ALERT_DEFAULTS_SETTING, readAlertDefaults } from './alerts';

const isServiceRule = (r: AlertRuleName) => (SERVICE_ALERT_RULES as readonly string[]).includes(r);

export interface SilenceRequest {
  rule: AlertRuleName;
  project?: string;
  env?: string;
  service?: string;
  subject?: string;
  forMs: number;
  reason?: string;
}

export class AlertOperations {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  async list(q: { all?: boolean; project?: string }): Promise<AlertsOverview> {
    const nowIso = new Date(this.now()).toISOString();
    const [alerts, firing, silences] = await Promise.all([
      this.store.listAlerts({ all: q.all ?? false, ...(q.project ? { project: q.project } : {}) }),
      q.all ? this.store.listAlerts({ ...(q.project ? { project: q.project } : {}) }) : null,
      this.store.listSilences(nowIso),
    ]);
    return {
      firing: (firing ?? alerts).length,
      alerts: alerts.map((a) => this.view(a)),
      silences: silences.filter((s) => !q.project || s.project === q.project).map(silenceView),
    };
  }

  async rules(q: { project?: string; env?: string }): Promise<AlertRulesView> {
    const { written, layer } = await readAlertDefaults(this.store);
    const host = mergeAlertRules(layer);
    const services: AlertRulesView['services'] = [];
    for (const project of await this.store.listProjects()) {
      if (q.project && project.name !== q.project) continue;
      for (const env of await this.store.listEnvironments(project.id)) {
        if (q.env && env.name !== q.env) continue;
        for (const release of await this.store.listCurrentReleases(env.id)) {
          if (release.config.schedule) continue;
          const rules = mergeAlertRules(layer, release.config.alerts);
          services.push({
            project: project.name,
            env: env.name,
            service: release.config.name,
            rules: SERVICE_ALERT_RULES.filter((r) => release.config.port !== null || (r !== 'error_rate' && r !== 'p99')).map((r) => ({ rule: r, on: rules[r] !== null, description: describeRule(r, rules[r]) })),
          });
        }
      }
    }
    return { defaults: written, host: HOST_ALERT_RULES.map((r) => ({ rule: r, on: host[r] !== null, description: describeRule(r, host[r]) })), services };
  }

  /** Replaces the server-wide defaults (validated by the route with alertRulesSchema; kept as written). */
  async setDefaults(written: Record<string, unknown>): Promise<AlertRulesView> {
    const parsed = alertRulesSchema.safeParse(written);
    if (!parsed.success) throw new SlipwayError('SLW_BAD_REQUEST', `alert defaults: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    await this.store.setSetting(ALERT_DEFAULTS_SETTING, JSON.stringify(written));
    return this.rules({});
  }

  /** `restrictedTo`: the caller's project (a project-restricted token), which may silence its services only. */
  async silence(req: SilenceRequest, actor: string, restrictedTo: string | null): Promise<SilenceView> {
    if (!(ALERT_RULES as readonly string[]).includes(req.rule)) throw new SlipwayError('SLW_BAD_REQUEST', `rule: must be one of ${ALERT_RULES.join(', ')}`);
    const service = isServiceRule(req.rule);
    if (!service && (req.project || req.service || req.env)) throw new SlipwayError('SLW_BAD_REQUEST', `${req.rule} is a host rule: silence it everywhere, or one subject with "subject" (certificate:<domain>, backup:<project>/<env>/<accessory>)`);
    if (service && req.subject) throw new SlipwayError('SLW_BAD_REQUEST', `${req.rule} is a service rule: name the project (and service) instead of a subject`);
    if (restrictedTo !== null) {
      if (!service && !(req.rule === 'backup_verify' && req.subject?.startsWith(`backup:${restrictedTo}/`))) throw new SlipwayError('SLW_FORBIDDEN', `a token restricted to project ${restrictedTo} cannot silence host rules`);
      if (service && req.project !== restrictedTo) throw new SlipwayError('SLW_FORBIDDEN', `a token restricted to project ${restrictedTo} can only silence its own services (project: ${restrictedTo})`);
    }
    if (req.project && !(await this.store.getProject(req.project))) throw new SlipwayError('SLW_NOT_FOUND', `project ${req.project} does not exist`);
    const env = req.env ?? 'production';
    const subject = req.service ? `${req.project}/${env}/${req.service}` : (req.subject ?? null);
    const project = req.project ?? (req.subject?.startsWith('backup:') ? req.subject.slice('backup:'.length).split('/')[0]! : null);
    const now = this.now();
    const s = await this.store.createSilence({ rule: req.rule, subject, project, until: new Date(now + req.forMs).toISOString(), reason: req.reason ?? null, createdBy: actor, createdAt: new Date(now).toISOString() });
    return silenceView(s);
  }

  async unsilence(id: number, restrictedTo: string | null): Promise<void> {
    const s = await this.store.getSilence(id);
    if (!s || (restrictedTo !== null && s.project !== restrictedTo)) throw new SlipwayError('SLW_NOT_FOUND', `silence ${id} does not exist`);
    await this.store.deleteSilence(id);
  }

  private view(a: AlertRecord): AlertView {
    const end = a.endedAt ? Date.parse(a.endedAt) : this.now();
    return { ...a, durationSeconds: Math.max(0, Math.round((end - Date.parse(a.startedAt)) / 1000)) };
  }
}

function silenceView(s: AlertSilence): SilenceView {
  return { ...s };
}
