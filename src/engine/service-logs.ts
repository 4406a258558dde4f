/**
 * Container logs of a service's replicas, optionally followed. Values of the
 * environment's secrets are masked on the way out: an app that prints its
 * configuration must not leak it through `slipway logs`.
 */
import type { ServiceRef } from '../core/domain';
import type { LogEntry, LogOptions } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';
import { openSecrets, secretMasker } from './secret-values';

export class ServiceLogs {
  constructor(private readonly ctx: EngineContext) {}

  async *stream(ref: ServiceRef, opts: LogOptions & { release?: number }): AsyncIterable<LogEntry> {
    const mask = secretMasker(await this.secretValues(ref));
    for await (const entry of this.ctx.runtime.logs({ project: ref.project, service: ref.service, env: ref.env, release: opts.release }, opts)) {
      yield { ...entry, line: mask(entry.line) };
    }
  }

  /** Every value the environment ever had: old replicas may still run with older versions. */
  private async secretValues(ref: ServiceRef): Promise<string[]> {
    const { store } = this.ctx;
    const project = await store.getProject(ref.project);
    const env = project ? await store.getEnvironment(project.id, ref.env) : null;
    const latest = env ? await store.getSecrets(env.id) : null;
    if (!env || !latest) return [];
    const values: string[] = [];
    // Versions are numbered 1…latest without gaps (each change adds latest + 1).
    for (let v = 1; v <= latest.version; v++) values.push(...Object.values(await openSecrets(this.ctx, env.id, v)));
    return values;
  }
}
