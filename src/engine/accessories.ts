/**
 * The accessory manager: an environment's stateful singletons (Postgres, Redis, NATS, any
 * container with a volume). Never rolled: a changed accessory is recreated (stop → start →
 * ready; never two containers on one volume), an unchanged one is left running. Work on one
 * environment is serialized (an in-process queue per environment id), so the services of
 * one deploy may all call ensure() at once and the later ones find everything unchanged.
 * Credential values go to containers, Postgres provisioning and services' connection
 * variables only; every text relayed from a container is masked.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isBuiltInKind, postgresProvisioning, POSTGRES_SUPERUSER, ACCESSORY_KINDS, connectionVars, credentialValues as credsValues, type AccessoryCredentials } from '../core/accessory-kinds';
import type { AccessoryConfig, ProjectConfig, ServiceUse } from '../core/config';
import type { AccessoryView } from '../core/contract/views';
import type { AccessoryRecord, Environment, EventType, Project } from '../core/domain';
import { errorMessage, isSlipwayError, SlipwayError } from '../core/errors';
import type { AccessoryImages } from '../core/ports/accessory-images';
import type { PostgresAdmin } from '../core/ports/postgres-admin';
import type { AccessoryContainer, LogEntry, LogOptions } from '../core/ports/runtime';
import { addAccessoryCredentials, generateAccessoryCredentials, openAccessoryCredentials, rotatedCredentials } from './accessory-credentials';
import { checkAccessoryOnce, waitForAccessoryReady } from './accessory-readiness';
import { accessorySpecHash, describeAccessoryChange, desiredAccessorySpec } from './accessory-spec';
import type { EngineContext } from './engine-context';
import { HEALTHY_RESET_MS, nextRepairAt } from './reconciler';
import { dropRestoreMark, interruptedRestore, restoreInterrupted } from './restore-marker';
import { secretMasker } from './secret-values';
import { PGBACKREST_LOCKED, pgBackRest } from './pg-in-container';
import { placeContainer } from './placement';

export interface AccessoryDeps {
  ctx: EngineContext;
  images: AccessoryImages;
  postgres: PostgresAdmin;
  /** Test hook: waits between readiness checks. */
  sleep?: (ms: number) => Promise<void>;
  /** Test hook: the clock of heal()'s backoff (default Date.now). */
  now?: () => number;
}
export type AccessoryLog = (line: string, level?: 'info' | 'warn' | 'error') => Promise<void>;
export interface AccessoryOutcome {
  name: string;
  action: 'started' | 'unchanged' | 'recreated' | 'restarted';
  detail: string;
}

/** Log lines of a failed accessory relayed into the deployment log. */
const FAILURE_LOG_LINES = 20;
/** A record saved before its container ever became ready: heal() leaves it alone. */
const NEVER_STARTED = '';
/** How long the read side trusts one readiness answer (the dashboard polls every 10 s). */
const READY_CACHE_MS = 5000;

interface Target {
  project: string;
  env: { id: number; name: string };
}

export class Accessories {
  private readonly ctx: EngineContext;
  /** Tail of each environment's queue. */
  private readonly queues = new Map<number, Promise<unknown>>();
  /** Environments with work running or queued (heal skips them). */
  private readonly busy = new Map<number, number>();
  /** The read side's recent readiness answers, by container id (readyNow). */
  private readonly readiness = new Map<string, { ready: boolean; at: number }>();
  /**
   * heal()'s restarts per accessory (`<env id>:<name>`) while it keeps dying, and when the last
   * one started: backs off like service repairs (reconciler.ts: 15 s doubling to 10 min),
   * forgotten once it has kept running HEALTHY_RESET_MS after the last one.
   */
  private readonly healAttempts = new Map<string, { count: number; lastAt: number }>();

  constructor(private readonly deps: AccessoryDeps) {
    this.ctx = deps.ctx;
  }

  async ensure(project: string, env: { id: number; name: string }, config: ProjectConfig, log: AccessoryLog): Promise<AccessoryOutcome[]> {
    return this.serial(env.id, async () => {
      const wanted = Object.values(config.accessories ?? {});
      const records = await this.ctx.store.listAccessories(env.id);
      // Before anything changes: an accessory's data and credentials belong to the kind it was created as.
      for (const r of records) {
        const cfg = config.accessories?.[r.name];
        if (cfg && cfg.kind !== r.kind) throw kindChanged(project, env.name, r, cfg);
        const interrupted = await interruptedRestore(this.ctx.store, env.id, r.name);
        if (interrupted) throw restoreInterrupted(env.name, r.name, interrupted.since);
      }
      for (const r of records) {
        if (config.accessories?.[r.name]) continue;
        await log(`accessory ${r.name} is no longer in slipway.yml: left running with its data (remove it with "slipway env destroy" or by hand)`, 'warn');
      }
      if (wanted.length === 0) return [];
      await this.ctx.runtime.ensureEnvNetwork(project, env.name);
      const outcomes: AccessoryOutcome[] = [];
      for (const cfg of wanted) {
        const users = Object.entries(config.services)
          .filter(([, s]) => s.uses.some((u) => u.accessory === cfg.name))
          .map(([name]) => name)
          .sort();
        outcomes.push(await this.ensureOne({ project, env }, cfg, users, log));
      }
      return outcomes;
    });
  }

