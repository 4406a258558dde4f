/**
 * Pure planning of image retention: which image digests of one service+environment may be
 * removed after a deployment. Decided by digest, over every release Slipway knows (all
 * projects, services and environments), because a promotion copies a digest into another
 * environment and two services may run one image: a digest goes only when no release within
 * its own retention, and nothing live, warm, canary or pending, still uses it.
 */

/** Releases kept per service and environment when slipway.yml says nothing. */
export const DEFAULT_RETAINED_RELEASES = 10;

/** One release as the planner needs it. */
export interface RetentionRelease {
  /** Identifies the service+environment (e.g. `${serviceId}:${environmentId}`). */
  scope: string;
  number: number;
  imageDigest: string;
}

export interface RetentionInput {
  /** The service+environment that just deployed: only its old images are candidates. */
  scope: string;
  /** Every release of every service+environment (the target's included). */
  releases: readonly RetentionRelease[];
  /** Releases kept per scope (the newest N by number); a scope missing here keeps the default. */
  retained: ReadonlyMap<string, number> | ((scope: string) => number);
  /**
   * Digests something still needs whatever their age: the live release of every service+env,
   * warm sets, canaries and running deployments, deployments awaiting approval, and the images
   * of existing containers.
   */
  protectedDigests: Iterable<string>;
}

export interface RetentionPlan {
  /** Digests to remove, oldest release first; each appears once. */
  remove: string[];
  /** Release numbers of the target scope whose images go (for the log). */
  releases: number[];
}

/** The newest `n` releases of each scope are within retention. */
function retainedOf(input: RetentionInput, scope: string): number {
  const n = typeof input.retained === 'function' ? input.retained(scope) : input.retained.get(scope);
  return n === undefined || !Number.isInteger(n) || n < 1 ? DEFAULT_RETAINED_RELEASES : n;
}

export function planImageRetention(input: RetentionInput): RetentionPlan {
  const byScope = new Map<string, RetentionRelease[]>();
  for (const r of input.releases) {
    const list = byScope.get(r.scope) ?? [];
    list.push(r);
    byScope.set(r.scope, list);
  }
  const keep = new Set<string>(input.protectedDigests);
  const candidates: RetentionRelease[] = [];
  for (const [scope, list] of byScope) {
    const sorted = [...list].sort((a, b) => b.number - a.number);
    const n = retainedOf(input, scope);
    for (const r of sorted.slice(0, n)) keep.add(r.imageDigest);
    if (scope === input.scope) candidates.push(...sorted.slice(n));
  }
  const remove: string[] = [];
  const releases: number[] = [];
  for (const r of candidates.sort((a, b) => a.number - b.number)) {
    if (keep.has(r.imageDigest)) continue;
    releases.push(r.number);
    if (!remove.includes(r.imageDigest)) remove.push(r.imageDigest);
  }
  return { remove, releases };
}

/** Every `sha256:` digest found in a stored plan (a deployment awaiting approval), wherever it sits. */
export function digestsIn(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    if (/^sha256:[0-9a-f]{64}$/.test(value)) found.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) digestsIn(v, found);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) digestsIn(v, found);
  }
  return found;
}
