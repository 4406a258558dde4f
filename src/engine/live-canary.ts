/**
 * The live split of a canary in progress, as `status` shows it: the persisted record (step,
 * verdicts) joined with the edge's weights now and each side's figures over the last
 * analysis interval (from the ReleaseTraffic port).
 */
import type { CanaryState } from '../core/canary-state';
import type { LiveCanaryView } from '../core/contract/views';
import type { ServiceRef } from '../core/domain';
import type { EdgeServer } from '../core/ports/edge';
import type { Replica } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';

export function liveCanaryView(ctx: EngineContext, ref: ServiceRef, state: CanaryState, windowMs: number, replicas: Replica[], servers: Map<string, EdgeServer>, now = Date.now()): LiveCanaryView {
  const inRotation = (release: number) => replicas.filter((r) => r.labels.release === release).map((r) => servers.get(r.name)).filter((s): s is EdgeServer => s !== undefined && (s.state === 'ready' || s.state === 'standby'));
  const canaryServers = inRotation(state.release);
  const stableServers = inRotation(state.stableRelease);
  const weightOf = (list: EdgeServer[]) => list.reduce((sum, s) => sum + (s.state === 'ready' ? s.weight : 0), 0);
  const total = weightOf(canaryServers) + weightOf(stableServers);
  const side = (release: number, list: EdgeServer[]) => {
    const f = ctx.traffic?.window(ref, release, now - windowMs, now) ?? { requests: 0, errors: 0, errorRate: null, p99Ms: null };
    const w = weightOf(list);
    return { release, replicas: list.length, edgeWeight: w, sharePercent: total > 0 ? Math.round((10_000 * w) / total) / 100 : 0, ...f };
  };
  const last = state.windows.at(-1) ?? null;
  const judged = state.windows.filter((w) => w.verdict !== 'inconclusive');
  return {
    deploymentId: state.deploymentId,
    release: state.release,
    stableRelease: state.stableRelease,
    phase: state.phase,
    step: state.step,
    steps: state.steps,
    weight: state.weight,
    paused: state.paused,
    stepEndsAt: state.stepEndsAt,
    secondsToNextStep: state.stepEndsAt ? Math.max(0, Math.round((Date.parse(state.stepEndsAt) - now) / 1000)) : null,
    failures: state.failures,
    failureLimit: state.failureLimit,
    windowsJudged: judged.length,
    lastVerdict: last?.verdict ?? null,
    verdictSoFar: state.failures > 0 ? 'failing' : judged.length > 0 ? 'passing' : 'not judged yet',
    figuresSeconds: Math.round(windowMs / 1000),
    canary: side(state.release, canaryServers),
    stable: side(state.stableRelease, stableServers),
  };
}
