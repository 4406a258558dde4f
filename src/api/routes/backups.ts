/**
 * Backups of accessories (postgres with pgBackRest; redis, nats and containers as snapshots): list and show (read), back up now and verify
 * (deploy), restore (admin, like `db shell`: it can replace a database). The long operations
 * answer NDJSON — progress lines, then `done` or `error` — and are audited (what and which,
 * never credentials). Logic lives in engine/backups.ts behind BackupOperations.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { accessoriesParams, accessoryParams, backupBody, backupParams, backupsQuery, restoreBody } from '../../core/contract/requests';
import type { BackupView } from '../../core/contract/views';
import { isSlipwayError, SlipwayError } from '../../core/errors';
import { formatBytes } from '../../core/format-bytes';
import type { AccessoryRef } from '../../engine/backup-operations';
import type { ApiDeps } from '../api-deps';
import { openNdjson, streamError } from '../ndjson-stream';
import { parseInput } from '../parse-body';
import { findAccessory } from './accessories';

/** The accessory exists (404 naming the others otherwise) and a `type` fits its kind — checked before the stream starts. */
async function backupTarget(deps: ApiDeps, p: { project: string; env: string; name: string }, type?: string): Promise<{ ref: AccessoryRef; kind: string }> {
  const found = await findAccessory(deps, p);
  if (!found.backup) {
    const why = found.kind === 'container' ? 'a container accessory is backed up only when its slipway.yml entry has backup:' : 'backup: off in slipway.yml, or an image other than the built-in one without backup:';
    throw new SlipwayError('SLW_BAD_REQUEST', `accessory "${p.name}" has backups off (${why}); turn them on and deploy first`, [{ path: 'name', message: 'has no backups configured' }]);
  }
  if (type && found.kind !== 'postgres') {
    throw new SlipwayError('SLW_BAD_REQUEST', `type: ${p.name} is a ${found.kind} accessory; its backups are whole snapshots (full and differential are for postgres)`, [{ path: 'type', message: 'is for postgres accessories only' }]);
  }
  return { ref: { project: p.project, env: p.env, accessory: p.name }, kind: found.kind };
}

/** The caller's project restriction: a project token reaches its own project's backups only. */
const restrictionOf = (req: FastifyRequest): string | null => req.principal?.project ?? null;

/** "full 1a2b3c4d succeeded, 12 MiB, 4.1 s" — for audit details (no credentials, no SQL). */
function summary(b: BackupView): string {
  const size = b.sizeBytes === null ? '' : `, ${formatBytes(b.sizeBytes)}`;
  const took = b.durationMs === null ? '' : `, ${(b.durationMs / 1000).toFixed(1)} s`;
  const verified = b.verification && b.verification.state !== 'running' ? `, verification ${b.verification.state}` : '';
  return `${b.type} ${b.id.slice(0, 8)} ${b.state}${size}${took}${verified}`;
}

/**
 * A backup that failed is recorded before take() throws; the error line carries that record:
 * the one the error names (detail `backup`: its id), else this call's — started by this actor,
 * by hand, after the request arrived.
 */
async function failedRecord(deps: ApiDeps, ref: AccessoryRef, err: unknown, actor: string | null, since: string): Promise<BackupView | null> {
  try {
    const named = isSlipwayError(err) ? err.details.find((d) => d.path === 'backup' && backupParams.shape.id.safeParse(d.message).success) : undefined;
    if (named) return await deps.backups.get(named.message, ref.project);
    const recent = await deps.backups.list(ref.project, ref.env, { accessory: ref.accessory, limit: 5, expired: true });
    return recent.find((b) => b.state === 'failed' && b.trigger === 'manual' && b.triggeredBy === actor && b.startedAt >= since) ?? null;
  } catch {
    return null;
  }
}

