/**
 * The alert loop: every interval, each rule of each subject is judged from what the control
 * plane already keeps (the edge's request windows, the repairs it recorded, the host's stats
 * samples, certificates, backups, the edge supervisor) — nothing is scraped for it. A rule's
 * hysteresis (core/alert-tracker.ts) decides when it fires and resolves; each firing is a stored
 * alert with an `alert.firing` event, each end an `alert.resolved` one, written together through
 * the outbox, unless a silence covered the alert when it fired (then neither is sent).
 *
 * Trackers live in memory: after a restart a firing alert (read back from the store) stays
 * firing until its condition has been gone for its clear time again; a pending one starts over.
 */
import type { Logger } from 'pino';
import type { AlertRecord, NewAlert } from '../core/alert-records';
import { silences } from '../core/alert-records';
import { alertRulesSchema, lookbackMs, mergeAlertRules, normalizeAlertRules, type AlertRuleName, type AlertRules, type AlertRulesLayer } from '../core/alert-rules';
import { IDLE_TRACKER, trackAlert, type AlertTracker } from '../core/alert-tracker';
import type { ServiceRef } from '../core/domain';
import { errorMessage } from '../core/errors';
import type { ServiceTraffic } from '../core/ports/release-traffic';
import type { NewOutboxEvent, Store } from '../core/ports/store';
import { LOCAL_SERVER } from '../core/servers';
import { backupHealth } from './backup-view';

/** The setting holding the server-wide defaults (written form, JSON), set through the API. */
export const ALERT_DEFAULTS_SETTING = 'alerts.defaults';

/** What one rule measured of one subject at one evaluation. */
export interface Observation {
  rule: AlertRuleName;
  subject: string;
  project: string | null;
  env: string | null;
  service: string | null;
  /** The condition now; null: unknown (no figures), which moves neither clock. */
  breached: boolean | null;
  value: number | null;
  summary: string;
  forMs: number;
  clearForMs: number;
  link: string | null;
  explain: string | null;
}

export interface AlertEvaluatorDeps {
  store: Store;
  /** The edge's recent request figures per service; absent when request metrics are off. */
  traffic?: ServiceTraffic;
  /** Why and since when the edge is down (the supervisor), or null. */
  edgeDown?: () => { reason: string; since: number } | null;
  logger: Logger;
  now?: () => number;
}

const pct = (x: number) => `${+(x * 100).toFixed(1)} %`;
const HOST_SAMPLE_MAX_AGE_MS = 120_000;
/** Resolved alerts (and ended silences) are kept this long, pruned once an hour. */
const KEEP_RESOLVED_MS = 30 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

/** The server-wide defaults as stored (null when none were set or the stored value no longer reads). */
export async function readAlertDefaults(store: Store, logger?: Logger): Promise<{ written: Record<string, unknown>; layer: AlertRulesLayer }> {
  const raw = await store.getSetting(ALERT_DEFAULTS_SETTING);
  if (!raw) return { written: {}, layer: {} };
  const parsed = alertRulesSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    logger?.error({ problem: parsed.error.issues[0]?.message }, 'the stored alert defaults do not read: using the built-in rules');
    return { written: {}, layer: {} };
  }
  return { written: JSON.parse(raw) as Record<string, unknown>, layer: normalizeAlertRules(parsed.data) };
}

export class AlertEvaluator {
  private readonly trackers = new Map<string, AlertTracker>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastPrune = 0;