  private async ensureOne(t: Target, declared: AccessoryConfig, users: string[], log: AccessoryLog): Promise<AccessoryOutcome> {
    const { store } = this.ctx;
    let cfg = declared;
    let masked = (s: string) => s;
    /** Set once a recreate stopped the previous (started) container: a failure then brings that one back. */
    let restore: { container: AccessoryContainer | null } | null = null;
    try {
      const image = await this.image(cfg, log);
      const imageDigest = image.id;
      // A built-in image is recorded (and shown) under its tag on this host: SLIPWAY_ACCESSORY_IMAGE_PREFIX may name another repository than slipway/.
      if (cfg.builtIn && image.ref !== cfg.image) cfg = { ...cfg, image: image.ref };
      let record = await store.getAccessory(t.env.id, cfg.name);
      if (!record) {
        record = await store.saveAccessory({ environmentId: t.env.id, name: cfg.name, kind: cfg.kind, config: cfg, imageDigest, specHash: NEVER_STARTED });
      }
      if (record.credentialsVersion === 0 && cfg.kind !== 'container') {
        const version = await generateAccessoryCredentials(this.ctx, record.id, cfg.kind);
        record = { ...record, credentialsVersion: version };
        await log(`accessory ${cfg.name}: credentials generated (version ${version})`);
      }
      const creds = await openAccessoryCredentials(this.ctx, record.id, record.credentialsVersion, { name: cfg.name, kind: cfg.kind });
      masked = secretMasker(credsValues(creds));
      const hash = accessorySpecHash({ config: cfg, imageDigest, creds });
      const existing = await this.containers(t, cfg.name);
      const current = existing.find((c) => c.labels.spec === hash && c.state === 'running');
      let action: AccessoryOutcome['action'];
      let detail: string;
      let container: AccessoryContainer;
      if (current && existing.length === 1) {
        action = 'unchanged';
        detail = 'running, unchanged';
        container = current;
      } else {
        if (existing.length === 0) {
          action = record.specHash === NEVER_STARTED ? 'started' : 'restarted';
          detail = action === 'started' ? `started ${cfg.image}` : 'its container was missing: started again';
        } else if (existing.some((c) => c.labels.spec === hash)) {
          action = 'restarted';
          detail = `its container was ${existing[0]!.state}: started again`;
        } else {
          action = 'recreated';
          const why = describeAccessoryChange(record.specHash === NEVER_STARTED ? null : record, { config: cfg, imageDigest });
          detail = `recreated: ${why.length ? why.join('; ') : 'credentials or container settings changed'}`;
          await log(`accessory ${cfg.name}: ${detail}; stopping it (its data stays on its volumes)${users.length ? `; used by ${users.join(', ')}, which lose their connections until it is ready` : ''}`, 'warn');
        }
        for (const c of existing) await this.ctx.runtime.stopAccessory(c.id, (record.config ?? cfg).stopTimeoutMs);
        if (action === 'recreated' && record.specHash !== NEVER_STARTED) restore = { container: null };
        container = await this.ctx.runtime.startAccessory(desiredAccessorySpec({ project: t.project, env: t.env.name, server: placeContainer(this.ctx.runtime), config: cfg, imageDigest, creds }));
        if (restore) restore.container = container;
      }
      await this.ready(container, cfg, creds, masked, log);
      await this.provision(container, cfg, creds, log);
      await store.saveAccessory({ environmentId: t.env.id, name: cfg.name, kind: cfg.kind, config: cfg, imageDigest, specHash: hash });
      if (action === 'recreated' || action === 'restarted') await this.event(`accessory.${action}`, t, cfg.name, detail);
      await log(`accessory ${cfg.name}: ${action === 'unchanged' ? 'running, unchanged, ready' : `${detail}; ready`}`);
      return { name: cfg.name, action, detail };
    } catch (err) {
      if (restore) await this.restorePrevious(t, cfg, restore.container, masked(errorMessage(err)), masked, log);
      if (isSlipwayError(err) && (err.code === 'SLW_HEALTH_FAILED' || err.code === 'SLW_NOT_FOUND' || err.code === 'SLW_BUILD_FAILED' || err.code === 'SLW_INTERNAL')) {
        throw new SlipwayError(err.code, masked(err.message), err.details);
      }
      throw new SlipwayError('SLW_DEPLOY_FAILED', `accessory ${cfg.name}: ${masked(errorMessage(err))}`, [{ path: `accessories.${cfg.name}`, message: 'could not be started' }]);
    }
  }

  /**
   * A recreate failed after the previous container was stopped: the new one goes and the
   * previous one (the record: its config and image digest) runs again, so the accessory is not
   * left down; the deployment still fails (the caller rethrows). Never throws.
   */
  private async restorePrevious(t: Target, cfg: AccessoryConfig, failed: AccessoryContainer | null, why: string, mask: (s: string) => string, log: AccessoryLog): Promise<void> {
    try {
      if (failed) await this.ctx.runtime.stopAccessory(failed.id, cfg.stopTimeoutMs);
      await this.restartFromRecord(t, cfg.name, 'back to its previous configuration', log);
      await log(`accessory ${cfg.name}: the new container failed (${why}); the previous one runs again`, 'warn');
    } catch (restoreErr) {
      await log(
        `accessory ${cfg.name}: the new container failed (${why}), and the previous one could not be started again either (${mask(errorMessage(restoreErr))}): ${cfg.name} is down until the reconciler or the next deploy starts it`,
        'error',
      );
    }
  }

