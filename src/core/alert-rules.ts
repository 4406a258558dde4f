/**
 * Alert rules: what each one watches, its built-in defaults, its written form (slipway.yml's
 * `alerts:` and the server-wide defaults set through the API), and how the layers combine:
 * built-in ← server defaults (API) ← the project's `alerts:` ← the service's `alerts:`. A rule
 * written `off` is off from that layer up; an object changes only the fields it writes.
 *
 * Service rules are judged per live service; host rules per server, certificate or backup.
 */
import { z } from 'zod';
import { durationProblem, formatDuration, MAX_TIMER_MS, parseDuration } from './duration';

export const SERVICE_ALERT_RULES = ['error_rate', 'p99', 'crash_loop', 'oom'] as const;
export const HOST_ALERT_RULES = ['disk', 'memory', 'certificate', 'backup_verify', 'edge_down'] as const;
export const ALERT_RULES = [...SERVICE_ALERT_RULES, ...HOST_ALERT_RULES] as const;
export type ServiceAlertRule = (typeof SERVICE_ALERT_RULES)[number];
export type HostAlertRule = (typeof HOST_ALERT_RULES)[number];
export type AlertRuleName = (typeof ALERT_RULES)[number];

/** Every rule's settings, normalized (ratios 0–1, durations in ms). */
export interface AlertRuleSettings {
  /** 5xx share of the service's requests over the last `lookbackMs` above `above`, held for `forMs`. */
  error_rate: { above: number; forMs: number; minRequests: number; clearForMs: number };
  /** p99 of the edge's request time over the last `lookbackMs` above `aboveMs`, held for `forMs`. */
  p99: { aboveMs: number; forMs: number; minRequests: number; clearForMs: number };
  /** At least `restarts` repairs of the service's replicas within `withinMs` (a crash loop). */
  crash_loop: { restarts: number; withinMs: number };
  /** A replica killed by the OOM killer within `withinMs`. */
  oom: { withinMs: number };
  /** The data directory's filesystem fuller than `above`, held for `forMs`. */
  disk: { above: number; forMs: number; clearForMs: number };
  /** The host's memory in use above `above`, held for `forMs`. */
  memory: { above: number; forMs: number; clearForMs: number };
  /** A certificate that failed to be obtained or renewed `failures` times in a row. */
  certificate: { failures: number };
  /** The newest verified backup of an accessory failed its verification. */
  backup_verify: Record<never, never>;
  /** The edge down (not serving) for `forMs`. */
  edge_down: { forMs: number };
}

export type AlertRules<K extends AlertRuleName = AlertRuleName> = { [R in K]: AlertRuleSettings[R] | null };
/** One layer: per rule, off (null), some fields, or nothing said (absent). */
export type AlertRulesLayer = { [R in AlertRuleName]?: Partial<AlertRuleSettings[R]> | null };

const MINUTE = 60_000;

export const BUILTIN_ALERT_RULES: AlertRules = {
  error_rate: { above: 0.05, forMs: 10 * MINUTE, minRequests: 20, clearForMs: 5 * MINUTE },
  // No p99 by default: what is slow depends on the app (`p99: { above: 800ms }` turns it on).
  p99: null,
  crash_loop: { restarts: 3, withinMs: 10 * MINUTE },
  oom: { withinMs: 10 * MINUTE },
  disk: { above: 0.9, forMs: 5 * MINUTE, clearForMs: 5 * MINUTE },
  memory: { above: 0.95, forMs: 5 * MINUTE, clearForMs: 5 * MINUTE },
  certificate: { failures: 2 },
  backup_verify: {},
  edge_down: { forMs: 30_000 },
};

/** How far back the error rate and p99 look at each evaluation: the rule's `for`, at most a minute. */
export function lookbackMs(rule: { forMs: number }): number {
  return Math.min(Math.max(rule.forMs, 5000), MINUTE);
}

/** Layers merged over the built-in rules, lowest first. */
export function mergeAlertRules(...layers: Array<AlertRulesLayer | undefined>): AlertRules {
  const out: Record<string, unknown> = { ...BUILTIN_ALERT_RULES };
  for (const layer of layers) {
    if (!layer) continue;
    for (const rule of ALERT_RULES) {
      if (!(rule in layer)) continue;
      const v = layer[rule];
      if (v === null || v === undefined) out[rule] = null;
      // Turning a rule on (or changing fields) starts from what is on below it, else the built-in shape.
      else out[rule] = { ...(BUILTIN_FULL[rule] as object), ...((out[rule] as object | null) ?? {}), ...v };
    }
  }
  return out as AlertRules;
}

