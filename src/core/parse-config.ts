/**
 * slipway.yml text → normalized ProjectConfig, with errors returned as values.
 * Each error names the dotted path of the field and what is expected, e.g.
 * `services.web.health.path: must start with "/"`.
 */
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { projectConfigSchema, type ProjectConfigWritten } from './config-schema';
import type { ProjectConfig, ServiceConfig } from './config';
import { parseDuration } from './duration';
import type { ErrorDetail } from './errors';

export type ParseResult = { ok: true; config: ProjectConfig } | { ok: false; errors: ErrorDetail[] };

export function parseProjectConfig(text: string): ParseResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const line = e.linePos?.[0];
        return { path: line ? `line ${line.line}:${line.col}` : '(yaml)', message: firstLine(e.message) };
      }),
    };
  }
  return validateProjectConfig(doc.toJS());
}

export function validateProjectConfig(raw: unknown): ParseResult {
  if (raw === null || raw === undefined) {
    return { ok: false, errors: [{ path: '(root)', message: 'the file is empty; expected "project" and "services"' }] };
  }
  const result = projectConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) return { ok: false, errors: issuesToDetails(result.error.issues) };
  return { ok: true, config: normalize(result.data) };
}

export function formatErrors(errors: ErrorDetail[]): string {
  return errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('\n');
}

export function issuesToDetails(issues: z.core.$ZodIssue[]): ErrorDetail[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.') || '(root)';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      message = 'is required';
    }
    return { path, message };
  });
}

function normalize(written: ProjectConfigWritten): ProjectConfig {
  const services: Record<string, ServiceConfig> = {};
  for (const [name, s] of Object.entries(written.services)) {
    services[name] = {
      name,
      type: 'web',
      source: s.image !== undefined ? { kind: 'image', ref: s.image } : { kind: 'build', ...s.build! },
      port: s.port,
      domains: s.domains,
      health: {
        path: s.health.path,
        intervalMs: ms(s.health.interval),
        timeoutMs: ms(s.health.timeout),
        graceMs: ms(s.health.grace),
        successes: s.health.successes,
        deadlineMs: ms(s.health.deadline),
      },
      replicas: s.replicas,
      deploy: {
        strategy: s.deploy.strategy,
        maxSurge: s.deploy.max_surge,
        maxUnavailable: s.deploy.max_unavailable,
        drainTimeoutMs: ms(s.deploy.drain_timeout),
        stopTimeoutMs: ms(s.deploy.stop_timeout),
      },
      env: Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, String(v)])),
      releaseCommand: s.release_command ?? null,
      releaseTimeoutMs: ms(s.release_timeout),
    };
  }
  return { project: written.project, services };
}

function ms(v: string | number): number {
  return parseDuration(v)!; // validated by the schema
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}