  /** The image's tag and content address: built-in ones built on first use (output streamed), `image:` ones must be on the host. */
  private async image(cfg: AccessoryConfig, log: AccessoryLog): Promise<{ ref: string; id: string }> {
    if (cfg.builtIn && isBuiltInKind(cfg.kind)) {
      let lines: Promise<void> = Promise.resolve();
      const img = await this.deps.images.ensure(cfg.kind, cfg.version ?? ACCESSORY_KINDS[cfg.kind].defaultVersion, (line) => {
        lines = lines.then(() => log(`accessory ${cfg.name}: ${line}`));
      });
      await lines;
      if (img.built) await log(`accessory ${cfg.name}: built ${img.ref}`);
      return { ref: img.ref, id: img.id };
    }
    const info = await this.ctx.runtime.inspectImage(cfg.image);
    if (!info) {
      throw new SlipwayError('SLW_NOT_FOUND', `accessories.${cfg.name}.image: image ${cfg.image} is not on this host (no registry is assumed: build or load it first)`, [
        { path: `accessories.${cfg.name}.image`, message: `${cfg.image} is not on the host` },
      ]);
    }
    return { ref: cfg.image, id: info.id };
  }

  private async ready(c: AccessoryContainer, cfg: AccessoryConfig, creds: AccessoryCredentials, mask: (s: string) => string, log: AccessoryLog): Promise<void> {
    try {
      await waitForAccessoryReady(c, cfg, creds, { runtime: this.ctx.runtime, probe: this.ctx.probe, tcpProbe: this.ctx.tcpProbe, mask, sleep: this.deps.sleep });
    } catch (err) {
      await log(`accessory ${cfg.name}: not ready; its last log lines:`, 'error');
      try {
        for await (const e of this.ctx.runtime.replicaLogs({ id: c.id, name: c.name }, { tail: FAILURE_LOG_LINES })) await log(`  ${mask(e.line)}`, 'error');
      } catch (logErr) {
        await log(`  (its logs could not be read: ${mask(errorMessage(logErr))})`, 'error');
      }
      throw err;
    }
  }

  /** Postgres: the two-user model, idempotently, as the superuser at the container's address (every deploy). */
  private async provision(c: AccessoryContainer, cfg: AccessoryConfig, creds: AccessoryCredentials, log: AccessoryLog): Promise<void> {
    if (cfg.kind !== 'postgres') return;
    if (!c.address) throw new SlipwayError('SLW_DEPLOY_FAILED', `accessory ${cfg.name} has no address on the project network`);
    const target = { host: c.address, port: cfg.port ?? ACCESSORY_KINDS.postgres.port, user: POSTGRES_SUPERUSER, password: creds.superuser ?? '' };
    const timeoutMs = cfg.health?.timeoutMs ?? 10_000;
    const run = () => this.deps.postgres.provision(target, postgresProvisioning(cfg, creds), { timeoutMs });
    let result: { changes: string[] };
    try {
      result = await run();
    } catch (err) {
      if (!isPostgresAuthFailure(err)) throw err;
      // A data directory kept from an earlier environment (env destroy without --delete-volumes, project
      // delete) holds the old superuser password; initdb is skipped, so the new one was never set.
      await this.resetSuperuserPassword(c, cfg, creds, timeoutMs);
      await log(`accessory ${cfg.name}: its data directory was kept from an earlier environment; the superuser password was reset to the new credentials`, 'warn');
      result = await run();
    }
    for (const change of result.changes) await log(`accessory ${cfg.name}: ${change}`);
    if (cfg.backup) await this.prepareBackupRepository(c, cfg, log);
  }

  /**
   * The pgBackRest stanza, made as soon as the server runs: until it exists every archive_command
   * fails and Postgres keeps the WAL it could not archive (pg_wal grows). Idempotent. A repository
   * made for another database (a replaced data volume with the old backup volume kept) is
   * refused by pgBackRest: said loudly, since archiving stays off until it is dealt with.
   */
  private async prepareBackupRepository(c: AccessoryContainer, cfg: AccessoryConfig, log: AccessoryLog): Promise<void> {
    // [050], a lock held by another pgBackRest process (an archive-push Postgres started, a
    // backup), passes within seconds: waited out rather than reported.
    const r = await pgBackRest(this.ctx.runtime, c.id, ['stanza-create'], { timeoutMs: 120_000, sleep: this.deps.sleep ?? delay }).catch((err: unknown) => ({
      exitCode: null,
      timedOut: false,
      output: errorMessage(err),
    }));
    if (r.exitCode === 0) return;
    // Still locked after the wait: a backup holds the repository, so its stanza exists.
    if (PGBACKREST_LOCKED.test(r.output)) return;
    const why = r.output.split('\n').filter((l) => /ERROR|HINT/.test(l)).slice(-2).join(' ') || r.output.split('\n').slice(-2).join(' ');
    await log(
      `accessory ${cfg.name}: its backup repository could not be prepared (${why}); WAL is not archived and backups fail until this is fixed (docs/backups.md, "A repository of another database")`,
      'error',
    );
  }

