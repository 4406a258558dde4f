/**
 * Health of Slipway itself, for load balancers, init systems and monitors: `GET /livez`
 * (the process answers) and `GET /readyz` (each dependency answers within a short
 * timeout). Public: they reveal no more than whether a dependency is up, and a probe has
 * no token. The report has the shape monitoring tools already read:
 * `{"status":"healthy","version":"…","checks":{"docker":{"status":"pass","latency_ms":3}}}`.
 */
import { z } from 'zod';

export const READINESS_STATUSES = ['healthy', 'starting', 'degraded', 'unhealthy'] as const;

export const readinessCheck = z.strictObject({
  status: z.enum(['pass', 'fail']),
  latency_ms: z.number().int().nonnegative().describe('how long the check took (capped by its timeout)'),
  output: z.string().optional().describe('why it failed'),
});

export const readinessReport = z.strictObject({
  status: z
    .enum(READINESS_STATUSES)
    .describe('healthy: every check passes; starting: the control plane is still bringing live services back after its start (the `startup` check); degraded: a dependency fails, e.g. the edge while it is being restarted (200 only when healthy); unhealthy: the store fails'),
  version: z.string(),
  checks: z.record(z.string(), readinessCheck),
});
export type ReadinessReport = z.infer<typeof readinessReport>;

export const livenessReport = z.strictObject({ status: z.literal('alive'), version: z.string(), uptime_s: z.number().int().nonnegative() });
export type LivenessReport = z.infer<typeof livenessReport>;

/** Route-table entries (merged into ROUTES in routes.ts). */
export const READINESS_ROUTES = {
  'GET /livez': { summary: 'The control plane process answers (liveness); public', response: livenessReport },
  'GET /readyz': {
    summary: 'Readiness: store, Docker engine, edge runtime socket… each checked with a short timeout; 503 unless healthy; public',
    response: readinessReport,
    alsoOk: [503],
  },
};