/** Two layers as one (`upper` over `lower`), for the project's `alerts:` under a service's own. */
export function combineAlertLayers(lower: AlertRulesLayer, upper: AlertRulesLayer): AlertRulesLayer {
  const out: Record<string, unknown> = { ...lower };
  for (const [rule, v] of Object.entries(upper)) {
    const below = out[rule];
    out[rule] = v === null || v === undefined || below === null || below === undefined ? v : { ...(below as object), ...v };
  }
  return out as AlertRulesLayer;
}

/** Every rule's full shape, for a rule turned on whose built-in is off (p99 needs its threshold written). */
const BUILTIN_FULL: AlertRuleSettings = {
  ...(BUILTIN_ALERT_RULES as AlertRuleSettings),
  p99: { aboveMs: 1000, forMs: 10 * MINUTE, minRequests: 20, clearForMs: 5 * MINUTE },
};

// --- Written form -------------------------------------------------------------------------

const dur = (example: string) =>
  z.union([z.string(), z.number()], { error: `must be a duration such as ${example}` }).superRefine((v, ctx) => {
    const problem = durationProblem(v, MAX_TIMER_MS, example);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** `5%` or a ratio 0–1 (as the canary analysis writes them). */
const share = z
  .union([z.number(), z.string()], { error: 'must be a share such as "5%" or 0.05' })
  .transform((v, ctx) => {
    const n = typeof v === 'number' ? v : /^\s*\d+(\.\d+)?\s*%\s*$/.test(v) ? Number(v.trim().replace(/\s*%$/, '')) / 100 : Number.NaN;
    if (!Number.isFinite(n) || n < 0 || n > 1) {
      ctx.addIssue({ code: 'custom', message: 'must be a share such as "5%" or a number between 0 and 1' });
      return z.NEVER;
    }
    return n;
  });

const count = (min: number, max: number) =>
  z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(min, { error: `must be between ${min} and ${max}` }).max(max, { error: `must be between ${min} and ${max}` });

/** `off` (or false) turns a rule off, `on` (or true) on with its defaults; an object sets some of its fields. */
function rule<T extends z.ZodRawShape>(shape: T, example: string) {
  const settings = z.strictObject(shape, { error: `must be off, on, or the rule's settings, e.g. ${example}` });
  return z.preprocess((v) => (v === 'off' || v === false ? null : v === 'on' || v === true ? {} : v), settings.nullable()).optional();
}

const timed = { for: dur('"10m"').optional().describe('how long the condition must hold before the alert fires'), clear_for: dur('"5m"').optional().describe('how long the condition must be gone before the alert resolves (hysteresis)') };

const writtenRules = {
  error_rate: rule(
    { above: share.optional().describe('5xx share of requests, e.g. "5%"'), min_requests: count(1, 1_000_000).optional().describe('fewer requests in the look-back window do not count as breached'), ...timed },
    '{ above: "5%", for: 10m, min_requests: 20 }',
  ).describe('5xx share of the service\'s requests at the edge'),
  p99: rule({ above: dur('"800ms"').optional().describe('p99 of the edge\'s request time'), min_requests: count(1, 1_000_000).optional(), ...timed }, '{ above: 800ms, for: 10m }').describe(
    'p99 latency of the service\'s requests at the edge (off unless written)',
  ),
  crash_loop: rule({ restarts: count(1, 1000).optional().describe('repairs of the service\'s replicas'), within: dur('"10m"').optional() }, '{ restarts: 3, within: 10m }').describe(
    'replicas replaced after dying, counted per service',
  ),
  oom: rule({ within: dur('"10m"').optional().describe('how long the alert stays after the last OOM kill') }, '{ within: 10m }').describe('a replica killed by the OOM killer'),
  disk: rule({ above: share.optional().describe('share of the data directory\'s filesystem in use'), ...timed }, '{ above: "90%", for: 5m }').describe('host disk (the data directory\'s filesystem)'),
  memory: rule({ above: share.optional().describe('share of the host\'s memory in use'), ...timed }, '{ above: "95%", for: 5m }').describe('host memory'),
  certificate: rule({ failures: count(1, 1000).optional().describe('failed attempts in a row') }, '{ failures: 2 }').describe('obtaining or renewing a certificate keeps failing'),
  backup_verify: rule({}, 'on').describe('the newest verification of a backup failed'),
  edge_down: rule({ for: dur('"30s"').optional() }, '{ for: 30s }').describe('the edge (HAProxy) is not serving'),
};

export const alertRulesSchema = z.strictObject(writtenRules).describe('alert rules: built-in defaults are listed in docs/alerts.md');

/** slipway.yml takes the service rules only: host rules are server-wide (`slipway alerts defaults`). */
export const serviceAlertRulesSchema = z
  .strictObject({ error_rate: writtenRules.error_rate, p99: writtenRules.p99, crash_loop: writtenRules.crash_loop, oom: writtenRules.oom })
  .describe('alert rules of the service (error_rate, p99, crash_loop, oom); host rules are server-wide: slipway alerts defaults');

export type AlertRulesWritten = z.output<typeof alertRulesSchema>;

const ms = (v: string | number | undefined) => (v === undefined ? undefined : parseDuration(v)!);

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The written rules (validated by alertRulesSchema or serviceAlertRulesSchema) as a layer. */
export function normalizeAlertRules(w: Partial<AlertRulesWritten>): AlertRulesLayer {
  const layer: AlertRulesLayer = {};
  for (const [name, v] of Object.entries(w) as Array<[AlertRuleName, Record<string, unknown> | null | undefined]>) {
    if (v === undefined) continue;
    if (v === null) {
      layer[name] = null;
      continue;
    }
    const t = { forMs: ms(v.for as string | undefined), clearForMs: ms(v.clear_for as string | undefined) };
    switch (name) {
      case 'error_rate':
        layer.error_rate = defined({ above: v.above as number | undefined, minRequests: v.min_requests as number | undefined, ...t });
        break;
      case 'p99':
        layer.p99 = defined({ aboveMs: ms(v.above as string | undefined), minRequests: v.min_requests as number | undefined, ...t });
        break;
      case 'crash_loop':
        layer.crash_loop = defined({ restarts: v.restarts as number | undefined, withinMs: ms(v.within as string | undefined) });
        break;
      case 'oom':
        layer.oom = defined({ withinMs: ms(v.within as string | undefined) });
        break;
      case 'disk':
      case 'memory':
        layer[name] = defined({ above: v.above as number | undefined, ...t });
        break;
      case 'certificate':
        layer.certificate = defined({ failures: v.failures as number | undefined });
        break;
      case 'backup_verify':
        layer.backup_verify = {};
        break;
      case 'edge_down':
        layer.edge_down = defined({ forMs: t.forMs });
        break;
    }
  }
  return layer;
}

/** A rule's settings in words, as `slipway alerts rules` prints them. */
export function describeRule(name: AlertRuleName, r: AlertRules[AlertRuleName]): string {
  if (r === null) return 'off';
  const pct = (x: number) => `${+(x * 100).toFixed(2)} %`;
  const s = r as Partial<AlertRuleSettings['error_rate'] & AlertRuleSettings['p99'] & AlertRuleSettings['crash_loop'] & AlertRuleSettings['certificate']>;
  switch (name) {
    case 'error_rate':
      return `5xx over ${pct(s.above!)} for ${formatDuration(s.forMs!)} (at least ${s.minRequests} requests; clears after ${formatDuration(s.clearForMs!)})`;
    case 'p99':
      return `p99 over ${s.aboveMs} ms for ${formatDuration(s.forMs!)} (at least ${s.minRequests} requests; clears after ${formatDuration(s.clearForMs!)})`;
    case 'crash_loop':
      return `${s.restarts} or more restarts within ${formatDuration(s.withinMs!)}`;
    case 'oom':
      return `an OOM kill within ${formatDuration(s.withinMs!)}`;
    case 'disk':
    case 'memory':
      return `over ${pct(s.above!)} for ${formatDuration(s.forMs!)} (clears after ${formatDuration(s.clearForMs!)})`;
    case 'certificate':
      return `${s.failures} failed attempts in a row`;
    case 'backup_verify':
      return 'the newest verification failed';
    case 'edge_down':
      return `down for ${formatDuration(s.forMs!)}`;
  }
}
