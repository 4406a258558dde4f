/**
 * `slipway run`: a one-off container of the service's live release, with its
 * environment, running the given argv; output is streamed and the exit code
 * returned (like `heroku run`). It never touches the edge or the replicas.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ServiceRef } from '../core/domain';
import { SlipwayError } from '../core/errors';
import type { OneOffResult } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';
import { releaseEnvAndMask } from './replica-env';
import { placeContainer } from './placement';

export interface OneOffRequest extends ServiceRef {
  argv: string[];
  timeoutMs: number;
  onOutput: (line: string, stream: 'stdout' | 'stderr') => void;
}

export class OneOffRuns {
  constructor(private readonly ctx: EngineContext) {}

  /** Resolves the live release first, so a bad request fails before any output is streamed. */
  async prepare(ref: ServiceRef): Promise<(req: OneOffRequest) => Promise<OneOffResult & { release: number }>> {
    const { store } = this.ctx;
    const project = await store.getProject(ref.project);
    const service = project ? await store.getService(project.id, ref.service) : null;
    const env = project ? await store.getEnvironment(project.id, ref.env) : null;
    if (!project || !service || !env) throw new SlipwayError('SLW_NOT_FOUND', `${ref.project}/${ref.service} has never been deployed to ${ref.env}`);
    const release = await store.getCurrentRelease(service.id, env.id);
    if (!release) throw new SlipwayError('SLW_NOT_FOUND', `${ref.service} has no live release in ${ref.env}: deploy it first`);
    const { env: containerEnv, mask } = await releaseEnvAndMask(this.ctx, ref, release);
    return async (req) => {
      const result = await this.ctx.runtime.runOnce({
        kind: 'run',
        server: placeContainer(this.ctx.runtime),
        name: `${ref.project}-${ref.service}-${ref.env}-v${release.number}-run-${randomBytes(3).toString('hex')}`,
        image: release.imageDigest,
        env: containerEnv,
        labels: { ...ref, release: release.number, deployment: `run-${randomUUID()}` },
        argv: req.argv,
        timeoutMs: req.timeoutMs,
        onOutput: (line, stream) => req.onOutput(mask(line), stream),
      });
      this.ctx.logger.info({ ...ref, argv0: req.argv[0], exitCode: result.exitCode, timedOut: result.timedOut }, 'one-off run finished');
      return { ...result, release: release.number };
    };
  }
}
