/**
 * Manual control of running canaries (`slipway deploy pause|resume|promote|abort`): the API
 * hands a command to the canary loop of the deployment through here. In memory, because the
 * loop that obeys it runs in this process; a command for a deployment whose canary is not
 * running here is refused (after a restart, recovery has already aborted it).
 */
import { SlipwayError } from '../core/errors';

export const CANARY_COMMANDS = ['pause', 'resume', 'promote', 'abort'] as const;
export type CanaryCommand = (typeof CANARY_COMMANDS)[number];

export interface CanaryCommandBox {
  /** Commands not yet taken, in order. */
  take(): CanaryCommand[];
  /** Resolves after `ms`, or as soon as a command arrives. */
  wait(ms: number): Promise<void>;
}

class Box implements CanaryCommandBox {
  private pending: CanaryCommand[] = [];
  private wake: (() => void) | null = null;

  push(cmd: CanaryCommand): void {
    this.pending.push(cmd);
    this.wake?.();
  }

  take(): CanaryCommand[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }

  wait(ms: number): Promise<void> {
    if (this.pending.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}

export class CanaryControls {
  private readonly boxes = new Map<string, Box>();

  register(deploymentId: string): CanaryCommandBox {
    const box = new Box();
    this.boxes.set(deploymentId, box);
    return box;
  }

  unregister(deploymentId: string): void {
    this.boxes.delete(deploymentId);
  }

  send(deploymentId: string, cmd: CanaryCommand): void {
    const box = this.boxes.get(deploymentId);
    if (!box) throw new SlipwayError('SLW_CONFLICT', `deployment ${deploymentId} has no canary in progress (it is not a canary, it has not reached its first step yet, or it has ended)`);
    box.push(cmd);
  }

  has(deploymentId: string): boolean {
    return this.boxes.has(deploymentId);
  }
}
