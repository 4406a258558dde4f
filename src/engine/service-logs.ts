/** Container logs of a service's replicas, optionally followed. */
import type { ServiceRef } from '../core/domain';
import type { LogEntry, LogOptions, Runtime } from '../core/ports/runtime';

export class ServiceLogs {
  constructor(private readonly runtime: Runtime) {}

  stream(ref: ServiceRef, opts: LogOptions & { release?: number }): AsyncIterable<LogEntry> {
    return this.runtime.logs({ project: ref.project, service: ref.service, env: ref.env, release: opts.release }, opts);
  }
}
