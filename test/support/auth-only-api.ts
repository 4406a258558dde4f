/**
 * API dependencies for in-process tests of authentication and authorisation (fastify.inject):
 * a real store, access and audit log; every handler dependency fails the test if it is reached,
 * so a test proves a call was refused before its handler ran.
 */
import assert from 'node:assert/strict';
import pino from 'pino';
import type { ApiDeps } from '../../src/api/api-deps';
import { FailureLimiter } from '../../src/api/rate-limit';
import type { Access } from '../../src/engine/access';
import { AuditLog } from '../../src/engine/audit-log';
import type { Store } from '../../src/core/ports/store';

export const unreachable = new Proxy({}, { get: () => () => assert.fail('the handler must not run') });

export function authOnlyDeps(store: Store, access: Access, overrides: Partial<Record<keyof ApiDeps, unknown>> = {}): ApiDeps {
  return {
    engine: unreachable,
    queries: unreachable,
    environments: unreachable,
    oneOffRuns: unreachable,
    serviceLogs: unreachable,
    accessories: unreachable,
    dbShell: unreachable,
    backups: unreachable,
    volumes: unreachable,
    baseImages: unreachable,
    sources: unreachable,
    secrets: unreachable,
    webhooks: unreachable,
    alerts: unreachable,
    maxSourceBytes: 1024,
    access,
    audit: new AuditLog(store, pino({ level: 'silent' })),
    authLimiter: new FailureLimiter(10, 60_000),
    health: async () => ({ ok: true, version: 'test', checks: {} }),
    metricsAccess: 'token',
    prometheus: { contentType: () => 'text/plain; version=0.0.4; charset=utf-8', render: async () => '' },
    logger: pino({ level: 'silent' }),
    ...overrides,
  } as unknown as ApiDeps;
}
