/**
 * Secrets of a project's environment: every change makes a new immutable version
 * (all values sealed together), releases pin the version they run with, and a
 * change rolls the live releases out again unless staged. Names, versions and
 * times are plaintext; values are only ever opened to start containers.
 */
import type { SecretMeta, ServiceRef } from '../core/domain';
import { VAR_NAME_RE } from '../core/config-schema';
import { SlipwayError, errorMessage, isSlipwayError } from '../core/errors';
import type { SecretListView } from '../core/contract/views';
import type { EngineContext } from './engine-context';
import { openSecrets, secretsSealContext } from './secret-values';
import { accessorySealContext } from './accessory-credentials';

export interface SecretsChange {
  set?: Record<string, string>;
  unset?: string[];
}

export interface SecretsChangeResult {
  /** The new version, or the current one when nothing changed. */
  version: number | null;
  changed: string[];
  unchanged: string[];
  /** Per live service: the deployment rolling the new version out, or why there is none. */
  rollouts: Array<{ service: string; deploymentId: string | null; note: string | null }>;
}

/** Starts a deployment of the live release with the newest secrets (DeployEngine.redeployWithSecrets). */
export type SecretsRedeploy = (ref: ServiceRef, triggeredBy: string | null) => Promise<{ id: string }>;

export interface RotationReport {
  keyId: string;
  newKeyGenerated: boolean;
  resealed: number;
}

/** Reserved for the variables Slipway sets itself. */
const RESERVED = /^(PORT|SLIPWAY_.*)$/;
const MAX_VALUE_BYTES = 64 * 1024;

export class Secrets {
  constructor(
    private readonly ctx: EngineContext,
    private readonly redeploy: SecretsRedeploy,
    /** Re-seals other values sealed under the master key (webhook secrets) during a rotation. */
    private readonly resealOthers: () => Promise<unknown> = async () => undefined,
  ) {}

