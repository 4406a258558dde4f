/**
 * In-process fan-out of deployment events (log lines, state changes) to live
 * subscribers such as SSE streams. The store stays the record; this is only the
 * push channel, so a subscriber that reconnects replays from the store.
 */
import { EventEmitter } from 'node:events';
import type { DeploymentLogLine, DeploymentState } from '../core/domain';

export type DeploymentEvent =
  | { type: 'log'; line: DeploymentLogLine }
  | { type: 'state'; deploymentId: string; state: DeploymentState; error: string | null };

/** Deployment ids are uuids, so this key never collides with one. */
const ALL = Symbol('all deployments');

export class DeploymentEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(deploymentId: string, event: DeploymentEvent): void {
    this.emitter.emit(deploymentId, event);
    this.emitter.emit(ALL, deploymentId, event);
  }

  /** Every deployment's events (metrics); returns the unsubscribe function. */
  subscribeAll(listener: (deploymentId: string, e: DeploymentEvent) => void): () => void {
    this.emitter.on(ALL, listener);
    return () => this.emitter.off(ALL, listener);
  }

  subscribe(deploymentId: string, listener: (e: DeploymentEvent) => void): () => void {
    this.emitter.on(deploymentId, listener);
    return () => this.emitter.off(deploymentId, listener);
  }
}
