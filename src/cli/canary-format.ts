/** How the CLI prints a canary: the live split in `status`, the analysis windows in `deployment <id>`. */
import type { DeploymentView, LiveCanaryView } from '../core/contract/views';

type Figures = { requests: number; errors: number; errorRate: number | null; p99Ms: number | null };

const rate = (f: Figures) => (f.errorRate === null ? '–' : `${(f.errorRate * 100).toFixed(1)} %`);
const p99 = (f: Figures) => (f.p99Ms === null ? '–' : `${f.p99Ms} ms`);

/** Lines under a service in `slipway status`. */
export function liveCanaryLines(c: LiveCanaryView, service: string): string[] {
  const when = c.paused ? 'paused' : c.secondsToNextStep !== null ? `next ${c.step < c.steps ? 'step' : 'promotion'} in ${c.secondsToNextStep}s` : c.phase;
  const side = (name: string, s: LiveCanaryView['canary']) =>
    `    ${name} v${s.release}: ${s.replicas} replica(s), weight ${s.edgeWeight} (${s.sharePercent} %), last ${c.figuresSeconds}s: ${s.requests} req, ${s.errors} 5xx (${rate(s)}), p99 ${p99(s)}`;
  return [
    `  canary: v${c.release} at step ${c.step}/${c.steps} (${c.weight} %), ${when}; verdict so far: ${c.verdictSoFar} (${c.windowsJudged} window(s) judged, ${c.failures}/${c.failureLimit} failing${c.lastVerdict ? `, last ${c.lastVerdict}` : ''})`,
    side('canary', c.canary),
    side('stable', c.stable),
    `    "slipway deploy pause|resume|promote|abort ${c.deploymentId}" controls it (service ${service})`,
  ];
}

/** The analysis windows of a canary deployment, one line each. */
export function canaryWindowLines(d: DeploymentView): string[] {
  const c = d.canary;
  if (!c) return [];
  const lines = [`canary v${c.release} vs v${c.stableRelease}: ${c.phase}, step ${c.step}/${c.steps}, ${c.failures}/${c.failureLimit} failing window(s)${c.outcome ? ` — ${c.outcome}` : ''}`];
  for (const w of c.windows) {
    lines.push(
      `  ${new Date(w.at).toLocaleTimeString()} step ${w.step} ${(w.ms / 1000).toFixed(1)}s  canary ${w.canary.requests} req ${rate(w.canary)} p99 ${p99(w.canary)} | stable ${w.stable.requests} req ${rate(w.stable)} p99 ${p99(w.stable)}  ${w.verdict}${w.reasons.length ? `: ${w.reasons.join('; ')}` : ''}`,
    );
  }
  return lines;
}