  /**
   * Sets the superuser's password to `creds.superuser` inside the container, over the local
   * socket (the built-in and the official images trust local connections). The SQL reaches psql
   * through the exec's environment, never its argv.
   */
  private async resetSuperuserPassword(c: AccessoryContainer, cfg: AccessoryConfig, creds: AccessoryCredentials, timeoutMs: number): Promise<void> {
    const password = creds.superuser ?? '';
    // Generated passwords are hex: safe as an SQL literal. Anything else is not ours to quote.
    if (!/^[0-9a-f]{16,}$/.test(password)) throw new SlipwayError('SLW_INTERNAL', `accessory ${cfg.name}: its superuser password is not a generated one; it cannot be reset inside the container`);
    const r = await this.ctx.runtime.exec(c.id, ['sh', '-c', 'printf "%s" "$SLIPWAY_SQL" | psql -v ON_ERROR_STOP=1 -X -q -U postgres -d postgres'], {
      env: { SLIPWAY_SQL: `ALTER ROLE ${POSTGRES_SUPERUSER} PASSWORD '${password}'` },
      timeoutMs,
    });
    if (r.exitCode !== 0 || r.timedOut) {
      const mask = secretMasker(credsValues(creds));
      throw new SlipwayError(
        'SLW_DEPLOY_FAILED',
        `accessory ${cfg.name}: the superuser could not log in with the current credentials (a data directory kept from an earlier environment?), and resetting its password inside the container failed (${r.timedOut ? `timed out after ${timeoutMs} ms` : `exit code ${r.exitCode}`}: ${mask(r.output.trim()).slice(0, 500)})`,
        [{ path: `accessories.${cfg.name}`, message: 'the superuser password of its data directory could not be reset' }],
      );
    }
  }

  async heal(): Promise<AccessoryOutcome[]> {
    const names = await this.environmentNames();
    // Environments a deploy (or restart, rotation…) works on as the pass starts are left to it. Taken
    // once: heal's own queued work must not make the next accessory of an environment look busy.
    const busy = new Set(this.busy.keys());
    const byEnv = new Map<number, AccessoryRecord[]>();
    const all = await this.ctx.store.listAccessories();
    const known = new Set(all.map((r) => `${r.environmentId}:${r.name}`));
    for (const key of this.healAttempts.keys()) if (!known.has(key)) this.healAttempts.delete(key); // destroyed since
    for (const record of all) {
      if (record.specHash === NEVER_STARTED || busy.has(record.environmentId)) continue;
      byEnv.set(record.environmentId, [...(byEnv.get(record.environmentId) ?? []), record]);
    }
    // Environments in parallel (a reboot stopped them all), accessories of one in turn.
    const outcomes = await Promise.all([...byEnv.values()].map((records) => this.healEnvironment(records, names)));
    return outcomes.flat();
  }

  private async healEnvironment(records: AccessoryRecord[], names: Map<number, { project: Project; env: Environment }>): Promise<AccessoryOutcome[]> {
    const out: AccessoryOutcome[] = [];
    for (const record of records) {
      const where = names.get(record.environmentId);
      if (!where) continue;
      const t: Target = { project: where.project.name, env: { id: record.environmentId, name: where.env.name } };
      const now = this.deps.now ?? Date.now;
      const key = `${record.environmentId}:${record.name}`;
      const tried = this.healAttempts.get(key);
      try {
        const existing = await this.containers(t, record.name);
        if (existing.some((c) => c.state === 'running')) {
          if (tried && now() - tried.lastAt > HEALTHY_RESET_MS) this.healAttempts.delete(key);
          continue;
        }
        // Crash-looping: not restarted (and waited for) every pass.
        if (tried && now() < nextRepairAt(tried.lastAt, tried.count)) continue;
        // Its data may be half replaced: never started on it behind the user's back.
        if (await interruptedRestore(this.ctx.store, record.environmentId, record.name)) continue;
        const why = existing.length ? `its container had exited (exit code ${existing[0]!.exitCode ?? 'unknown'}${existing[0]!.oomKilled ? ', killed by the OOM killer' : ''})` : 'its container was missing';
        const outcome = await this.serial(record.environmentId, async () => {
          // A deploy may have started it (or changed it) between the look above and our turn.
          const current = await this.containers(t, record.name);
          if (current.some((c) => c.state === 'running') || !(await this.ctx.store.getAccessory(t.env.id, record.name))) return null;
          this.healAttempts.set(key, { count: (tried?.count ?? 0) + 1, lastAt: now() });
          return this.restartFromRecord(t, record.name, why, async (line, level) => void this.ctx.logger[level ?? 'info']({ project: t.project, env: t.env.name, accessory: record.name }, line));
        });
        if (outcome) out.push(outcome);
      } catch (err) {
        this.ctx.logger.error({ project: t.project, env: t.env.name, accessory: record.name }, `accessory could not be restarted: ${errorMessage(err)}`);
        await this.event('accessory.failed', t, record.name, errorMessage(err)).catch(() => undefined);
      }
    }
    return out;
  }