  constructor(private readonly deps: AlertEvaluatorDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One evaluation of every rule (never two at once: a slow one makes the next wait). */
  async tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.evaluate()
      .catch((err: unknown) => this.deps.logger.error({ err: errorMessage(err) }, 'alert evaluation failed; the next one retries'))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async evaluate(): Promise<void> {
    const { store } = this.deps;
    const now = this.now();
    const nowIso = new Date(now).toISOString();
    const defaults = (await readAlertDefaults(store, this.deps.logger)).layer;
    const observations = [...(await this.serviceObservations(defaults, now)), ...(await this.hostObservations(mergeAlertRules(defaults), now))];
    const open = new Map((await store.listAlerts({})).map((a) => [key(a.rule, a.subject), a]));
    const active = await store.listSilences(nowIso);
    const seen = new Set<string>();
    for (const o of observations) {
      const k = key(o.rule, o.subject);
      seen.add(k);
      const firing = open.get(k);
      const before = this.trackers.get(k) ?? (firing ? { firing: true, breachedSince: Date.parse(firing.startedAt), clearSince: null } : IDLE_TRACKER);
      const { tracker, transition } = trackAlert(before, o.breached, now, o.forMs, o.clearForMs);
      this.trackers.set(k, tracker);
      if (transition === 'fire' && !firing) {
        const silenced = active.some((s) => silences(s, o.rule, o.subject, o.project, nowIso));
        const a: NewAlert = { rule: o.rule, subject: o.subject, project: o.project, env: o.env, service: o.service, startedAt: nowIso, value: o.value, summary: o.summary, link: o.link, explain: o.explain, silenced };
        await store.openAlert(a, silenced ? null : (stored) => alertEvent('alert.firing', stored));
        this.deps.logger.warn({ rule: o.rule, subject: o.subject, value: o.value, silenced }, `alert firing: ${o.rule} on ${o.subject}: ${o.summary}`);
      } else if ((transition === 'resolve' || (!tracker.firing && firing)) && firing) {
        await this.resolve(firing, nowIso, o.value, o.summary);
      } else if (firing && tracker.firing && (firing.value !== o.value || firing.summary !== o.summary) && o.breached !== null) {
        await store.updateAlertValue(firing.id, o.value, o.summary);
      }
    }
    // A firing alert whose rule is off now, or whose subject is gone (a service removed, an
    // environment destroyed), has nothing left to watch: it resolves.
    for (const [k, a] of open) {
      if (seen.has(k)) continue;
      this.trackers.delete(k);
      await this.resolve(a, nowIso, a.value, `${a.summary} (no longer watched: the rule is off or its subject is gone)`);
    }
    for (const k of this.trackers.keys()) if (!seen.has(k)) this.trackers.delete(k);
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      await store.pruneAlerts(new Date(now - KEEP_RESOLVED_MS).toISOString());
    }
  }

  private async resolve(a: AlertRecord, nowIso: string, value: number | null, summary: string): Promise<void> {
    const resolved: AlertRecord = { ...a, state: 'resolved', endedAt: nowIso, value, summary };
    await this.deps.store.resolveAlert(a.id, { endedAt: nowIso, value, summary }, a.silenced ? null : alertEvent('alert.resolved', resolved));
    this.deps.logger.info({ rule: a.rule, subject: a.subject, silenced: a.silenced }, `alert resolved: ${a.rule} on ${a.subject}`);
  }

