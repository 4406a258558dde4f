import type { Logger } from 'pino';
import type { BaseImageFactory } from '../core/ports/base-images';
import type { SourceArchives } from '../core/ports/source-archives';
import type { HealthReport } from '../core/contract/views';
import type { DeployEngine } from '../engine/deploy-engine';
import type { Access } from '../engine/access';
import type { AuditLog } from '../engine/audit-log';
import type { Webhooks } from '../engine/webhooks';
import type { Notifier } from '../engine/notifier';
import type { FailureLimiter } from './rate-limit';
import type { Environments } from '../engine/environments';
import type { OneOffRuns } from '../engine/one-off-run';
import type { Queries } from '../engine/queries';
import type { Secrets } from '../engine/secrets';
import type { ServiceLogs } from '../engine/service-logs';

/** Everything the HTTP layer may call; built by src/main.ts. */
export interface ApiDeps {
  engine: DeployEngine;
  queries: Queries;
  environments: Environments;
  oneOffRuns: OneOffRuns;
  secrets: Secrets;
  serviceLogs: ServiceLogs;
  baseImages: BaseImageFactory;
  /** Uploaded build contexts. */
  sources: SourceArchives;
  /** Largest build context an upload may carry. */
  maxSourceBytes: number;
  health: () => Promise<HealthReport>;
  access: Access;
  audit: AuditLog;
  /** Failed sign-ins and bad tokens per client IP. */
  authLimiter: FailureLimiter;
  webhooks: Webhooks;
  notifier: Notifier;
  logger: Logger;
}
