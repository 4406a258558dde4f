/**
 * Scheduled jobs: every service with a `schedule` whose release is live in an
 * environment runs as a one-off container of that release (its env and secrets) at
 * each cron tick (UTC). A tick that comes while the previous run of the same job is
 * still going is skipped and recorded as such: runs never overlap. Ticks missed while
 * the control plane was down are not caught up; runs it was watching when it stopped
 * are recorded as interrupted at the next start. A job whose live release in an environment
 * has `schedule: off` (slipway.yml, or that environment's override) is not scheduled there:
 * no run and no skipped tick is recorded (`slipway jobs` shows it as off); `slipway run`
 * still runs its release by hand.
 */
import { parseCron, type CronSchedule } from '../core/cron';
import type { Release, ServiceRef } from '../core/domain';
import { errorMessage } from '../core/errors';
import type { EngineContext } from './engine-context';
import { releaseEnvAndMask } from './replica-env';
import { jobFailedEvent } from './domain-events';
import { placeContainer } from './placement';

/** Output lines kept per run (the tail: where the reason for a failure usually is). */
const KEPT_LINES = 200;

interface Scheduled {
  releaseId: number;
  schedule: CronSchedule;
  nextAt: Date;
}

export class JobScheduler {
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private readonly scheduled = new Map<string, Scheduled>();
  /** key → id of the run in progress. */
  private readonly inProgress = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly opts: { tickMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    await this.markInterrupted();
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 500);
    this.timer.unref();
  }

  /** Stops scheduling; runs in progress finish on their own (or are marked interrupted next start). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Resolves when no run started by this scheduler is in progress (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inProgress.size > 0) await Promise.allSettled([...this.inProgress.values()]);
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    const started = performance.now();
    try {
      const now = new Date();
      const seen = new Set<string>();
      for (const { ref, release, key } of await this.liveJobs()) {
        seen.add(key);
        let entry = this.scheduled.get(key);
        if (!entry || entry.releaseId !== release.id) {
          // A new job or a new release: schedule from now on.
          const schedule = parseCron(release.config.schedule!);
          this.scheduled.set(key, { releaseId: release.id, schedule, nextAt: schedule.next(now) });
          continue;
        }
        if (now < entry.nextAt) continue;
        const scheduledAt = entry.nextAt;
        entry = { ...entry, nextAt: entry.schedule.next(now) };
        this.scheduled.set(key, entry);
        await this.fire(key, ref, release, scheduledAt);
      }
      for (const key of this.scheduled.keys()) if (!seen.has(key)) this.scheduled.delete(key);
    } catch (err) {
      this.ctx.logger.error({ err: errorMessage(err) }, 'job scheduler tick failed');
    } finally {
      this.ctx.telemetry?.loopDone('job-scheduler', (performance.now() - started) / 1000);
      this.ticking = false;
    }
  }

  private async fire(key: string, ref: ServiceRef, release: Release, scheduledAt: Date): Promise<void> {
    const { store } = this.ctx;
    const base = { serviceId: release.serviceId, environmentId: release.environmentId, releaseId: release.id, scheduledAt: scheduledAt.toISOString() };
    if (this.inProgress.has(key)) {
      const [current] = await store.listJobRuns({ environmentId: release.environmentId, serviceId: release.serviceId, status: 'running', limit: 1 });
      await store.createJobRun({ ...base, startedAt: null, status: 'skipped', note: `the previous run${current ? ` (#${current.id})` : ''} was still running` });
      this.ctx.logger.warn({ ...ref, scheduledAt }, 'scheduled job skipped: the previous run is still running');
      return;
    }
    const run = await store.createJobRun({ ...base, startedAt: new Date().toISOString(), status: 'running', note: null });
    const task = this.execute(run.id, ref, release).finally(() => this.inProgress.delete(key));
    this.inProgress.set(key, task);
  }

  private async execute(runId: number, ref: ServiceRef, release: Release): Promise<void> {
    const { store, runtime, logger } = this.ctx;
    const lines: string[] = [];
    try {
      const { env, mask } = await releaseEnvAndMask(this.ctx, ref, release);
      const result = await runtime.runOnce({
        kind: 'job',
        server: placeContainer(runtime),
        name: `${ref.project}-${ref.service}-${ref.env}-v${release.number}-job-${runId}`,
        image: release.imageDigest,
        env,
        labels: { ...ref, release: release.number, deployment: `job-${runId}` },
        argv: release.config.command ?? [],
        timeoutMs: release.config.jobTimeoutMs,
        onOutput: (line) => {
          lines.push(mask(line));
          if (lines.length > KEPT_LINES) lines.shift();
        },
      });
      const status = result.timedOut ? 'timed_out' : result.exitCode === 0 ? 'succeeded' : 'failed';
      const note = result.timedOut ? `killed after job_timeout (${Math.round(release.config.jobTimeoutMs / 1000)}s)` : null;
      await store.finishJobRun(runId, {
        status,
        exitCode: result.exitCode,
        note,
        output: lines.join('\n'),
        event: status === 'succeeded' ? undefined : jobFailedEvent(ref, { id: runId, status, exitCode: result.exitCode, note, release: release.number }),
      });
      logger.info({ ...ref, run: runId, status, exitCode: result.exitCode, durationMs: result.durationMs }, 'scheduled job finished');
    } catch (err) {
      await store
        .finishJobRun(runId, { status: 'failed', exitCode: null, note: errorMessage(err), output: lines.join('\n'), event: jobFailedEvent(ref, { id: runId, status: 'failed', exitCode: null, note: errorMessage(err), release: release.number }) })
        .catch(() => undefined);
      logger.error({ ...ref, run: runId, err: errorMessage(err) }, 'scheduled job could not run');
    }
  }

  /** Every job service with a live release that has a schedule (not off), in every project and environment. */
  private async liveJobs(): Promise<Array<{ ref: ServiceRef; release: Release; key: string }>> {
    const { store } = this.ctx;
    const out: Array<{ ref: ServiceRef; release: Release; key: string }> = [];
    for (const project of await store.listProjects()) {
      const jobs = (await store.listServices(project.id)).filter((s) => s.type === 'job');
      if (jobs.length === 0) continue;
      for (const env of await store.listEnvironments(project.id)) {
        for (const s of jobs) {
          const release = await store.getCurrentRelease(s.id, env.id);
          // No live release here, or `schedule: off` in this environment: nothing to run.
          if (!release || release.config.schedule === null) continue;
          out.push({ ref: { project: project.name, service: s.name, env: env.name }, release, key: `${s.id}:${env.id}` });
        }
      }
    }
    return out;
  }

  private async markInterrupted(): Promise<void> {
    const { store } = this.ctx;
    for (const project of await store.listProjects()) {
      for (const env of await store.listEnvironments(project.id)) {
        for (const run of await store.listJobRuns({ environmentId: env.id, status: 'running' })) {
          await store.finishJobRun(run.id, { status: 'interrupted', exitCode: null, note: 'the control plane stopped during this run', output: run.output });
        }
      }
    }
  }
}