  /** Each live web service, worker (and their rules): error rate and p99 from the edge, restarts and OOM kills from the repairs. */
  private async serviceObservations(defaults: AlertRulesLayer, now: number): Promise<Observation[]> {
    const { store, traffic } = this.deps;
    const out: Observation[] = [];
    for (const project of await store.listProjects()) {
      for (const env of await store.listEnvironments(project.id)) {
        for (const release of await store.listCurrentReleases(env.id)) {
          const c = release.config;
          // A stopped service (slipway stop: 0 replicas) is not watched: its 503 page is what it was asked to answer.
          if (c.type === 'job' || c.replicas === 0) continue;
          const rules = mergeAlertRules(defaults, c.alerts);
          const ref: ServiceRef = { project: project.name, service: c.name, env: env.name };
          const subject = `${ref.project}/${ref.env}/${ref.service}`;
          const base = { subject, project: ref.project, env: ref.env, service: ref.service, link: `/p/${encodeURIComponent(ref.project)}/${encodeURIComponent(ref.env)}/${encodeURIComponent(ref.service)}` };
          const where = `${ref.service} --project ${ref.project} --env ${ref.env}`;
          if (c.port !== null && traffic) {
            // One sum over the service's windows per look-back (error_rate and p99 usually share it).
            const sums = new Map<number, ReturnType<ServiceTraffic['serviceWindow']>>();
            const windowOf = (ms: number) => {
              if (!sums.has(ms)) sums.set(ms, traffic.serviceWindow(ref, now - ms, now));
              return sums.get(ms) ?? null;
            };
            if (rules.error_rate) {
              const r = rules.error_rate;
              const f = windowOf(lookbackMs(r));
              if (f) {
                const enough = f.requests >= r.minRequests;
                const rate = f.errorRate ?? 0;
                out.push({ ...base, rule: 'error_rate', breached: enough && rate > r.above, value: f.errorRate, forMs: r.forMs, clearForMs: r.clearForMs, explain: `slipway requests ${where} --errors`, summary: enough ? `${pct(rate)} of ${f.requests} requests answered 5xx in the last ${lookbackMs(r) / 1000} s (rule: over ${pct(r.above)})` : `${f.requests} request(s) in the last ${lookbackMs(r) / 1000} s, fewer than min_requests ${r.minRequests}` });
              }
            }
            if (rules.p99) {
              const r = rules.p99;
              const f = windowOf(lookbackMs(r));
              if (f) {
                const enough = f.requests >= r.minRequests && f.p99Ms !== null;
                out.push({ ...base, rule: 'p99', breached: enough && f.p99Ms! > r.aboveMs, value: f.p99Ms, forMs: r.forMs, clearForMs: r.clearForMs, explain: `slipway requests ${where} --slow ${r.aboveMs}ms`, summary: enough ? `p99 ${f.p99Ms} ms over ${f.requests} requests in the last ${lookbackMs(r) / 1000} s (rule: over ${r.aboveMs} ms)` : `${f.requests} request(s) in the last ${lookbackMs(r) / 1000} s, fewer than min_requests ${r.minRequests}` });
              }
            }
          }
          if (rules.crash_loop) {
            const r = rules.crash_loop;
            const n = await store.serviceRestartsSince({ ...ref, since: now - r.withinMs });
            out.push({ ...base, rule: 'crash_loop', breached: n >= r.restarts, value: n, forMs: 0, clearForMs: 0, explain: `slipway logs ${where} --since ${Math.ceil(r.withinMs / 60_000)}m`, summary: `${n} restart(s) of its replicas in the last ${Math.round(r.withinMs / 60_000)} min (rule: ${r.restarts} or more)` });
          }
          if (rules.oom) {
            const r = rules.oom;
            const kills = (await store.listReplicaRestarts({ ...ref, since: now - r.withinMs })).filter((x) => x.reason === 'oom_killed');
            out.push({ ...base, rule: 'oom', breached: kills.length > 0, value: kills.length, forMs: 0, clearForMs: 0, explain: `slipway status --project ${ref.project} --env ${ref.env}`, summary: `${kills.length} replica(s) killed by the OOM killer in the last ${Math.round(r.withinMs / 60_000)} min` });
          }
        }
      }
    }
    return out;
  }