  async list(project: string, env: string): Promise<AccessoryView[]> {
    const { p, e } = await this.environment(project, env);
    const t: Target = { project: p.name, env: { id: e.id, name: e.name } };
    // Status pages call this for every environment: one with no accessory costs no Docker call.
    const records = await this.ctx.store.listAccessories(e.id);
    if (records.length === 0) return [];
    const [containers, volumes, usedBy] = await Promise.all([
      this.ctx.runtime.listAccessories({ project: p.name, env: e.name }),
      this.ctx.runtime.listVolumes({ project: p.name, env: e.name, sizes: false }),
      this.usedBy(p, e),
    ]);
    const views: AccessoryView[] = [];
    for (const r of records) {
      const c = containers.filter((x) => x.labels.accessory === r.name).sort((a, b) => (b.state === 'running' ? 1 : 0) - (a.state === 'running' ? 1 : 0))[0];
      const ready = c?.state === 'running' ? await this.readyNow(c, r) : false;
      const port = r.config.port;
      views.push({
        name: r.name,
        kind: r.kind,
        env: t.env.name,
        image: r.config.image,
        imageDigest: r.imageDigest || null,
        version: r.config.version,
        state: !c ? 'missing' : c.state === 'running' ? 'running' : c.state === 'created' || c.state === 'restarting' ? 'starting' : 'exited',
        ready,
        address: port !== null ? `${r.name}:${port}` : null,
        startedAt: c?.startedAt ?? null,
        oomKilled: c?.oomKilled ?? false,
        resources: { memoryBytes: r.config.resources.memoryBytes, cpus: r.config.resources.cpus },
        volumes: r.config.volumes.map((v) => ({
          volume: v.volume,
          path: v.path,
          dockerName: volumes.find((x) => x.owner === r.name && x.volume === v.volume)?.name ?? `(not created yet: ${v.volume})`,
        })),
        usedBy: usedBy.get(r.name) ?? [],
        credentialsVersion: r.credentialsVersion,
        updatedAt: r.updatedAt,
        ...(r.config.backup && this.ctx.backups ? { backup: await this.ctx.backups.health(e.id, r.name) } : {}),
      });
    }
    return views;
  }

  async restart(project: string, env: string, name: string, log?: AccessoryLog): Promise<AccessoryOutcome> {
    const { p, e } = await this.environment(project, env);
    const t: Target = { project: p.name, env: { id: e.id, name: e.name } };
    await this.record(e.id, name, env);
    const sink: AccessoryLog = log ?? (async (line, level) => void this.ctx.logger[level ?? 'info']({ project, env, accessory: name }, line));
    const interrupted = await interruptedRestore(this.ctx.store, e.id, name);
    if (interrupted) {
      // Asked for by name: started on its data as it is (the choice the interrupted restore left to the user).
      await dropRestoreMark(this.ctx.store, e.id, name);
      await sink(`accessory ${name}: the restore in place interrupted at ${interrupted.since} is set aside; starting it on its data as it is`, 'warn');
    }
    return this.serial(e.id, () => this.restartFromRecord(t, name, 'restart asked for', sink));
  }

  /** Stop → start from the record (same spec; a built-in image that is gone is rebuilt) → ready → provisioned. */
  private async restartFromRecord(t: Target, name: string, why: string, log: AccessoryLog): Promise<AccessoryOutcome> {
    const record = await this.record(t.env.id, name, t.env.name);
    const cfg = record.config;
    const creds = await openAccessoryCredentials(this.ctx, record.id, record.credentialsVersion, { name, kind: record.kind });
    const mask = secretMasker(credsValues(creds));
    let imageDigest = record.imageDigest;
    if (!(await this.ctx.runtime.inspectImage(imageDigest))) {
      await log(`accessory ${name}: its image ${cfg.image} (${imageDigest}) is gone; getting it again`, 'warn');
      imageDigest = (await this.image(cfg, log)).id;
    }
    await this.ctx.runtime.ensureEnvNetwork(t.project, t.env.name);
    for (const c of await this.containers(t, name)) await this.ctx.runtime.stopAccessory(c.id, cfg.stopTimeoutMs);
    let started: AccessoryContainer | null = null;
    try {
      started = await this.ctx.runtime.startAccessory(desiredAccessorySpec({ project: t.project, env: t.env.name, server: placeContainer(this.ctx.runtime), config: cfg, imageDigest, creds }));
      await this.ready(started, cfg, creds, mask, log);
      await this.provision(started, cfg, creds, log);
    } catch (err) {
      // A container left running but not ready would look healthy to heal(): stopped, the next attempt starts clean.
      if (started) await this.ctx.runtime.stopAccessory(started.id, cfg.stopTimeoutMs).catch(() => undefined);
      throw new SlipwayError(isSlipwayError(err) ? err.code : 'SLW_DEPLOY_FAILED', `accessory ${name}: ${mask(errorMessage(err))}`);
    }
    if (imageDigest !== record.imageDigest) {
      await this.ctx.store.saveAccessory({ environmentId: t.env.id, name, kind: record.kind, config: cfg, imageDigest, specHash: accessorySpecHash({ config: cfg, imageDigest, creds }) });
    }
    const detail = `${why}: restarted, ready`;
    await log(`accessory ${name}: ${detail}`);
    await this.event('accessory.restarted', t, name, detail);
    return { name, action: 'restarted', detail };
  }

  /**
   * A restored copy becomes an accessory of the environment (restore into a new accessory): its
   * record with the source's current credentials (the restored data has the source's roles and
   * passwords), then started and checked like any other. It is not in slipway.yml: deploys leave it running.
   */
  async adoptRestored(project: string, env: { id: number; name: string }, source: AccessoryRecord, cfg: AccessoryConfig, log: AccessoryLog): Promise<AccessoryOutcome> {
    return this.serial(env.id, async () => {
      const creds = await openAccessoryCredentials(this.ctx, source.id, source.credentialsVersion, { name: source.name, kind: source.kind });
      const record = await this.ctx.store.saveAccessory({ environmentId: env.id, name: cfg.name, kind: cfg.kind, config: cfg, imageDigest: source.imageDigest, specHash: NEVER_STARTED });
      // Sealed again under the copy's own context (a seal is bound to its accessory and version).
      if (record.credentialsVersion === 0) await addAccessoryCredentials(this.ctx, record.id, creds);
      return this.ensureOne({ project, env }, cfg, [], log);
    });
  }

