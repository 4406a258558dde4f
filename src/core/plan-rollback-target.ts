/**
 * Which release a rollback goes to, from the service's releases and deployments. A release
 * "went live" when a deployment of it succeeded; one whose deployment failed readiness, was
 * cancelled, interrupted or aborted as a canary never served, so a rollback with no version
 * skips it (going there would only wait for a readiness that never came before), and asking
 * for it by number needs `force`.
 */
import type { DeploymentKind, DeploymentState } from './domain';
import { ACTIVE_STATES } from './domain';

/** live: the current release; was_live: replaced by a later deploy; rolled_back: left by a rollback; never_live: no deployment of it succeeded; deploying: its deployment runs. */
export type ReleaseOutcome = 'live' | 'was_live' | 'rolled_back' | 'never_live' | 'deploying';

export interface ReleaseFact {
  id: number;
  number: number;
  /** Runs no replica (a `slipway stop` release): never a default target, a rollback does not stop a service. */
  stopped?: boolean;
}

export interface DeploymentFact {
  releaseId: number | null;
  kind: DeploymentKind;
  state: DeploymentState;
  createdAt: string;
  finishedAt: string | null;
}

export interface ReleaseHistory {
  outcome: ReleaseOutcome;
  /** A deployment of it succeeded (or it is the current release). */
  wentLive: boolean;
  /** When its last live period ended (another release's deployment succeeded); null if live now or never live. */
  liveUntil: string | null;
}

/** Each release's outcome, derived from the deployments (any order) and the current release. */
export function releaseHistories(releases: readonly ReleaseFact[], deployments: readonly DeploymentFact[], currentId: number | null): Map<number, ReleaseHistory> {
  const succeeded = deployments
    .filter((d) => d.state === 'succeeded' && d.releaseId !== null)
    .map((d) => ({ ...d, at: d.finishedAt ?? d.createdAt }))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  // Walk the successes in time order: each one that changes the live release ends the previous one's period.
  const ended = new Map<number, { at: string; byRollback: boolean }>();
  let live: number | null = null;
  for (const d of succeeded) {
    if (live !== null && d.releaseId !== live) ended.set(live, { at: d.at, byRollback: d.kind === 'rollback' });
    live = d.releaseId;
  }
  const wentLive = new Set(succeeded.map((d) => d.releaseId!));
  const running = new Set(deployments.filter((d) => ACTIVE_STATES.includes(d.state) && d.releaseId !== null).map((d) => d.releaseId!));
  const out = new Map<number, ReleaseHistory>();
  for (const r of releases) {
    if (r.id === currentId) out.set(r.id, { outcome: 'live', wentLive: true, liveUntil: null });
    else if (wentLive.has(r.id)) {
      const end = ended.get(r.id);
      out.set(r.id, { outcome: end?.byRollback ? 'rolled_back' : 'was_live', wentLive: true, liveUntil: end?.at ?? null });
    } else out.set(r.id, { outcome: running.has(r.id) ? 'deploying' : 'never_live', wentLive: false, liveUntil: null });
  }
  return out;
}

export type RollbackTarget<R extends ReleaseFact> =
  | { ok: true; release: R; why: string }
  | { ok: false; code: 'SLW_NOT_FOUND' | 'SLW_CONFLICT'; message: string };

/**
 * With no `requested` number: the newest release numbered below the live one that went live and
 * runs replicas (a release `slipway stop` made is skipped: rolling back never stops a service).
 * With one: that release, refused (SLW_CONFLICT) if it never went live unless `force`.
 * `why` says which and why, for the deployment's log and the CLI.
 */
export function planRollbackTarget<R extends ReleaseFact>(input: {
  service: string;
  env: string;
  releases: readonly R[];
  deployments: readonly DeploymentFact[];
  currentId: number | null;
  requested?: number;
  force?: boolean;
}): RollbackTarget<R> {
  const { service, env, releases, currentId } = input;
  const history = releaseHistories(releases, input.deployments, currentId);
  const current = releases.find((r) => r.id === currentId) ?? null;
  const liveUntil = (r: R) => {
    const at = history.get(r.id)?.liveUntil;
    return at ? `live until ${at}` : 'was live';
  };
  if (input.requested !== undefined) {
    const release = releases.find((r) => r.number === input.requested);
    if (!release) return { ok: false, code: 'SLW_NOT_FOUND', message: `release v${input.requested} of ${service} does not exist in ${env}` };
    const h = history.get(release.id)!;
    if (h.wentLive) return { ok: true, release, why: `rolling back to v${release.number} (${release.id === currentId ? 'the live release' : liveUntil(release)})` };
    if (!input.force) {
      return {
        ok: false,
        code: 'SLW_CONFLICT',
        message: `v${release.number} of ${service} never went live in ${env} (${h.outcome === 'deploying' ? 'its deployment is still running' : 'no deployment of it succeeded'}); to roll back to it anyway, use --force (API: "force": true)`,
      };
    }
    return { ok: true, release, why: `rolling back to v${release.number} (never went live; forced)` };
  }
  if (!current) return { ok: false, code: 'SLW_NOT_FOUND', message: `${service} has no live release in ${env} to roll back from` };
  const earlier = releases.filter((r) => r.number < current.number).sort((a, b) => b.number - a.number);
  const target = earlier.find((r) => history.get(r.id)!.wentLive && !r.stopped);
  const skipped = earlier.filter((r) => !target || r.number > target.number);
  const list = (rs: R[]) => rs.map((r) => `v${r.number}`).join(', ');
  const neverLive = skipped.filter((r) => !history.get(r.id)!.wentLive);
  const stops = skipped.filter((r) => history.get(r.id)!.wentLive);
  const never = `${neverLive.length > 0 ? `; ${list(neverLive)} never went live` : ''}${stops.length > 0 ? `; ${list(stops)} stopped the service (slipway stop)` : ''}`;
  if (!target) {
    return {
      ok: false,
      code: 'SLW_NOT_FOUND',
      message: earlier.length === 0
        ? `${service} has no release before v${current.number} in ${env}`
        : `${service} has no release before v${current.number} in ${env} that went live${never}; name one with --force to roll back to it anyway`,
    };
  }
  return { ok: true, release: target, why: `rolling back to v${target.number} (${liveUntil(target)}${never})` };
}
