/**
 * Push webhooks. A project registers its repository; the server gives it a secret (shown
 * once, kept sealed under the master key). A delivery must be signed — GitHub's
 * `X-Hub-Signature-256` (HMAC-SHA256 of the raw body), or Slipway's generic form (HMAC of
 * `<timestamp>.<delivery id>.<body>` with a timestamp at most 5 minutes old) — and carry a
 * delivery id never seen before. Since GitHub signs the body only, a push is also refused
 * when the same signed bytes were accepted before under another id, and when its commit
 * does not descend from the environment's live commit (a replay of an old push would roll
 * production back) unless it is a forced push that the live slipway.yml allows. A push to a
 * branch that slipway.yml *at that commit* maps to an environment (`branches: { main:
 * staging }`) deploys that commit there, built by the server from git; approval still
 * applies to environments that require it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseProjectConfig, formatErrors } from '../core/parse-config';
import { planDeployRequests } from './plan-deploy-requests';
import { SlipwayError } from '../core/errors';
import { gitUrlProblem, redactGitUrl, repoPathProblem } from '../core/git-source';
import type { Webhook } from '../core/domain';
import type { EngineContext } from './engine-context';
import type { DeployEngine } from './deploy-engine';

export type WebhookHeaders = Record<string, string | string[] | undefined>;

export interface WebhookOutcome {
  status: 'pong' | 'ignored' | 'deploying';
  message: string;
  branch?: string;
  commit?: string;
  env?: string;
  deployments?: string[];
}

export type WebhookView = Omit<Webhook, 'keyId' | 'sealed'>;

/** How old a generic delivery's timestamp may be. */
const MAX_SKEW_MS = 5 * 60 * 1000;
/** Delivery ids and accepted pushes are kept this long; older replays meet the ancestry check. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** No "." in a generic delivery id, so `<timestamp>.<id>.<body>` splits one way only. */
const DELIVERY_ID_RE = /^[A-Za-z0-9_:-]{1,128}$/;
const ZERO_SHA = /^0+$/;

const sealContext = (project: string) => `webhook:${project}`;

export class Webhooks {
  constructor(
    private readonly ctx: EngineContext,
    private readonly engine: DeployEngine,
  ) {}

  /** Registers (or re-keys) the project's webhook; returns the secret, which is never shown again. */
  async create(project: string, req: { repository: string; path?: string }, by: string): Promise<{ webhook: WebhookView; secret: string }> {
    const urlProblem = gitUrlProblem(req.repository);
    if (urlProblem) throw new SlipwayError('SLW_BAD_REQUEST', `repository: ${urlProblem}`, [{ path: 'repository', message: urlProblem }]);
    const dir = (req.path ?? '').replace(/^\/+|\/+$/g, '');
    const pathProblem = repoPathProblem(dir);
    if (pathProblem) throw new SlipwayError('SLW_BAD_REQUEST', `path: ${pathProblem}`, [{ path: 'path', message: pathProblem }]);
    const secret = randomBytes(32).toString('hex');
    const sealed = this.ctx.cipher.seal(secret, sealContext(project));
    const w = await this.ctx.store.putWebhook({ project, repository: req.repository, path: dir, keyId: sealed.keyId, sealed: sealed.sealed, createdBy: by });
    return { webhook: view(w), secret };
  }

  async get(project: string): Promise<WebhookView> {
    return view(await this.require(project));
  }

  async remove(project: string): Promise<void> {
    if (!(await this.ctx.store.deleteWebhook(project))) throw new SlipwayError('SLW_NOT_FOUND', `project "${project}" has no webhook`);
  }

  /** Re-seals every webhook secret under the primary key (part of a master key rotation). */
  async reseal(): Promise<number> {
    const { store, cipher } = this.ctx;
    const all = await store.listWebhooks();
    await store.resealWebhooks(all.map((w) => ({ project: w.project, ...cipher.seal(cipher.open(w.sealed, sealContext(w.project)), sealContext(w.project)) })));
    return all.length;
  }

