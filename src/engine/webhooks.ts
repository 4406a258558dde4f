/**
 * Push webhooks. A project registers its repository; the server gives it a secret (shown
 * once, kept sealed under the master key). A delivery must be signed — GitHub's
 * `X-Hub-Signature-256` (HMAC-SHA256 of the raw body), or Slipway's generic form (HMAC of
 * `<timestamp>.<body>` with a timestamp at most 5 minutes old) — and carry a delivery id
 * never seen before. A push to a branch that slipway.yml *at that commit* maps to an
 * environment (`branches: { main: staging }`) deploys that commit there, built by the
 * server from git; approval still applies to environments that require it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseProjectConfig, formatErrors } from '../core/parse-config';
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
    const deliveryId = github ? verifyGithub(secret, headers, rawBody) : verifyGeneric(secret, headers, rawBody);
    if (!(await this.ctx.store.recordDelivery(project, deliveryId))) {
      throw new SlipwayError('SLW_CONFLICT', `delivery ${deliveryId} was already received: replays are refused`);
    }
    if (github) {
      const event = header(headers, 'x-github-event') ?? 'push';
      if (event === 'ping') return { status: 'pong', message: 'pong: the webhook is set up' };
      if (event !== 'push') return { status: 'ignored', message: `event "${event}" is not a push` };
    }
    const push = parsePush(rawBody, github);
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
    const triggeredBy = `webhook:${project} (push ${push.branch} ${push.commit.slice(0, 7)})`;
    const requests = Object.keys(resolved.config.services).map((service) => ({
      config: resolved.config,
      service,
      env,
      source: resolved.config.services[service]!.source.kind === 'build' ? { kind: 'git' as const, url: hook.repository, ref: push.commit, path: hook.path } : null,
      triggeredBy,
    }));
    const deployments = (await this.engine.deployAll(requests)).map((d) => d.id);
    return { status: 'deploying', branch: push.branch, commit: push.commit, env, deployments, message: `deploying ${push.commit.slice(0, 7)} of ${push.branch} to ${env}` };
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

function verifyGithub(secret: string, headers: WebhookHeaders, body: Buffer): string {
  const expected = createHmac('sha256', secret).update(body).digest('hex');
  if (!signatureMatches(expected, header(headers, 'x-hub-signature-256'))) throw unauthorized('X-Hub-Signature-256 does not match the body');
  const id = header(headers, 'x-github-delivery');
  if (!id) throw unauthorized('no X-GitHub-Delivery id');
  return `github:${id}`;
}

function verifyGeneric(secret: string, headers: WebhookHeaders, body: Buffer): string {
  const signature = header(headers, 'x-slipway-signature');
  if (!signature) throw unauthorized('unsigned (send X-Hub-Signature-256, or X-Slipway-Signature with X-Slipway-Timestamp and X-Slipway-Delivery)');
  const timestamp = header(headers, 'x-slipway-timestamp') ?? '';
  const at = Number(timestamp) * 1000;
  if (!Number.isFinite(at) || Math.abs(Date.now() - at) > MAX_SKEW_MS) throw unauthorized('X-Slipway-Timestamp is missing or more than 5 minutes off');
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  if (!signatureMatches(expected, signature)) throw unauthorized('X-Slipway-Signature does not match the timestamp and body');
  const id = header(headers, 'x-slipway-delivery');
  if (!id) throw unauthorized('no X-Slipway-Delivery id');
  return `slipway:${id}`;
}

function parsePush(body: Buffer, github: boolean): { ref: string; branch: string | null; commit: string } {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new SlipwayError('SLW_BAD_REQUEST', 'the delivery body is not JSON (set the webhook content type to application/json)');
  }
  const ref = typeof json.ref === 'string' ? json.ref : '';
  const commit = String((github ? json.after : json.commit) ?? '');
  if (!ref) throw new SlipwayError('SLW_BAD_REQUEST', 'the push has no "ref"', [{ path: 'ref', message: 'required' }]);
  if (!/^[0-9a-f]{40}$/.test(commit)) {
    throw new SlipwayError('SLW_BAD_REQUEST', `the push has no commit SHA in "${github ? 'after' : 'commit'}"`, [{ path: github ? 'after' : 'commit', message: 'must be a 40-hex commit SHA' }]);
  }
  const branch = github ? (ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null) : ref.replace(/^refs\/heads\//, '');
  return { ref, branch, commit };
}