  /**
   * Restore in place: with the environment's accessory work held (heal does not restart it
   * meanwhile), the accessory's container is stopped, `work` replaces its data, and it is
   * started again from its record and checked.
   */
  replaceData(project: string, env: { id: number; name: string }, name: string, work: () => Promise<void>, log: AccessoryLog): Promise<AccessoryOutcome> {
    return this.whileStopped(project, env, name, { doing: 'replacing its data', failed: 'the restore failed', done: 'data restored' }, work, log);
  }

  /**
   * Runs `work` with the accessory's container stopped (a restore, or a consistent copy of a
   * container accessory's volumes), the environment's accessory work held so heal does not
   * restart it meanwhile; it is started again from its record and checked whatever happened.
   */
  async whileStopped(project: string, env: { id: number; name: string }, name: string, why: { doing: string; failed: string; done: string }, work: () => Promise<void>, log: AccessoryLog): Promise<AccessoryOutcome> {
    return this.serial(env.id, async () => {
      const t = { project, env };
      const record = await this.record(env.id, name, env.name);
      for (const c of await this.containers(t, name)) await this.ctx.runtime.stopAccessory(c.id, record.config.stopTimeoutMs);
      await log(`accessory ${name}: stopped; ${why.doing}`);
      try {
        await work();
      } catch (err) {
        // Started again either way: on the old data if the work did not touch it, else on what it left (a restore's safety backup restores it).
        await log(`accessory ${name}: ${why.failed} (${errorMessage(err)}); starting it again`, 'error');
        await this.restartFromRecord(t, name, why.failed, log).catch((e: unknown) => log(`accessory ${name}: could not be started again: ${errorMessage(e)}`, 'error'));
        throw err;
      }
      return this.restartFromRecord(t, name, why.done, log);
    });
  }

  async rotate(project: string, env: string, name: string): Promise<{ version: number; services: string[] }> {
    const { p, e } = await this.environment(project, env);
    const t: Target = { project: p.name, env: { id: e.id, name: e.name } };
    const first = await this.record(e.id, name, env);
    if (first.kind === 'container') {
      throw new SlipwayError('SLW_BAD_REQUEST', `accessory ${name} is a container accessory: it has no generated credentials to rotate`, [{ path: 'name', message: 'has no generated credentials' }]);
    }
    const log: AccessoryLog = async (line, level) => void this.ctx.logger[level ?? 'info']({ project, env, accessory: name }, line);
    const version = await this.serial(e.id, async () => {
      const record = await this.record(e.id, name, env);
      const previous = await openAccessoryCredentials(this.ctx, record.id, record.credentialsVersion, { name, kind: record.kind });
      const creds = rotatedCredentials(record.kind, previous);
      // Stored first: whatever fails below, the next deploy applies this version (provisioning runs on every deploy).
      const v = await addAccessoryCredentials(this.ctx, record.id, creds);
      const mask = secretMasker([...credsValues(previous), ...credsValues(creds)]);
      try {
        const hash = accessorySpecHash({ config: record.config, imageDigest: record.imageDigest, creds });
        const running = (await this.containers(t, name)).find((c) => c.state === 'running');
        if (running && running.labels.spec === hash) {
          await this.provision(running, record.config, creds, log); // postgres: new owner/app passwords, same container
        } else {
          for (const c of await this.containers(t, name)) await this.ctx.runtime.stopAccessory(c.id, record.config.stopTimeoutMs);
          const c = await this.ctx.runtime.startAccessory(desiredAccessorySpec({ project: t.project, env: t.env.name, server: placeContainer(this.ctx.runtime), config: record.config, imageDigest: record.imageDigest, creds }));
          await this.ready(c, record.config, creds, mask, log);
          await this.provision(c, record.config, creds, log);
          await this.ctx.store.saveAccessory({ environmentId: e.id, name, kind: record.kind, config: record.config, imageDigest: record.imageDigest, specHash: hash });
        }
      } catch (err) {
        throw new SlipwayError('SLW_DEPLOY_FAILED', `accessory ${name}: credentials version ${v} is stored but could not be applied (${mask(errorMessage(err))}); the next deploy applies it`);
      }
      return v;
    });
    this.ctx.logger.info({ project, env, accessory: name, version }, 'accessory credentials rotated');
    const services = (await this.usedBy(p, e)).get(name) ?? [];
    return { version, services };
  }

  async *logs(project: string, env: string, name: string, opts: LogOptions): AsyncIterable<LogEntry> {
    const { p, e } = await this.environment(project, env);
    await this.record(e.id, name, env);
    const mask = secretMasker(await this.credentialValues(e.id));
    const containers = await this.ctx.runtime.listAccessories({ project: p.name, env: e.name, accessory: name });
    const c = containers.find((x) => x.state === 'running') ?? containers[0];
    if (!c) return;
    for await (const entry of this.ctx.runtime.replicaLogs({ id: c.id, name: c.name }, opts)) yield { ...entry, line: mask(entry.line) };
  }