  /** Verifies and acts on one delivery. Throws SLW_UNAUTHORIZED (bad signature) or SLW_CONFLICT (replay). */
  async receive(project: string, headers: WebhookHeaders, rawBody: Buffer): Promise<WebhookOutcome> {
    const hook = await this.require(project);
    const secret = this.ctx.cipher.open(hook.sealed, sealContext(project));
    const github = header(headers, 'x-hub-signature-256') !== undefined;
    const { deliveryId, signedSha256 } = github ? verifyGithub(secret, headers, rawBody) : verifyGeneric(secret, headers, rawBody, Date.now());
    const { store } = this.ctx;
    await store.pruneWebhookDeliveries(new Date(Date.now() - DELIVERY_RETENTION_MS).toISOString());
    if (!(await store.recordDelivery(project, deliveryId))) {
      throw new SlipwayError('SLW_CONFLICT', `delivery ${deliveryId} was already received: replays are refused`);
    }
    if (github) {
      const event = header(headers, 'x-github-event') ?? 'push';
      if (event === 'ping') return { status: 'pong', message: 'pong: the webhook is set up' };
      if (event !== 'push') return { status: 'ignored', message: `event "${event}" is not a push` };
    }
    const push = parsePush(rawBody, github);
    // The delivery id is the sender's word (GitHub does not sign it): key on what was signed.
    if (!(await store.recordWebhookPush({ project, ref: push.ref, commit: push.commit, bodySha256: signedSha256, deliveryId }))) {
      throw new SlipwayError('SLW_CONFLICT', `push of ${push.commit.slice(0, 7)} to ${push.ref} was already accepted (same signed body under delivery ${deliveryId}): replays are refused`);
    }
    if (!push.branch) return { status: 'ignored', message: `${push.ref} is not a branch` };
    if (ZERO_SHA.test(push.commit)) return { status: 'ignored', message: `branch ${push.branch} was deleted` };

    const text = await this.readProjectFile(hook, push.commit);
    const base = parseProjectConfig(text);
    if (!base.ok) throw new SlipwayError('SLW_CONFIG_INVALID', `slipway.yml at ${push.commit.slice(0, 7)} is invalid:\n${formatErrors(base.errors)}`, base.errors);
    if (base.config.project !== project) {
      throw new SlipwayError('SLW_BAD_REQUEST', `slipway.yml at ${push.commit.slice(0, 7)} is for project "${base.config.project}", but this is the webhook of "${project}"`);
    }
    const env = base.config.branches[push.branch];
    if (!env) {
      return { status: 'ignored', branch: push.branch, commit: push.commit, message: `branch ${push.branch} deploys nowhere (branches: in slipway.yml maps ${Object.keys(base.config.branches).join(', ') || 'none'})` };
    }
    const resolved = parseProjectConfig(text, { env });
    if (!resolved.ok) throw new SlipwayError('SLW_CONFIG_INVALID', `slipway.yml at ${push.commit.slice(0, 7)} is invalid for ${env}:\n${formatErrors(resolved.errors)}`, resolved.errors);
    const forcedNote = await this.checkNotBehindLive(hook, push, env, Object.keys(resolved.config.services));
    const triggeredBy = `webhook:${project} (push ${push.branch} ${push.commit.slice(0, 7)})`;
    // Every service, built from the pushed commit; like a project token, only the project's own images (image-policy.ts).
    const { requests } = planDeployRequests({ config: text, env, sources: {}, git: { url: hook.repository, ref: push.commit, path: hook.path }, allowDestructive: false, triggeredBy, unrestricted: false });
    const deployments = (await this.engine.deployAll(requests)).map((d) => d.id);
    return { status: 'deploying', branch: push.branch, commit: push.commit, env, deployments, message: `deploying ${push.commit.slice(0, 7)} of ${push.branch} to ${env}${forcedNote}` };
  }

