/**
 * slipway.yml text → normalized ProjectConfig, with errors returned as values.
 * Each error names the dotted path of the field and what is expected, e.g.
 * `services.web.health.path: must start with "/"`.
 */
import { isPair, isScalar, Lexer, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { combineAlertLayers, normalizeAlertRules } from './alert-rules';
import { normalizeAccessory, normalizeResources, normalizeVolumes } from './accessory-config';
import { CONFIG_LIMITS, configLimitProblems, configSizeProblem } from './config-limits';
import { normalizeUses, referenceProblems, unknownUses } from './config-references';
import { projectConfigSchema, usesSchema, type ProjectConfigWritten } from './config-schema';
import type { AccessoryConfig, ProjectConfig, ServiceConfig, SmokeConfig } from './config';
import { parseDuration } from './duration';
import type { ErrorDetail } from './errors';

export type ParseResult = { ok: true; config: ProjectConfig } | { ok: false; errors: ErrorDetail[] };

export interface ParseOptions {
  /** The environment whose overrides apply (default `production`). */
  env?: string;
}

export function parseProjectConfig(text: string, opts: ParseOptions = {}): ParseResult {
  // Bounds first (config-limits.ts): size, then tokens (the lexer is cheap; composing is not).
  const tooBig = configSizeProblem(text) ?? tokenLimitProblem(text);
  if (tooBig) return { ok: false, errors: [tooBig] };
  // uniqueKeys compares every key with every other one (quadratic): duplicateKeys does it in one pass.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.slice(0, 20).map((e) => {
        const line = e.linePos?.[0];
        return { path: line ? `line ${line.line}:${line.col}` : '(yaml)', message: firstLine(e.message) };
      }),
    };
  }
  const duplicates = duplicateKeys(doc);
  if (duplicates.length > 0) return { ok: false, errors: duplicates };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: CONFIG_LIMITS.aliases });
  } catch (err) {
    // yaml throws a ReferenceError on an alias bomb (and on an alias to a missing anchor).
    const message = (err as Error).message;
    return {
      ok: false,
      errors: [{ path: '(yaml)', message: /alias count/i.test(message) ? `aliases exceeded: YAML aliases expand more than ${CONFIG_LIMITS.aliases} times (an alias bomb?)` : firstLine(message) }],
    };
  }
  return validateProjectConfig(raw, opts);
}

function tokenLimitProblem(text: string): ErrorDetail | null {
  let tokens = 0;
  for (const _ of new Lexer().lex(text)) {
    if (++tokens > CONFIG_LIMITS.yamlTokens) {
      return { path: '(file)', message: `size limit exceeded: slipway.yml has more than ${CONFIG_LIMITS.yamlTokens} YAML tokens (values, keys, indicators and line breaks)` };
    }
  }
  return null;
}

/** Keys written twice in one map, named by their path, in one pass over the document. */
function duplicateKeys(doc: ReturnType<typeof parseDocument>): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  visit(doc, {
    Map(_, map, path) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const at = path.filter((n) => isPair(n)).map((p) => (isScalar(p.key) ? String(p.key.value) : '?'));
        errors.push({ path: [...at, String(key)].join('.'), message: 'is written twice in the same map (map keys must be unique)' });
        if (errors.length >= 20) return visit.BREAK;
      }
      return undefined;
    },
  });
  return errors;
}

