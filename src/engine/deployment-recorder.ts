/**
 * Everything a running deployment says goes through here: persisted in the store
 * first (so a crash loses nothing already reported), then logged and pushed to
 * live subscribers.
 */
import type { Logger } from 'pino';
import type { DeploymentState, LogLevel } from '../core/domain';
import type { DeploymentPatch, Store } from '../core/ports/store';
import { errorMessage } from '../core/errors';
import type { DeploymentEvents } from './deployment-events';

export class DeploymentRecorder {
  constructor(
    private readonly store: Store,
    private readonly events: DeploymentEvents,
    private readonly logger: Logger,
    readonly deploymentId: string,
  ) {}

  async log(message: string, level: LogLevel = 'info'): Promise<void> {
    const line = await this.store.appendLog(this.deploymentId, level, message);
    this.logger[level]({ deployment: this.deploymentId }, message);
    this.events.publish(this.deploymentId, { type: 'log', line });
  }

  async state(state: DeploymentState, patch: Omit<DeploymentPatch, 'state'> = {}): Promise<void> {
    const d = await this.store.updateDeployment(this.deploymentId, { ...patch, state });
    this.events.publish(this.deploymentId, { type: 'state', deploymentId: this.deploymentId, state, error: d.error });
  }

  /** Runs one persisted step: recorded before it starts and after it ends, with its outcome. */
  async step<T>(name: string, fn: () => Promise<T>, describe?: (result: T) => string): Promise<T> {
    const seq = await this.store.startStep(this.deploymentId, name);
    await this.log(`▶ ${name}`);
    const started = Date.now();
    try {
      const result = await fn();
      const detail = describe?.(result);
      await this.store.finishStep(this.deploymentId, seq, 'done', detail);
      await this.log(`✔ ${name}${detail ? `: ${detail}` : ''} (${Date.now() - started} ms)`);
      return result;
    } catch (err) {
      await this.store.finishStep(this.deploymentId, seq, 'failed', errorMessage(err));
      await this.log(`✘ ${name}: ${errorMessage(err)}`, 'error');
      throw err;
    }
  }
}