  /** The host (disk, memory, edge), certificates and backups, under the server-wide rules. */
  private async hostObservations(rules: AlertRules, now: number): Promise<Observation[]> {
    const { store } = this.deps;
    const out: Observation[] = [];
    const host = { project: null, env: null, service: null };
    const sample = rules.disk || rules.memory ? await store.latestHostSample(LOCAL_SERVER) : null;
    const fresh = sample !== null && now - sample.at <= HOST_SAMPLE_MAX_AGE_MS;
    if (rules.disk) {
      const used = fresh && sample.diskTotalBytes > 0 ? (sample.diskTotalBytes - sample.diskAvailableBytes) / sample.diskTotalBytes : null;
      out.push({ ...host, rule: 'disk', subject: LOCAL_SERVER, breached: used === null ? null : used > rules.disk.above, value: used, forMs: rules.disk.forMs, clearForMs: rules.disk.clearForMs, link: '/servers', explain: 'slipway servers', summary: used === null ? 'no recent host sample' : `${pct(used)} of the data directory's disk in use (rule: over ${pct(rules.disk.above)})` });
    }
    if (rules.memory) {
      const used = fresh && sample.memoryTotalBytes > 0 ? sample.memoryUsedBytes / sample.memoryTotalBytes : null;
      out.push({ ...host, rule: 'memory', subject: LOCAL_SERVER, breached: used === null ? null : used > rules.memory.above, value: used, forMs: rules.memory.forMs, clearForMs: rules.memory.clearForMs, link: '/servers', explain: 'slipway servers', summary: used === null ? 'no recent host sample' : `${pct(used)} of the host's memory in use (rule: over ${pct(rules.memory.above)})` });
    }
    if (rules.edge_down && this.deps.edgeDown) {
      const down = this.deps.edgeDown();
      out.push({ ...host, rule: 'edge_down', subject: LOCAL_SERVER, breached: down !== null, value: down ? now - down.since : 0, forMs: rules.edge_down.forMs, clearForMs: 0, link: '/servers', explain: 'slipway servers', summary: down ? `the edge has been down for ${Math.round((now - down.since) / 1000)} s: ${down.reason}` : 'the edge is serving' });
    }
    if (rules.certificate) {
      const r = rules.certificate;
      for (const c of await store.listCertificates()) {
        if (c.source === 'own') continue;
        const failing = c.status === 'failed' && c.failures >= r.failures;
        out.push({ ...host, rule: 'certificate', subject: `certificate:${c.domain}`, breached: failing, value: c.failures, forMs: 0, clearForMs: 0, link: '/certificates', explain: 'slipway certs', summary: failing ? `${c.failures} failed attempt(s) in a row to ${c.issuedAt ? 'renew' : 'obtain'} the certificate of ${c.domain}: ${c.lastError ?? 'unknown error'}` : `certificate of ${c.domain}: ${c.status}` });
      }
    }
    if (rules.backup_verify) {
      for (const project of await store.listProjects()) {
        for (const env of await store.listEnvironments(project.id)) {
          for (const acc of await store.listAccessories(env.id)) {
            const health = backupHealth(await store.listBackups({ environmentId: env.id, accessory: acc.name, limit: 20 }));
            if (health.state === 'none') continue;
            const failed = health.state === 'verify_failed';
            out.push({ rule: 'backup_verify', subject: `backup:${project.name}/${env.name}/${acc.name}`, project: project.name, env: env.name, service: null, breached: failed, value: failed ? 1 : 0, forMs: 0, clearForMs: 0, link: `/backups/${encodeURIComponent(project.name)}/${encodeURIComponent(env.name)}`, explain: `slipway backups ${acc.name} --project ${project.name} --env ${env.name}`, summary: failed ? health.detail! : `backups of ${acc.name}: ${health.state}` });
          }
        }
      }
    }
    return out;
  }
}

const key = (rule: AlertRuleName, subject: string) => `${rule}\u0000${subject}`;

/** `alert.firing` / `alert.resolved`, as receivers get them (docs/notifications.md). */
export function alertEvent(type: 'alert.firing' | 'alert.resolved', a: AlertRecord): NewOutboxEvent {
  return {
    type,
    project: a.project,
    payload: { alert: a.id, rule: a.rule, subject: a.subject, project: a.project, env: a.env, service: a.service, state: type === 'alert.firing' ? 'firing' : 'resolved', value: a.value, summary: a.summary, startedAt: a.startedAt, endedAt: a.endedAt, link: a.link, explain: a.explain },
  };
}