export function validateProjectConfig(raw: unknown, opts: ParseOptions = {}): ParseResult {
  if (raw === null || raw === undefined) {
    return { ok: false, errors: [{ path: '(root)', message: 'the file is empty; expected "project" and "services"' }] };
  }
  const limits = configLimitProblems(raw);
  if (limits.length > 0) return { ok: false, errors: limits };
  // 1. The file as written, overrides included: errors name where the value was written.
  const written = projectConfigSchema.safeParse(raw, { reportInput: true });
  if (!written.success) return { ok: false, errors: issuesToDetails(written.error.issues) };
  const file = raw as RawProject;
  const unknownNames: ErrorDetail[] = [];
  const accessories = file.accessories ?? {};
  for (const [env, override] of Object.entries(file.environments ?? {})) {
    for (const [svc, o] of Object.entries(override?.services ?? {})) {
      if (!(svc in file.services)) {
        unknownNames.push({ path: `environments.${env}.services.${svc}`, message: `no service "${svc}" is defined under services` });
      } else {
        unknownNames.push(...unknownUses(usesSchema.safeParse(o?.uses).data, accessories, `environments.${env}.services.${svc}.uses`));
        const typeChange = scheduleTypeChange(svc, written.data.services[svc]!, o?.schedule);
        if (typeChange) unknownNames.push({ path: `environments.${env}.services.${svc}.schedule`, message: typeChange });
      }
    }
    for (const name of Object.keys(override?.accessories ?? {})) {
      if (!(name in accessories)) {
        const known = Object.keys(accessories);
        unknownNames.push({ path: `environments.${env}.accessories.${name}`, message: `no accessory "${name}" is defined under accessories (${known.length ? `defined: ${known.join(', ')}` : 'none is defined'})` });
      }
    }
  }
  unknownNames.push(...referenceProblems(written.data));
  if (unknownNames.length) return { ok: false, errors: unknownNames };
  // 2. The services and accessories as they are in the chosen environment.
  const env = opts.env ?? 'production';
  const merged = projectConfigSchema.safeParse(applyOverrides(file, env), { reportInput: true });
  const mergedErrors = merged.success ? referenceProblems(merged.data) : issuesToDetails(merged.error.issues);
  if (!merged.success || mergedErrors.length) {
    return { ok: false, errors: mergedErrors.map((e) => ({ ...e, message: `${e.message} (in environment ${env})` })) };
  }
  const approval = written.data.environments?.[env]?.approval ?? 'none';
  const backupBeforeRelease = written.data.environments?.[env]?.backup_before_release ?? env === 'production';
  return { ok: true, config: { ...normalize(merged.data, env, Object.keys(file.environments ?? {}), approval), backupBeforeRelease, repository: written.data.repository ?? null, branches: written.data.branches ?? {}, tags: written.data.tags ?? {}, allowForcePush: written.data.webhooks?.allow_force_push ?? false } };
}

/**
 * A `schedule` override on a service that is not a job under `services` would make it a job in
 * one environment only; a service has one type in every environment (the store keeps it per
 * service, and the engine starts replicas of a web service or worker), so that is refused.
 */
function scheduleTypeChange(name: string, base: ProjectConfigWritten['services'][string], schedule: unknown): string | null {
  if (schedule === undefined || base.schedule !== undefined) return null;
  const what = base.port !== undefined ? `a web service (it has a port under services.${name})` : 'a worker (no schedule under services)';
  return `${name} is ${what}: an environment cannot make it a scheduled job, because a service is of the same type in every environment. Only a job's schedule changes per environment: to run it on a schedule in some environments only, make it a job under services${base.port !== undefined ? ' (without its port)' : ''} with schedule: off, and set its schedule in those environments`;
}

type RawService = Record<string, unknown>;
interface RawProject {
  project: string;
  services: Record<string, RawService>;
  accessories?: Record<string, RawService>;
  alerts?: unknown;
  environments?: Record<string, { services?: Record<string, RawService>; accessories?: Record<string, RawService> } | null>;
}

const MERGED_MAPS = ['env', 'health', 'deploy', 'https', 'retention', 'resources', 'alerts'];

/**
 * Fields of one override laid over the base: maps merge key by key, the rest replaces. A
 * health `kind` of the override drops the base's `command` and `path` (they belonged to the
 * other kind); `health: none` (accessories) replaces, and is replaced, whole.
 */