  /**
   * Refuses a push whose commit does not descend from a live git commit of the environment
   * (an old push replayed, or history rewritten), unless it is a forced push and slipway.yml
   * *at that live commit* allows it: the policy in force decides, not the pushed file.
   * Returns a note for the outcome when a forced push was let through.
   */
  private async checkNotBehindLive(hook: Webhook, push: Push, env: string, services: string[]): Promise<string> {
    const { store } = this.ctx;
    const project = await store.getProject(hook.project);
    const environment = project && (await store.getEnvironment(project.id, env));
    if (!project || !environment) return '';
    const names = new Map((await store.listServices(project.id)).map((s) => [s.id, s.name]));
    const live = new Set<string>();
    for (const r of await store.listCurrentReleases(environment.id)) {
      const sha = /^git:([0-9a-f]{40})$/.exec(r.sourceRef ?? '')?.[1];
      if (sha && services.includes(names.get(r.serviceId) ?? '')) live.add(sha);
    }
    const notes: string[] = [];
    for (const sha of live) {
      const descends = await this.ctx.sources.withScratchDir((dir) => this.ctx.git.isAncestor(hook.repository, sha, push.commit, path.join(dir, 'history')));
      if (descends) continue;
      const short = `${push.commit.slice(0, 7)} (${push.branch})`;
      if (!push.forced) {
        throw new SlipwayError('SLW_CONFLICT', `push of ${short} refused: it does not descend from ${sha.slice(0, 7)}, live in ${env} (an old push replayed, or history rewritten); a forced push is accepted only when slipway.yml at the live commit sets webhooks.allow_force_push`, [
          { path: 'commit', message: `must descend from the live commit ${sha.slice(0, 7)} of ${env}` },
        ]);
      }
      const livePolicy = parseProjectConfig(await this.readProjectFile(hook, sha));
      if (!livePolicy.ok || !forcePushAllowed(livePolicy.config.allowForcePush, push.branch!)) {
        throw new SlipwayError('SLW_CONFLICT', `forced push of ${short} refused: it does not descend from ${sha.slice(0, 7)}, live in ${env}, and slipway.yml at ${sha.slice(0, 7)} does not allow forced pushes of ${push.branch} (webhooks: { allow_force_push: true } or [${push.branch}])`, [
          { path: 'forced', message: `webhooks.allow_force_push at the live commit ${sha.slice(0, 7)} does not include ${push.branch}` },
        ]);
      }
      notes.push(sha.slice(0, 7));
    }
    return notes.length ? ` (forced push over ${notes.join(', ')}, allowed by webhooks.allow_force_push)` : '';
  }

  private async readProjectFile(hook: Webhook, commit: string): Promise<string> {
    return this.ctx.sources.withScratchDir(async (dir) => {
      await this.ctx.git.checkout(hook.repository, commit, dir);
      const file = path.join(dir, hook.path, 'slipway.yml');
      try {
        return await readFile(file, 'utf8');
      } catch {
        throw new SlipwayError('SLW_NOT_FOUND', `no slipway.yml in ${hook.path || 'the root'} of ${redactGitUrl(hook.repository)} at ${commit.slice(0, 7)}`);
      }
    });
  }

  private async require(project: string): Promise<Webhook> {
    const w = await this.ctx.store.getWebhook(project);
    if (!w) throw new SlipwayError('SLW_NOT_FOUND', `project "${project}" has no webhook (slipway webhook create)`);
    return w;
  }
}

function view(w: Webhook): WebhookView {
  const { keyId: _k, sealed: _s, ...rest } = w;
  return rest;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function signatureMatches(expectedHex: string, given: string | undefined): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(given ?? '');
  if (!m) return false;
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(m[1]!.toLowerCase(), 'hex'));
}

function unauthorized(reason: string): SlipwayError {
  return new SlipwayError('SLW_UNAUTHORIZED', `webhook delivery refused: ${reason}`);
}