  async list(projectName: string, envName: string): Promise<SecretListView> {
    const env = await this.environment(projectName, envName, false);
    const latest = env ? await this.ctx.store.getSecrets(env.id) : null;
    return {
      project: projectName,
      env: envName,
      version: latest?.version ?? null,
      secrets: Object.entries(latest?.names ?? {})
        .map(([name, meta]) => ({ name, ...meta }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  /** Applies a change as one new version (or none if every value is already as asked). */
  async change(projectName: string, envName: string, change: SecretsChange, opts: { deploy: boolean; triggeredBy?: string }): Promise<SecretsChangeResult> {
    validateChange(change);
    const env = (await this.environment(projectName, envName, true))!;
    let result: Omit<SecretsChangeResult, 'rollouts'>;
    // Optimistic: a concurrent change that takes the same version number makes us retry.
    for (let attempt = 1; ; attempt++) {
      try {
        result = await this.tryChange(env.id, change);
        break;
      } catch (err) {
        if (!(isSlipwayError(err) && err.code === 'SLW_CONFLICT') || attempt >= 5) throw err;
      }
    }
    const rollouts: SecretsChangeResult['rollouts'] = [];
    if (result.changed.length > 0) {
      const { store } = this.ctx;
      for (const s of await store.listServices(env.projectId)) {
        if (!(await store.getCurrentReleaseId(s.id, env.id))) continue;
        if (!opts.deploy) {
          rollouts.push({ service: s.name, deploymentId: null, note: `staged: applies at the next deploy of ${s.name}` });
          continue;
        }
        try {
          const d = await this.redeploy({ project: projectName, service: s.name, env: envName }, opts.triggeredBy ?? null);
          rollouts.push({ service: s.name, deploymentId: d.id, note: null });
        } catch (err) {
          // Most often another deployment holds the lease; the new version still applies at its next deploy.
          rollouts.push({ service: s.name, deploymentId: null, note: `not rolled out: ${errorMessage(err)}` });
        }
      }
    }
    return { ...result, rollouts };
  }

  private async tryChange(environmentId: number, change: SecretsChange): Promise<Omit<SecretsChangeResult, 'rollouts'>> {
    const { store, cipher } = this.ctx;
    const latest = await store.getSecrets(environmentId);
    const values = await openSecrets(this.ctx, environmentId, latest?.version ?? null);
    const names: Record<string, SecretMeta> = { ...(latest?.names ?? {}) };
    const version = (latest?.version ?? 0) + 1;
    const now = new Date().toISOString();
    const changed: string[] = [];
    const unchanged: string[] = [];
    for (const name of change.unset ?? []) {
      if (!(name in values)) throw new SlipwayError('SLW_NOT_FOUND', `secret ${name} is not set in this environment; nothing was changed`, [{ path: `unset.${name}`, message: 'not set' }]);
      delete values[name];
      delete names[name];
      changed.push(name);
    }
    for (const [name, value] of Object.entries(change.set ?? {})) {
      if (values[name] === value) {
        unchanged.push(name);
        continue;
      }
      values[name] = value;
      names[name] = { version, updatedAt: now };
      changed.push(name);
    }
    if (changed.length === 0) return { version: latest?.version ?? null, changed, unchanged };
    const { keyId, sealed } = cipher.seal(JSON.stringify(values), secretsSealContext(environmentId, version));
    await store.addSecrets({ environmentId, version, keyId, sealed, names });
    this.ctx.logger.info({ environmentId, version, changed }, 'secrets changed');
    return { version, changed: changed.sort(), unchanged: unchanged.sort() };
  }

  /**
   * Re-seals every version of every environment under a fresh primary key (or under
   * SLIPWAY_MASTER_KEY when the key comes from the environment), then forgets the old keys.
   */
  async rotateKey(): Promise<RotationReport> {
    const { store, cipher } = this.ctx;
    const { keyId, generated } = await cipher.addPrimaryKey();
    let resealed = 0;
    // First pass: every version. Then only seals still under another key: a change racing
    // the rotation may have sealed under the old key after the first pass listed versions.
    let batch = await store.listAllSecrets();
    while (batch.length > 0) {
      const updates = batch.map((s) => {
        const context = secretsSealContext(s.environmentId, s.version);
        return { environmentId: s.environmentId, version: s.version, ...cipher.seal(cipher.open(s.sealed, context), context) };
      });
      await store.resealSecrets(updates);
      resealed += updates.length;
      batch = (await store.listAllSecrets()).filter((s) => s.keyId !== keyId);
    }
    const accessoryCredentials = await this.resealAccessoryCredentials(keyId);
    await this.resealOthers();
    await cipher.retireOtherKeys();
    this.ctx.logger.info({ keyId, resealed, accessoryCredentials }, 'master key rotated; every secret re-sealed');
    return { keyId, newKeyGenerated: generated, resealed };
  }

  /** Every version of every accessory's generated credentials, the same two passes as secrets; returns how many. */
  private async resealAccessoryCredentials(keyId: string): Promise<number> {
    const { store, cipher } = this.ctx;
    let count = 0;
    let batch = await store.listAllAccessoryCredentials();
    while (batch.length > 0) {
      const updates = batch.map((c) => {
        const context = accessorySealContext(c.accessoryId, c.version);
        return { accessoryId: c.accessoryId, version: c.version, ...cipher.seal(cipher.open(c.sealed, context), context) };
      });
      await store.resealAccessoryCredentials(updates);
      count += updates.length;
      batch = (await store.listAllAccessoryCredentials()).filter((c) => c.keyId !== keyId);
    }
    return count;
  }

  /** Stored versions (secrets and accessory credentials) sealed under a key the cipher does not hold (the health check: decrypts nothing). */
  async versionsWithoutKey(): Promise<number> {
    const { store, cipher } = this.ctx;
    const seals = [...(await store.listAllSecrets()), ...(await store.listAllAccessoryCredentials())];
    return seals.filter((s) => !cipher.holdsKey(s.keyId)).length;
  }

  /** Stored versions (secrets and accessory credentials) that fail to open, missing key or failed authentication (checked once at startup). */
  async unreadableVersions(): Promise<number> {
    let bad = 0;
    for (const s of await this.ctx.store.listAllSecrets()) {
      try {
        this.ctx.cipher.open(s.sealed, secretsSealContext(s.environmentId, s.version));
      } catch (err) {
        bad++;
        this.ctx.logger.error({ environmentId: s.environmentId, version: s.version }, errorMessage(err));
      }
    }
    for (const c of await this.ctx.store.listAllAccessoryCredentials()) {
      try {
        this.ctx.cipher.open(c.sealed, accessorySealContext(c.accessoryId, c.version));
      } catch (err) {
        bad++;
        this.ctx.logger.error({ accessoryId: c.accessoryId, version: c.version }, `accessory credentials: ${errorMessage(err)}`);
      }
    }
    return bad;
  }

  /**
   * The environment; secrets may be set before the first deploy, so a missing project
   * (and its production environment) is created on write, and reads as having none
   * (null) before. Any other missing environment (production too, once the project
   * exists: destroyed) is SLW_NOT_FOUND, on reads as on writes.
   */
  private async environment(projectName: string, envName: string, create: boolean) {
    const { store } = this.ctx;
    let project = await store.getProject(projectName);
    if (!project && envName === 'production') {
      if (!create) return null;
      project = await store.upsertProject(projectName);
    }
    if (!project) {
      throw new SlipwayError('SLW_NOT_FOUND', `project "${projectName}" does not exist; deploy it first, or set production secrets to create it`);
    }
    const env = await store.getEnvironment(project.id, envName);
    if (!env) {
      const known = (await store.listEnvironments(project.id)).map((e) => e.name);
      throw new SlipwayError('SLW_NOT_FOUND', `environment "${envName}" does not exist in project "${projectName}" (it has: ${known.join(', ') || 'none'}); create it with "slipway env create ${envName}"`);
    }
    return env;
  }
}

function validateChange(change: SecretsChange): void {
  const set = Object.entries(change.set ?? {});
  const unset = change.unset ?? [];
  if (set.length === 0 && unset.length === 0) throw new SlipwayError('SLW_BAD_REQUEST', 'nothing to change: give at least one KEY=VALUE to set or one name to unset');
  const errors: Array<{ path: string; message: string }> = [];
  for (const [name, value] of set) {
    if (!VAR_NAME_RE.test(name)) errors.push({ path: `set.${name.slice(0, 64)}`, message: 'must be an environment variable name (letters, digits and _, not starting with a digit)' });
    else if (RESERVED.test(name)) errors.push({ path: `set.${name}`, message: 'PORT and SLIPWAY_* are set by Slipway itself' });
    else if (Buffer.byteLength(value) > MAX_VALUE_BYTES) errors.push({ path: `set.${name}`, message: `value is longer than ${MAX_VALUE_BYTES} bytes` });
    else if (value.includes('\0')) errors.push({ path: `set.${name}`, message: 'value contains a NUL byte, which environment variables cannot hold' });
    if (unset.includes(name)) errors.push({ path: `set.${name}`, message: 'is both set and unset' });
  }
  for (const name of unset) if (!VAR_NAME_RE.test(name)) errors.push({ path: `unset.${name.slice(0, 64)}`, message: 'must be an environment variable name' });
  if (errors.length > 0) {
    throw new SlipwayError('SLW_BAD_REQUEST', `invalid secrets change; nothing was changed: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
  }
}