function overlay(base: RawService, o: RawService): RawService {
  const merged: RawService = { ...base };
  for (const [k, v] of Object.entries(o)) {
    const b = base[k];
    const mergeable = MERGED_MAPS.includes(k) && isMap(v) && (b === undefined || isMap(b));
    merged[k] = mergeable ? { ...(b as object | undefined), ...v } : v;
    if (k === 'health' && mergeable && isMap(b) && 'kind' in v && v.kind !== b.kind) {
      const h = merged.health as Record<string, unknown>;
      if (!('command' in v)) delete h.command;
      if (!('path' in v)) delete h.path;
    }
  }
  return merged;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The project as the environment's overrides change it (without `environments`). */
function applyOverrides(file: RawProject, env: string): RawProject {
  const overrides = file.environments?.[env]?.services ?? {};
  const services: Record<string, RawService> = {};
  for (const [name, base] of Object.entries(file.services)) {
    const o = overrides[name] ?? {};
    services[name] = overlay(base, o);
    if ('image' in o) delete services[name].build;
  }
  const alerts = file.alerts === undefined ? {} : { alerts: file.alerts };
  if (file.accessories === undefined) return { project: file.project, services, ...alerts };
  const accessoryOverrides = file.environments?.[env]?.accessories ?? {};
  const accessories: Record<string, RawService> = {};
  for (const [name, base] of Object.entries(file.accessories)) accessories[name] = overlay(base, accessoryOverrides[name] ?? {});
  return { project: file.project, services, accessories, ...alerts };
}

export function formatErrors(errors: ErrorDetail[]): string {
  return errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('\n');
}

/**
 * A union (`volumes: ["a:/b" | { name, path }]`, `health: none | { … }`) that no option
 * accepts is reported through the one option whose type matched the input (no issue says the
 * value itself is of another type), so the error names what is wrong inside it; else as the
 * union's message.
 */
function unwrapUnions(issues: z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union') return [issue];
    const wrongType = (i: z.core.$ZodIssue) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value' || i.code === 'invalid_union');
    const inside = issue.errors.filter((branch) => branch.length > 0 && !branch.some(wrongType));
    if (inside.length !== 1) return [issue];
    return unwrapUnions(inside[0]!.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as z.core.$ZodIssue));
  });
}

export function issuesToDetails(issues: z.core.$ZodIssue[]): ErrorDetail[] {
  return unwrapUnions(issues).map((issue) => {
    const path = issue.path.map(String).join('.') || '(root)';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    } else if (issue.code === 'invalid_key' && issue.issues[0]) {
      // A map key failed its own rule (e.g. an environment name): say what the key must be.
      message = issue.issues[0].message;
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      message = 'is required';
    } else if (issue.code === 'invalid_value' && issue.input === undefined) {
      message = `is required (${message})`;
    }
    return { path, message };
  });
}