export function forcePushAllowed(allow: boolean | string[], branch: string): boolean {
  return allow === true || (Array.isArray(allow) && allow.includes(branch));
}

/** A verified delivery: its id, and the SHA-256 of exactly what its signature covers. */
export interface VerifiedDelivery {
  deliveryId: string;
  signedSha256: string;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

export function verifyGithub(secret: string, headers: WebhookHeaders, body: Buffer): VerifiedDelivery {
  const expected = createHmac('sha256', secret).update(body).digest('hex');
  if (!signatureMatches(expected, header(headers, 'x-hub-signature-256'))) throw unauthorized('X-Hub-Signature-256 does not match the body');
  const id = header(headers, 'x-github-delivery');
  if (!id) throw unauthorized('no X-GitHub-Delivery id');
  return { deliveryId: `github:${id}`, signedSha256: sha256(body) };
}

/** The bytes the generic form signs: `<timestamp>.<delivery id>.<raw body>`. */
export function genericSigningInput(timestamp: string, deliveryId: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}.${deliveryId}.`), body]);
}

export function verifyGeneric(secret: string, headers: WebhookHeaders, body: Buffer, nowMs: number): VerifiedDelivery {
  const signature = header(headers, 'x-slipway-signature');
  if (!signature) throw unauthorized('unsigned (send X-Hub-Signature-256, or X-Slipway-Signature with X-Slipway-Timestamp and X-Slipway-Delivery)');
  const timestamp = header(headers, 'x-slipway-timestamp') ?? '';
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs - Number(timestamp) * 1000) > MAX_SKEW_MS) {
    throw unauthorized('X-Slipway-Timestamp must be the Unix time in seconds (digits), at most 5 minutes off');
  }
  const id = header(headers, 'x-slipway-delivery') ?? '';
  if (!DELIVERY_ID_RE.test(id)) throw unauthorized('X-Slipway-Delivery must be a unique id of 1-128 letters, digits, "_", ":" or "-" (it is signed with the timestamp)');
  const signed = genericSigningInput(timestamp, id, body);
  const expected = createHmac('sha256', secret).update(signed).digest('hex');
  if (!signatureMatches(expected, signature)) throw unauthorized('X-Slipway-Signature does not match "<X-Slipway-Timestamp>.<X-Slipway-Delivery>.<body>"');
  return { deliveryId: `slipway:${id}`, signedSha256: sha256(signed) };
}

export interface Push {
  ref: string;
  branch: string | null;
  commit: string;
  /** GitHub's `forced` (the branch was rewound or rewritten); the generic form may send it too. */
  forced: boolean;
}

export function parsePush(body: Buffer, github: boolean): Push {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new SlipwayError('SLW_BAD_REQUEST', 'the delivery body is not JSON (set the webhook content type to application/json)');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new SlipwayError('SLW_BAD_REQUEST', 'the delivery body must be a JSON object', [{ path: '(body)', message: 'must be an object' }]);
  const ref = typeof json.ref === 'string' ? json.ref : '';
  const commit = String((github ? json.after : json.commit) ?? '');
  if (!ref) throw new SlipwayError('SLW_BAD_REQUEST', 'the push has no "ref"', [{ path: 'ref', message: 'required' }]);
  if (!/^[0-9a-f]{40}$/.test(commit)) {
    throw new SlipwayError('SLW_BAD_REQUEST', `the push has no commit SHA in "${github ? 'after' : 'commit'}"`, [{ path: github ? 'after' : 'commit', message: 'must be a 40-hex commit SHA' }]);
  }
  if (json.forced !== undefined && typeof json.forced !== 'boolean') {
    throw new SlipwayError('SLW_BAD_REQUEST', 'the push\'s "forced" must be true or false', [{ path: 'forced', message: 'must be a boolean' }]);
  }
  const branch = github ? (ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null) : ref.replace(/^refs\/heads\//, '');
  return { ref, branch, commit, forced: json.forced === true };
}
