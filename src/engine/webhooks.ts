/**
 * Push webhooks. A project registers its repository; the server gives it a secret (shown
 * once, kept sealed under the master key). A delivery must be signed — GitHub's
 * `X-Hub-Signature-256` (HMAC-SHA256 of the raw body), or Slipway's generic form (HMAC of
 * `<timestamp>.<delivery id>.<body>` with a timestamp at most 5 minutes old) — and carry a
 * delivery id never seen before. Since GitHub signs the body only, a push is also refused
 * when the same signed bytes were accepted before under another id, and when its commit
 * does not descend from the environment's live commit (a replay of an old push would roll
 * production back) unless it is a forced push that the live slipway.yml allows (a tag of an
 * older commit: unless the live slipway.yml allows it, forced or not). A push to a branch or
 * a tag that slipway.yml *at that commit* maps to an environment (`branches: { main: staging,
 * "release/*": production }`, `tags: { "v*": production }`; names and patterns:
 * core/ref-triggers.ts) deploys that commit (a tag: the tagged commit) there, built by the
 * server from git, the deployment recording the ref and the commit; approval still applies to
 * environments that require it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseProjectConfig, formatErrors } from '../core/parse-config';
import { planDeployRequests } from './plan-deploy-requests';
import { SlipwayError } from '../core/errors';
import { gitUrlProblem, redactGitUrl, repoPathProblem } from '../core/git-source';
import { matchRef, parsePushedRef, REF_MAP_FIELD, rewindAllowed, type PushedRef, type RefMatch } from '../core/ref-triggers';
import type { ProjectConfig } from '../core/config';
import type { Webhook } from '../core/domain';
import type { EngineContext } from './engine-context';
import type { DeployEngine } from './deploy-engine';

export type WebhookHeaders = Record<string, string | string[] | undefined>;

export interface WebhookOutcome {
  status: 'pong' | 'ignored' | 'deploying';
  message: string;
  /** The pushed ref in full (`refs/heads/main`, `refs/tags/v1.0.0`). */
  ref?: string;
  branch?: string;
  tag?: string;
  /** The branches:/tags: key that matched (the name itself, or a pattern). */
  matched?: string;
  /** The commit deployed: an annotated tag peeled to its commit. */
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
    const target = push.target;
    if (!target) return { status: 'ignored', ref: push.ref, message: `${push.ref} is not a branch or a tag` };
    const named = refNaming(target);
    if (ZERO_SHA.test(push.commit)) return { status: 'ignored', ref: target.ref, ...named, message: `${target.kind} ${target.name} was deleted` };

    // The checkout peels an annotated tag (GitHub's "after" is then the tag object) to its commit.
    const { text, commit } = await this.readProjectFile(hook, push.commit);
    const short = commit.slice(0, 7);
    const base = parseProjectConfig(text);
    if (!base.ok) throw new SlipwayError('SLW_CONFIG_INVALID', `slipway.yml at ${short} is invalid:\n${formatErrors(base.errors)}`, base.errors);
    if (base.config.project !== project) {
      throw new SlipwayError('SLW_BAD_REQUEST', `slipway.yml at ${short} is for project "${base.config.project}", but this is the webhook of "${project}"`);
    }
    const match = routePush(base.config, target);
    if (!match) {
      const map = base.config[REF_MAP_FIELD[target.kind]];
      return { status: 'ignored', ref: target.ref, ...named, commit, message: `${target.kind} ${target.name} deploys nowhere (${REF_MAP_FIELD[target.kind]}: in slipway.yml maps ${Object.keys(map).join(', ') || 'none'})` };
    }
    const { env } = match;
    const resolved = parseProjectConfig(text, { env });
    if (!resolved.ok) throw new SlipwayError('SLW_CONFIG_INVALID', `slipway.yml at ${short} is invalid for ${env}:\n${formatErrors(resolved.errors)}`, resolved.errors);
    const forcedNote = await this.checkNotBehindLive(hook, { ...push, target, commit }, env, Object.keys(resolved.config.services));
    const triggeredBy = `webhook:${project} (push ${target.kind === 'tag' ? 'tag ' : ''}${target.name} ${short})`;
    // Every service, built from the pushed commit; like a project token, only the project's own images (image-policy.ts).
    const { requests } = planDeployRequests({
      config: text,
      env,
      sources: {},
      git: { url: hook.repository, ref: commit, path: hook.path },
      gitTrigger: { ref: target.ref, commit },
      allowDestructive: false,
      triggeredBy,
      unrestricted: false,
    });
    const deployments = (await this.engine.deployAll(requests)).map((d) => d.id);
    const via = match.key === target.name ? '' : ` (${REF_MAP_FIELD[target.kind]}: "${match.key}")`;
    return { status: 'deploying', ref: target.ref, ...named, matched: match.key, commit, env, deployments, message: `deploying ${short} of ${target.kind === 'tag' ? 'tag ' : ''}${target.name} to ${env}${via}${forcedNote}` };
  }

  /**
   * Refuses a push whose commit does not descend from a live git commit of the environment
   * (an old push replayed, or history rewritten), unless it is a forced push and slipway.yml
   * *at that live commit* allows it: the policy in force decides, not the pushed file.
   * Returns a note for the outcome when a forced push was let through.
   */
  private async checkNotBehindLive(hook: Webhook, push: Push & { target: PushedRef }, env: string, services: string[]): Promise<string> {
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
      const { target } = push;
      const short = `${push.commit.slice(0, 7)} (${target.kind === 'tag' ? 'tag ' : ''}${target.name})`;
      // A tag is created, not rewound: a tag of an older commit is a deliberate choice that only
      // the live policy can allow, whatever GitHub's "forced" says. A branch must be forced too.
      if (target.kind === 'branch' && !push.forced) {
        throw new SlipwayError('SLW_CONFLICT', `push of ${short} refused: it does not descend from ${sha.slice(0, 7)}, live in ${env} (an old push replayed, or history rewritten); a forced push is accepted only when slipway.yml at the live commit sets webhooks.allow_force_push`, [
          { path: 'commit', message: `must descend from the live commit ${sha.slice(0, 7)} of ${env}` },
        ]);
      }
      const livePolicy = parseProjectConfig((await this.readProjectFile(hook, sha)).text);
      if (!livePolicy.ok || !rewindAllowed(livePolicy.config.allowForcePush, target)) {
        if (target.kind === 'tag') {
          throw new SlipwayError('SLW_CONFLICT', `push of ${short} refused: the tagged commit does not descend from ${sha.slice(0, 7)}, live in ${env}, and slipway.yml at ${sha.slice(0, 7)} does not allow tags of older commits (webhooks: { allow_force_push: true } or ["refs/tags/${target.name}"], patterns allowed)`, [
            { path: 'commit', message: `webhooks.allow_force_push at the live commit ${sha.slice(0, 7)} does not include refs/tags/${target.name}` },
          ]);
        }
        throw new SlipwayError('SLW_CONFLICT', `forced push of ${short} refused: it does not descend from ${sha.slice(0, 7)}, live in ${env}, and slipway.yml at ${sha.slice(0, 7)} does not allow forced pushes of ${target.name} (webhooks: { allow_force_push: true } or [${target.name}], patterns allowed)`, [
          { path: 'forced', message: `webhooks.allow_force_push at the live commit ${sha.slice(0, 7)} does not include ${target.name}` },
        ]);
      }
      notes.push(sha.slice(0, 7));
    }
    if (!notes.length) return '';
    return push.target.kind === 'tag' ? ` (a tag of a commit older than ${notes.join(', ')}, allowed by webhooks.allow_force_push)` : ` (forced push over ${notes.join(', ')}, allowed by webhooks.allow_force_push)`;
  }

  /** slipway.yml at `commit`, and the commit checked out (a tag object peeled to its commit). */
  private async readProjectFile(hook: Webhook, commit: string): Promise<{ text: string; commit: string }> {
    return this.ctx.sources.withScratchDir(async (dir) => {
      const checkedOut = await this.ctx.git.checkout(hook.repository, commit, dir);
      const file = path.join(dir, hook.path, 'slipway.yml');
      try {
        return { text: await readFile(file, 'utf8'), commit: checkedOut.commit };
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

/** Whether webhooks.allow_force_push lets a forced push of `branch` rewind the live commit. */
export function forcePushAllowed(allow: boolean | string[], branch: string): boolean {
  return rewindAllowed(allow, { kind: 'branch', name: branch, ref: `refs/heads/${branch}` });
}

/** The environment a pushed branch or tag deploys to by slipway.yml's branches:/tags:, or null. */
export function routePush(config: Pick<ProjectConfig, 'branches' | 'tags'>, target: PushedRef): RefMatch | null {
  return matchRef(target.kind === 'tag' ? config.tags : config.branches, target.name);
}

function refNaming(target: PushedRef): { branch: string } | { tag: string } {
  return target.kind === 'tag' ? { tag: target.name } : { branch: target.name };
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
  /** The branch or tag pushed; null for another kind of ref. */
  target: PushedRef | null;
  /** As sent: for an annotated tag, GitHub sends the tag object (peeled when checked out). */
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
  // GitHub sends full refs; the generic form may send a bare branch name.
  return { ref, target: parsePushedRef(ref, !github), commit, forced: json.forced === true };
}