function normalize(written: ProjectConfigWritten, env: string, environments: string[], approval: ProjectConfig['approval']): Omit<ProjectConfig, 'repository' | 'branches' | 'tags' | 'allowForcePush'> {
  const accessories: Record<string, AccessoryConfig> = {};
  for (const [name, a] of Object.entries(written.accessories ?? {})) accessories[name] = normalizeAccessory(name, a, written.project);
  const services: Record<string, ServiceConfig> = {};
  for (const [name, s] of Object.entries(written.services)) {
    const healthKind = s.health.kind ?? (s.health.command ? 'exec' : undefined);
    services[name] = {
      name,
      type: s.schedule !== undefined ? 'job' : s.port === undefined ? 'worker' : 'web',
      source: s.image !== undefined ? { kind: 'image', ref: s.image } : { kind: 'build', ...s.build! },
      port: s.port ?? null,
      command: s.command ?? null,
      minReadyMs: ms(s.min_ready),
      schedule: s.schedule === undefined || s.schedule === 'off' ? null : s.schedule,
      jobTimeoutMs: ms(s.job_timeout),
      domains: s.domains,
      https: {
        redirect: s.https.redirect ?? null,
        hstsMaxAgeS: s.https.hsts === false ? null : Math.floor(ms(s.https.hsts) / 1000),
        hstsIncludeSubdomains: s.https.hsts_include_subdomains,
      },
      health: {
        path: s.health.path,
        intervalMs: ms(s.health.interval),
        timeoutMs: ms(s.health.timeout),
        graceMs: ms(s.health.grace),
        successes: s.health.successes,
        deadlineMs: ms(s.health.deadline),
        fall: s.health.fall,
        rise: s.health.rise,
        replaceAfterMs: ms(s.health.replace_after),
        liveness: s.health.liveness,
        kind: healthKind ?? 'http',
        command: healthKind === 'exec' ? s.health.command! : null,
      },
      replicas: typeof s.replicas === 'number' ? s.replicas : s.replicas.min,
      keepScaledReplicas: typeof s.replicas !== 'number',
      stoppedReplicas: null,
      deploy: {
        strategy: s.deploy.strategy,
        keepWarmMs: ms(s.deploy.keep_warm),
        steps: s.deploy.steps.map((st) => ({ weight: st.weight, pauseMs: ms(st.pause) })),
        analysis: {
          intervalMs: ms(s.deploy.analysis.interval),
          minRequests: s.deploy.analysis.min_requests,
          maxErrorRate: s.deploy.analysis.max_error_rate,
          maxErrorRateIncrease: s.deploy.analysis.max_error_rate_increase,
          maxP99Ms: s.deploy.analysis.max_p99 === undefined ? null : ms(s.deploy.analysis.max_p99),
          maxP99Ratio: s.deploy.analysis.max_p99_ratio,
          p99ToleranceMs: ms(s.deploy.analysis.p99_tolerance),
          failureLimit: s.deploy.analysis.failure_limit,
        },
        maxSurge: s.deploy.max_surge,
        maxUnavailable: s.deploy.max_unavailable,
        drainTimeoutMs: ms(s.deploy.drain_timeout),
        stopTimeoutMs: ms(s.deploy.stop_timeout),
        smoke: s.deploy.smoke ? normalizeSmoke(s.deploy.smoke) : null,
      },
      env: Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, String(v)])),
      releaseCommand: s.release?.command ?? s.release_command ?? null,
      releaseTimeoutMs: ms(s.release_timeout),
      retention: { releases: s.retention.releases },
      uses: s.uses !== undefined ? normalizeUses(s.uses, accessories) : [],
      volumes: s.volumes?.length ? normalizeVolumes(s.volumes) : [],
      ...(s.resources !== undefined ? { resources: normalizeResources(s.resources) } : {}),
      ...(s.release !== undefined
        ? { release: { source: s.release.image !== undefined ? { kind: 'image' as const, ref: s.release.image } : { kind: 'build' as const, ...s.release.build! } } }
        : {}),
      ...(s.migrations !== undefined ? { migrations: { dir: s.migrations.dir ?? null, lintCommand: s.migrations.lint_command ?? null } } : {}),
      ...(written.alerts !== undefined || s.alerts !== undefined ? { alerts: combineAlertLayers(normalizeAlertRules(written.alerts ?? {}), normalizeAlertRules(s.alerts ?? {})) } : {}),
    };
  }
  return { project: written.project, env, environments, approval, services, ...(written.accessories !== undefined ? { accessories } : {}) };
}

function normalizeSmoke(smoke: NonNullable<ProjectConfigWritten['services'][string]['deploy']['smoke']>): SmokeConfig {
  return {
    requests: smoke.requests.map((r) => ({ path: r.path, expectStatus: r.expect ?? null, expectBody: r.expect_body ?? null })),
    through: smoke.through,
    windowMs: ms(smoke.window),
    intervalMs: ms(smoke.interval),
    timeoutMs: ms(smoke.timeout),
    rollback: smoke.rollback,
    maxErrorRate: smoke.max_error_rate,
    maxP99Ms: smoke.max_p99 === undefined ? null : ms(smoke.max_p99),
    minRequests: smoke.min_requests,
  };
}

function ms(v: string | number): number {
  return parseDuration(v)!; // validated by the schema
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}
