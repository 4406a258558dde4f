/**
 * The persisted record of a canary deployment: where it is (phase, step, weights), every
 * analysis window with its figures and verdict, and how it ended. Written on every change
 * (one store setting per deployment), so `status`, `deployment <id>` and a restarted control
 * plane all read the same facts; an index setting per service and environment names the
 * canary deployment that is running there.
 */
import { z } from 'zod';

const figuresSchema = z.strictObject({
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  errorRate: z.number().nullable(),
  p99Ms: z.number().nullable(),
});

export const canaryWindowSchema = z.strictObject({
  /** Window end (ISO). */
  at: z.string(),
  /** Window length, ms. */
  ms: z.number().nonnegative(),
  /** 1-based step the window belongs to. */
  step: z.number().int().positive(),
  canary: figuresSchema,
  stable: figuresSchema,
  verdict: z.enum(['pass', 'fail', 'inconclusive']),
  reasons: z.array(z.string()),
});
export type CanaryWindow = z.infer<typeof canaryWindowSchema>;

/**
 * starting: canary replicas being started (none in rotation yet); stepping: a step's weights
 * are applied; promoting: the rest of the new set is starting on standby; flipped: all traffic
 * is on the new release (the stable set is being retired); promoted / aborted: final.
 */
export const CANARY_PHASES = ['starting', 'stepping', 'promoting', 'flipped', 'promoted', 'aborted'] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];

export const canaryStateSchema = z.strictObject({
  deploymentId: z.string().min(1),
  release: z.number().int().positive(),
  stableRelease: z.number().int().positive(),
  phase: z.enum(CANARY_PHASES),
  /** 1-based current step; 0 before the first. */
  step: z.number().int().nonnegative(),
  steps: z.number().int().positive(),
  /** Percent of new requests the canary gets now (what the step asked for). */
  weight: z.number().nonnegative(),
  canaryReplicas: z.array(z.string()),
  stableReplicas: z.array(z.string()),
  /** When the current step's pause ends (ISO); null when not stepping or while paused. */
  stepEndsAt: z.string().nullable(),
  /** While paused: what was left of the step, ms. */
  pausedRemainingMs: z.number().nonnegative().nullable(),
  paused: z.boolean(),
  failures: z.number().int().nonnegative(),
  failureLimit: z.number().int().positive(),
  /** Every analysis window so far (at most MAX_WINDOWS, the oldest dropped). */
  windows: z.array(canaryWindowSchema),
  /** Why it ended, when it ended by abort or manual promotion. */
  outcome: z.string().nullable(),
  updatedAt: z.string(),
});
export type CanaryState = z.infer<typeof canaryStateSchema>;

export const MAX_WINDOWS = 200;

export function parseCanaryState(stored: string | null): CanaryState | null {
  if (!stored) return null;
  try {
    const parsed = canaryStateSchema.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A canary still owning a partial split (not final): what recovery must resolve. */
export function isCanaryActive(s: CanaryState): boolean {
  return s.phase !== 'promoted' && s.phase !== 'aborted';
}
