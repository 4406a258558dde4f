/**
 * The warm set: after a blue-green flip, the replicas of the release that served before it
 * keep running at the edge on standby (weight 0) until `retireAt`, so a rollback to that
 * release within the window is a flip back instead of a new rollout. One per service and
 * environment; persisted so a restarted control plane keeps it until `retireAt` and then
 * retires it (never leaves it running forever).
 */
import { z } from 'zod';
import type { DeployConfig } from './config';

/** `keep_warm` of releases recorded before blue-green existed. */
export const DEFAULT_KEEP_WARM_MS = 5 * 60_000;

export const warmSetSchema = z.strictObject({
  /** Release number the warm replicas run. */
  release: z.number().int().positive(),
  /** The deployment whose flip left it warm (its log gets the retirement lines). */
  deploymentId: z.string().min(1),
  /** When traffic left it (ISO). */
  since: z.string(),
  /** When it is drained and stopped (ISO). */
  retireAt: z.string(),
});
export type WarmSet = z.infer<typeof warmSetSchema>;

/**
 * How long the set a flip took traffic away from stays warm: the `keep_warm` of the release
 * traffic went to when that one is blue-green (a deploy), otherwise the one it came from (a
 * rollback that flipped back from a blue-green release to one deployed otherwise).
 */
export function keepWarmMs(to: DeployConfig, from: DeployConfig | null): number {
  if (to.strategy === 'blue-green') return to.keepWarmMs;
  if (from?.strategy === 'blue-green') return from.keepWarmMs;
  return to.keepWarmMs;
}

export function warmSetFor(release: number, deploymentId: string, flippedAt: Date, keepMs: number): WarmSet {
  return { release, deploymentId, since: flippedAt.toISOString(), retireAt: new Date(flippedAt.getTime() + keepMs).toISOString() };
}

export function isExpired(warm: WarmSet, now: Date): boolean {
  return now.getTime() >= Date.parse(warm.retireAt);
}

/** The stored form (JSON) back to a WarmSet; null for none, an empty value, or anything malformed. */
export function parseWarmSet(stored: string | null): WarmSet | null {
  if (!stored) return null;
  try {
    const parsed = warmSetSchema.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