export function backupRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/projects/:project/envs/:env/backups', { config: { scope: 'read' } }, async (req) => {
    const p = parseInput(accessoriesParams, req.params, 'path');
    const q = parseInput(backupsQuery, req.query, 'query');
    return { backups: await deps.backups.list(p.project, p.env, { accessory: q.accessory, limit: q.limit, expired: q.expired, deploymentId: q.deployment }) };
  });

  app.get('/api/v1/backups/:id', { config: { scope: 'read' } }, async (req) => {
    const { id } = parseInput(backupParams, req.params, 'path');
    return { backup: await deps.backups.get(id, restrictionOf(req)) };
  });

  /** NDJSON: {type:'progress',line}…, then {type:'done',backup} or {type:'error',code,message,backup}. */
  app.post('/api/v1/projects/:project/envs/:env/accessories/:name/backups', { config: { scope: 'deploy' } }, async (req, reply) => {
    const p = parseInput(accessoryParams, req.params, 'path');
    const body = parseInput(backupBody, req.body, 'backup request');
    const { ref } = await backupTarget(deps, p, body.type);
    const actor = req.principal?.actor ?? null;
    const since = new Date().toISOString();
    const stream = openNdjson(reply);
    let detail: string;
    try {
      const backup = await deps.backups.take(ref, { type: body.type, trigger: 'manual', triggeredBy: actor, onProgress: (line) => stream.send({ type: 'progress', line }) });
      stream.send({ type: 'done', backup });
      detail = summary(backup);
    } catch (err) {
      const e = streamError(req, err);
      const backup = await failedRecord(deps, ref, err, actor, since);
      stream.send({ type: 'error', ...e, backup });
      detail = `${backup ? summary(backup) : `${body.type ?? 'backup'} failed`} [${e.code}]`;
    }
    // Set before the end: the audit hook runs once the raw answer is sent.
    req.audit = { target: `accessory ${p.name} env ${p.env}`, detail: `backup.create: ${detail}` };
    stream.end();
  });

  /** NDJSON like a backup; `done` carries the record whose verification passed or failed. */
  app.post('/api/v1/backups/:id/verify', { config: { scope: 'deploy' } }, async (req, reply) => {
    const { id } = parseInput(backupParams, req.params, 'path');
    const project = restrictionOf(req);
    const before = await deps.backups.get(id, project); // 404 (or another project's) before the stream starts
    const stream = openNdjson(reply);
    let detail: string;
    try {
      const backup = await deps.backups.verify(id, { project, onProgress: (line) => stream.send({ type: 'progress', line }) });
      stream.send({ type: 'done', backup });
      detail = `verification ${backup.verification?.state ?? 'not recorded'}${backup.verification?.error ? `: ${backup.verification.error}` : ''}`;
    } catch (err) {
      const e = streamError(req, err);
      const backup = await deps.backups.get(id, project).catch(() => before);
      stream.send({ type: 'error', ...e, backup });
      detail = `verification could not run [${e.code}]`;
    }
    req.audit = { ...(project ? { project } : {}), target: `backup ${id} (accessory ${before.accessory} env ${before.env})`, detail: `backup.verify: ${detail}` };
    stream.end();
  });

  /** NDJSON: progress, then {type:'done',accessory,inPlace,backup,toTime,safetyBackup,next} or {type:'error',code,message}. */
  app.post('/api/v1/projects/:project/envs/:env/accessories/:name/restore', { config: { scope: 'admin' } }, async (req, reply) => {
    const p = parseInput(accessoryParams, req.params, 'path');
    const body = parseInput(restoreBody, req.body, 'restore request');
    const { ref, kind } = await backupTarget(deps, p);
    // A named backup must be this accessory's: a 404 or 400 now, not an error line later (the engine checks again).
    if (body.backup) {
      const b = await deps.backups.get(body.backup, p.project);
      if (b.env !== p.env || b.accessory !== p.name) {
        throw new SlipwayError('SLW_BAD_REQUEST', `backup ${body.backup} is of accessory "${b.accessory}" in ${b.env}, not "${p.name}" in ${p.env}`, [
          { path: 'backup', message: `must be a backup of ${p.name} in ${p.env} (slipway backups ${p.name} --env ${p.env})` },
        ]);
      }
      if (b.state !== 'succeeded' || b.expired) {
        const why = b.expired ? 'was removed by retention' : b.state === 'running' ? 'is still running' : 'failed';
        throw new SlipwayError('SLW_CONFLICT', `backup ${body.backup} ${why}: only a finished, kept backup can be restored (slipway backups ${p.name} --env ${p.env})`, [{ path: 'backup', message: why }]);
      }
    }
    if (body.toTime && kind !== 'postgres') {
      throw new SlipwayError('SLW_BAD_REQUEST', `toTime: ${p.name} is not a postgres accessory; its backups are snapshots without point-in-time recovery (give backup)`, [{ path: 'toTime', message: 'is for postgres accessories only' }]);
    }
    const what = body.backup ? `backup ${body.backup}` : `time ${body.toTime}`;
    const stream = openNdjson(reply);
    let detail: string;
    try {
      const o = await deps.backups.restore(ref, {
        backupId: body.backup,
        toTime: body.toTime,
        inPlace: body.inPlace,
        triggeredBy: req.principal?.actor ?? null,
        onProgress: (line) => stream.send({ type: 'progress', line }),
      });
      stream.send({ type: 'done', accessory: o.accessory, inPlace: o.inPlace, backup: o.backup, toTime: o.toTime, safetyBackup: o.safetyBackup, next: o.next });
      detail = `${what} restored ${o.inPlace ? `in place${o.safetyBackup ? ` (state before: backup ${o.safetyBackup.id})` : ''}` : `into ${o.accessory}`}`;
    } catch (err) {
      const e = streamError(req, err);
      stream.send({ type: 'error', ...e });
      detail = `${what}${body.inPlace ? ' in place' : ''} failed [${e.code}]`;
    }
    req.audit = { target: `accessory ${p.name} env ${p.env}`, detail: `backup.restore: ${detail}` };
    stream.end();
  });
}
