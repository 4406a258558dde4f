/** What the engine is given by the composition root: the ports and a logger. */
import type { Logger } from 'pino';
import type { ContextGuard } from '../core/ports/context-guard';
import type { Edge } from '../core/ports/edge';
import type { GitFetcher } from '../core/ports/git';
import type { HttpProbe } from '../core/ports/probe';
import type { ReleaseTraffic } from '../core/ports/release-traffic';
import type { Runtime } from '../core/ports/runtime';
import type { SecretCipher } from '../core/ports/secret-cipher';
import type { SourceArchives } from '../core/ports/source-archives';
import type { Store } from '../core/ports/store';
import type { Telemetry } from '../core/ports/telemetry';
import type { DiskGuard } from './disk-guard';

export interface EngineContext {
  store: Store;
  runtime: Runtime;
  edge: Edge;
  probe: HttpProbe;
  cipher: SecretCipher;
  sources: SourceArchives;
  git: GitFetcher;
  /** Checks build contexts and Dockerfiles (git checkouts, uploads) for symlinks before packing or building. */
  contexts: ContextGuard;
  logger: Logger;
  /** Loop timings for /metrics; absent in tests that do not measure. */
  telemetry?: Telemetry;
  /** Per-release request figures over recent windows (canary analysis); absent when request metrics are off. */
  traffic?: ReleaseTraffic;
  /** The low-disk guard (engine/disk-guard.ts): throws SLW_LOW_DISK; absent in tests that do not measure. */
  disk?: Pick<DiskGuard, 'assertRoom' | 'check'>;
}