  /**
   * The connection variables of `uses`, always with each accessory's CURRENT credentials: after
   * a rotation the old passwords no longer work (postgres ALTER ROLE; redis/nats recreated), so a
   * rollback or a repair of an older release connects with the current ones. `use.credentialsVersion`
   * (pinUses) only records what a release was created with.
   */
  async connectionEnv(environmentId: number, uses: ServiceUse[], role: 'app' | 'owner'): Promise<{ env: Record<string, string>; secrets: string[] }> {
    const env: Record<string, string> = {};
    const secrets: string[] = [];
    for (const use of uses) {
      const record = await this.ctx.store.getAccessory(environmentId, use.accessory);
      if (!record) throw notDeployed(use.accessory);
      const creds = await openAccessoryCredentials(this.ctx, record.id, record.kind === 'container' ? 0 : record.credentialsVersion, { name: record.name, kind: record.kind });
      const vars = connectionVars(use, record.config, creds, role);
      Object.assign(env, vars);
      const values = credsValues(creds);
      if (values.length) secrets.push(...values, ...Object.values(vars));
    }
    return { env, secrets };
  }

  async pinUses(environmentId: number, uses: ServiceUse[]): Promise<ServiceUse[]> {
    const out: ServiceUse[] = [];
    for (const use of uses) {
      const record = await this.ctx.store.getAccessory(environmentId, use.accessory);
      if (!record) throw notDeployed(use.accessory);
      out.push({ ...use, credentialsVersion: record.credentialsVersion });
    }
    return out;
  }

  async credentialValues(environmentId: number): Promise<string[]> {
    const values = new Set<string>();
    for (const r of await this.ctx.store.listAccessories(environmentId)) {
      for (let v = 1; v <= r.credentialsVersion; v++) {
        for (const value of credsValues(await openAccessoryCredentials(this.ctx, r.id, v))) values.add(value);
      }
    }
    return [...values];
  }

  async destroy(project: string, env: { id: number; name: string }, opts: { deleteVolumes: boolean }): Promise<{ accessories: string[]; volumesDeleted: string[]; volumesKept: string[] }> {
    return this.serial(env.id, async () => {
      const records = await this.ctx.store.listAccessories(env.id);
      const stopTimeout = new Map(records.map((r) => [r.name, r.config.stopTimeoutMs]));
      for (const c of await this.ctx.runtime.listAccessories({ project, env: env.name })) {
        await this.ctx.runtime.stopAccessory(c.id, stopTimeout.get(c.labels.accessory) ?? 10_000);
      }
      for (const r of records) await this.ctx.store.deleteAccessory(r.id);
      const volumes = await environmentVolumes(this.ctx, project, env.name, opts);
      // Backups of data that is gone are not listed as restorable (a pgBackRest repository went with the volumes).
      if (opts.deleteVolumes && volumes.volumesKept.length === 0) await this.ctx.backups?.forget?.(project, env, null);
      this.ctx.logger.info({ project, env: env.name, accessories: records.map((r) => r.name), ...volumes }, 'accessories destroyed');
      return { accessories: records.map((r) => r.name).sort(), ...volumes };
    });
  }

  /**
   * Removes one accessory no live release uses (a restored copy, or one dropped from slipway.yml):
   * its container and record; its volumes only with deleteVolumes (else kept and reported). The
   * next deploy of a slipway.yml that still declares it creates it again (with new credentials).
   */
  async remove(project: string, env: string, name: string, opts: { deleteVolumes: boolean }): Promise<{ accessory: string; volumesDeleted: string[]; volumesKept: string[] }> {
    const { p, e } = await this.environment(project, env);
    const record = await this.record(e.id, name, e.name);
    const users = (await this.usedBy(p, e)).get(name) ?? [];
    if (users.length) {
      throw new SlipwayError('SLW_CONFLICT', `accessory ${name} is used by the live release of ${users.join(', ')}: remove it from their uses (and deploy) first`, [{ path: 'name', message: `used by ${users.join(', ')}` }]);
    }
    return this.serial(e.id, async () => {
      for (const c of await this.containers({ project: p.name, env: { id: e.id, name: e.name } }, name)) await this.ctx.runtime.stopAccessory(c.id, record.config.stopTimeoutMs);
      await this.ctx.store.deleteAccessory(record.id);
      const volumesDeleted: string[] = [];
      const volumesKept: string[] = [];
      for (const v of (await this.ctx.runtime.listVolumes({ project: p.name, env: e.name, sizes: false })).filter((x) => x.owner === name)) {
        if (!opts.deleteVolumes) volumesKept.push(v.name);
        else if ((await this.ctx.runtime.removeVolume(v.name)).removed) volumesDeleted.push(v.name);
        else volumesKept.push(v.name);
      }
      if (opts.deleteVolumes && volumesKept.length === 0) await this.ctx.backups?.forget?.(p.name, { id: e.id, name: e.name }, name);
      this.ctx.logger.info({ project, env, accessory: name, volumesDeleted, volumesKept }, 'accessory removed');
      return { accessory: name, volumesDeleted, volumesKept };
    });
  }

  /**
   * One readiness check for the read side, remembered a few seconds per container: the dashboard
   * polls status, and an exec check (pg_isready) costs a process in the container each time.
   */
  private async readyNow(c: AccessoryContainer, r: AccessoryRecord): Promise<boolean> {
    const now = Date.now();
    const hit = this.readiness.get(c.id);
    if (hit && now - hit.at < READY_CACHE_MS) return hit.ready;
    const creds = await openAccessoryCredentials(this.ctx, r.id, r.credentialsVersion, { name: r.name, kind: r.kind });
    const ready = await checkAccessoryOnce(c, r.config, creds, { runtime: this.ctx.runtime, probe: this.ctx.probe, tcpProbe: this.ctx.tcpProbe }).then(
      (x) => x.ok,
      () => false,
    );
    if (this.readiness.size > 1000) this.readiness.clear();
    this.readiness.set(c.id, { ready, at: now });
    return ready;
  }

  /** Runs `work` after every earlier piece of work on this environment (a failure does not block the queue). */
  private serial<T>(environmentId: number, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(environmentId) ?? Promise.resolve();
    this.busy.set(environmentId, (this.busy.get(environmentId) ?? 0) + 1);
    const run = previous.then(work, work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(environmentId, tail);
    void tail.then(() => {
      const n = (this.busy.get(environmentId) ?? 1) - 1;
      if (n > 0) this.busy.set(environmentId, n);
      else this.busy.delete(environmentId);
      if (this.queues.get(environmentId) === tail) this.queues.delete(environmentId);
    });
    return run;
  }

  private async containers(t: Target, name: string): Promise<AccessoryContainer[]> {
    return this.ctx.runtime.listAccessories({ project: t.project, env: t.env.name, accessory: name });
  }

  private async record(environmentId: number, name: string, env: string): Promise<AccessoryRecord> {
    const r = await this.ctx.store.getAccessory(environmentId, name);
    if (!r) throw new SlipwayError('SLW_NOT_FOUND', `accessory "${name}" is not deployed in environment "${env}"`, [{ path: 'name', message: 'no such accessory' }]);
    return r;
  }

  private async environment(project: string, env: string): Promise<{ p: Project; e: Environment }> {
    const p = await this.ctx.store.getProject(project);
    if (!p) throw new SlipwayError('SLW_NOT_FOUND', `project "${project}" does not exist`);
    const e = await this.ctx.store.getEnvironment(p.id, env);
    if (!e) throw new SlipwayError('SLW_NOT_FOUND', `environment "${env}" does not exist in project "${project}"`);
    return { p, e };
  }

  /** Accessory → services whose live release uses it. */
  private async usedBy(p: Project, e: Environment): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const s of await this.ctx.store.listServices(p.id)) {
      const release = await this.ctx.store.getCurrentRelease(s.id, e.id);
      for (const u of release?.config.uses ?? []) out.set(u.accessory, [...(out.get(u.accessory) ?? []), s.name].sort());
    }
    return out;
  }

  private async environmentNames(): Promise<Map<number, { project: Project; env: Environment }>> {
    const out = new Map<number, { project: Project; env: Environment }>();
    for (const project of await this.ctx.store.listProjects()) {
      for (const env of await this.ctx.store.listEnvironments(project.id)) out.set(env.id, { project, env });
    }
    return out;
  }

  private async event(type: EventType, t: Target, accessory: string, detail: string): Promise<void> {
    await this.ctx.store.appendOutboxEvent({ type, project: t.project, payload: { project: t.project, env: t.env.name, accessory, detail } });
  }
}

/** SLW_CONFLICT: `kind` changed under an existing name (its volumes and credentials are the old kind's). */
function kindChanged(project: string, env: string, r: AccessoryRecord, cfg: AccessoryConfig): SlipwayError {
  const path = `accessories.${r.name}.kind`;
  return new SlipwayError(
    'SLW_CONFLICT',
    `${path}: accessory ${r.name} is a ${r.kind} accessory in environment ${env} and cannot become ${cfg.kind}: its data (volumes) and generated credentials belong to ${r.kind}. ` +
      `Give the ${cfg.kind} accessory another name, or remove the environment's accessories and their data first with "slipway env destroy ${env} -p ${project} --delete-volumes --yes" (deletes every volume of the environment: irreversible)`,
    [{ path, message: `was ${r.kind}; cannot change to ${cfg.kind} (use another name, or env destroy --delete-volumes --yes)` }],
  );
}

/** Postgres refused the login itself (SQLSTATE 28P01 invalid_password, 28000 invalid_authorization_specification; postgres-admin.ts puts it in the details). */
function isPostgresAuthFailure(err: unknown): boolean {
  return isSlipwayError(err) && err.details.some((d) => d.path === 'sqlstate' && (d.message === '28P01' || d.message === '28000'));
}

const notDeployed = (name: string) =>
  new SlipwayError('SLW_NOT_FOUND', `accessory "${name}" (in uses) is not deployed in this environment; declare it under accessories: and deploy`, [{ path: `uses.${name}`, message: 'no such accessory in this environment' }]);

/**
 * The environment's named volumes (its accessories' and its services'): removed only when
 * asked (`env destroy --delete-volumes --yes`); otherwise kept and reported. A volume a
 * container still uses is kept with the reason logged.
 */
export async function environmentVolumes(ctx: Pick<EngineContext, 'runtime' | 'logger'>, project: string, env: string, opts: { deleteVolumes: boolean }): Promise<{ volumesDeleted: string[]; volumesKept: string[] }> {
  const names = (await ctx.runtime.listVolumes({ project, env, sizes: false })).map((v) => v.name).sort();
  if (!opts.deleteVolumes) return { volumesDeleted: [], volumesKept: names };
  const volumesDeleted: string[] = [];
  const volumesKept: string[] = [];
  for (const name of names) {
    const r = await ctx.runtime.removeVolume(name);
    if (r.removed) volumesDeleted.push(name);
    else {
      volumesKept.push(name);
      ctx.logger.warn({ project, env, volume: name }, `volume kept: ${r.reason ?? 'Docker refused to remove it'}`);
    }
  }
  return { volumesDeleted, volumesKept };
}
