/**
 * Typed client of the Slipway HTTP API, used by the CLI (and later the dashboard).
 * Non-2xx answers become ApiError carrying the server's code, message and details.
 */
import type { ApiToken, AuditEntry, DeploymentLogLine, EventType, NotificationDelivery, NotificationTarget, Scope, User, Webhook } from '../core/domain';

export type NotificationTargetView = Omit<NotificationTarget, 'keyId' | 'sealed'>;

export type WebhookView = Omit<Webhook, 'keyId' | 'sealed'>;
import type { ErrorDetail } from '../core/errors';
import type { BaseImageKind, BaseImageResult } from '../core/ports/base-images';
import type { LogEntry } from '../core/ports/runtime';
import type { DeploymentView, EnvironmentView, HealthReport, JobRunView, ProjectStatusView, ProjectSummaryView, ReleaseView, SecretListView } from '../core/views';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type DeploymentStreamEvent =
  | { type: 'log'; line: DeploymentLogLine }
  | { type: 'state'; state: string; error: string | null }
  | { type: 'end'; state: string; error: string | null; errorCode: string | null };

export type RunEvent =
  | { type: 'output'; stream: 'stdout' | 'stderr'; line: string }
  | { type: 'exit'; exitCode: number | null; timedOut: boolean; durationMs: number; release: number }
  | { type: 'error'; message: string };

export interface SecretsChangeResult {
  version: number | null;
  changed: string[];
  unchanged: string[];
  rollouts: Array<{ service: string; deploymentId: string | null; note: string | null }>;
}

export interface SourceView {
  sha256: string;
  bytes: number;
  files: number;
}

/** POST /api/v1/deployments: slipway.yml's text and where built services take their source. */
export interface DeployBody {
  config: string;
  services?: string[];
  env?: string;
  /** Per built service, the uploaded context it builds from (see uploadSource). */
  sources?: Record<string, { sha256: string; commit?: string | null }>;
  /** Build from this repository instead; `path` is slipway.yml's directory in it. */
  git?: { url: string; ref?: string; path?: string };
  /** Deploy this prebuilt image instead of building. */
  image?: string;
}

export interface ClientOptions {
  url: string;
  token?: string;
}

export class SlipwayClient {
  private readonly base: string;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  health(): Promise<HealthReport> {
    return this.request('GET', '/api/v1/health', undefined, [200, 503]);
  }

  deploy(body: DeployBody): Promise<{ deployments: DeploymentView[] }> {
    return this.request('POST', '/api/v1/deployments', body);
  }

  /** The stored build context with this sha256; null when the server does not have it. */
  async source(sha256: string): Promise<SourceView | null> {
    try {
      return (await this.request<{ source: SourceView }>('GET', `/api/v1/sources/${enc(sha256)}`)).source;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** Uploads a build context (a tar archive whose bytes hash to `sha256`), streamed. */
  async uploadSource(sha256: string, body: ReadableStream<Uint8Array>, bytes: number): Promise<{ source: SourceView; existed: boolean }> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/api/v1/sources/${enc(sha256)}`, {
        method: 'PUT',
        headers: { ...this.authHeaders(), 'content-type': 'application/x-tar', 'content-length': String(bytes) },
        body,
        duplex: 'half',
      } as RequestInit);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(0, 'SLW_UNREACHABLE', `uploading the build context to ${this.base} failed (${cause})`);
    }
    if (!res.ok) throw await toApiError(res);
    return (await res.json()) as { source: SourceView; existed: boolean };
  }

  promote(body: { config: string; from: string; to?: string; services?: string[] }): Promise<{ deployments: DeploymentView[] }> {
    return this.request('POST', '/api/v1/promotions', body);
  }

  approve(id: string): Promise<{ deployment: DeploymentView }> {
    return this.request('POST', `/api/v1/deployments/${enc(id)}/approve`, {});
  }

  cancel(id: string): Promise<{ deployment: DeploymentView }> {
    return this.request('POST', `/api/v1/deployments/${enc(id)}/cancel`, {});
  }

  rollback(project: string, service: string, body: { env?: string; release?: number }): Promise<{ deployment: DeploymentView }> {
    return this.request('POST', `/api/v1/projects/${enc(project)}/services/${enc(service)}/rollback`, body);
  }

  deployment(id: string): Promise<{ deployment: DeploymentView }> {
    return this.request('GET', `/api/v1/deployments/${enc(id)}`);
  }

  deploymentLogs(id: string, after = 0): Promise<{ lines: DeploymentLogLine[] }> {
    return this.request('GET', `/api/v1/deployments/${enc(id)}/logs?after=${after}`);
  }

  deployments(project: string, q: { env?: string; service?: string; limit?: number } = {}): Promise<{ deployments: DeploymentView[] }> {
    return this.request('GET', `/api/v1/projects/${enc(project)}/deployments${query(q)}`);
  }

  status(project: string, env?: string): Promise<ProjectStatusView> {
    return this.request('GET', `/api/v1/projects/${enc(project)}/status${query({ env })}`);
  }

  releases(project: string, service: string, env?: string): Promise<{ releases: ReleaseView[] }> {
    return this.request('GET', `/api/v1/projects/${enc(project)}/services/${enc(service)}/releases${query({ env })}`);
  }

  environments(project: string): Promise<{ environments: EnvironmentView[] }> {
    return this.request('GET', `/api/v1/projects/${enc(project)}/environments`);
  }

  createEnvironment(project: string, name: string): Promise<{ environment: EnvironmentView }> {
    return this.request('POST', `/api/v1/projects/${enc(project)}/environments`, { name });
  }

  destroyEnvironment(project: string, env: string): Promise<{ destroyed: { environment: string; replicasRemoved: number; routesRemoved: number } }> {
    return this.request('DELETE', `/api/v1/projects/${enc(project)}/environments/${enc(env)}${query({ confirm: env })}`);
  }

  secrets(project: string, env: string): Promise<SecretListView> {
    return this.request('GET', `/api/v1/projects/${enc(project)}/environments/${enc(env)}/secrets`);
  }

  changeSecrets(project: string, env: string, body: { set?: Record<string, string>; unset?: string[]; deploy?: boolean }): Promise<SecretsChangeResult> {
    return this.request('PATCH', `/api/v1/projects/${enc(project)}/environments/${enc(env)}/secrets`, body);
  }

  rotateSecretsKey(): Promise<{ keyId: string; newKeyGenerated: boolean; resealed: number }> {
    return this.request('POST', '/api/v1/secrets/rotate-key', {});
  }

  jobRuns(project: string, q: { env?: string; service?: string; limit?: number } = {}): Promise<{ runs: JobRunView[] }> {
    return this.request('GET', `/api/v1/projects/${enc(project)}/jobs${query(q)}`);
  }

  jobRun(id: number): Promise<{ run: JobRunView }> {
    return this.request('GET', `/api/v1/jobs/${id}`);
  }

  login(body: { user: string; password: string; tokenName?: string; expiresIn?: string }): Promise<{ token: string; tokenInfo: ApiToken; user: User }> {
    return this.request('POST', '/api/v1/login', body);
  }

  whoami(): Promise<{ actor: string; scope: Scope; project: string | null; tokenId: string }> {
    return this.request('GET', '/api/v1/whoami');
  }

  projects(): Promise<{ projects: ProjectSummaryView[] }> {
    return this.request('GET', '/api/v1/projects');
  }

  tokens(): Promise<{ tokens: ApiToken[] }> {
    return this.request('GET', '/api/v1/tokens');
  }

  createToken(body: { name: string; scope: Scope; project?: string; expiresIn?: string }): Promise<{ token: string; tokenInfo: ApiToken }> {
    return this.request('POST', '/api/v1/tokens', body);
  }

  revokeToken(id: string): Promise<{ revoked: string }> {
    return this.request('DELETE', `/api/v1/tokens/${enc(id)}`);
  }

  users(): Promise<{ users: User[] }> {
    return this.request('GET', '/api/v1/users');
  }

  createUser(body: { name: string; password: string; scope: Scope }): Promise<{ user: User }> {
    return this.request('POST', '/api/v1/users', body);
  }

  deleteUser(name: string): Promise<{ deleted: string }> {
    return this.request('DELETE', `/api/v1/users/${enc(name)}`);
  }

  audit(q: { project?: string; since?: string; limit?: number } = {}): Promise<{ entries: AuditEntry[] }> {
    return this.request('GET', `/api/v1/audit${query(q)}`);
  }

  createWebhook(project: string, body: { repository: string; path?: string }): Promise<{ webhook: WebhookView; secret: string; url: string }> {
    return this.request('PUT', `/api/v1/projects/${enc(project)}/webhook`, body);
  }

  webhook(project: string): Promise<{ webhook: WebhookView; url: string }> {
    return this.request('GET', `/api/v1/projects/${enc(project)}/webhook`);
  }

  removeWebhook(project: string): Promise<{ removed: string }> {
    return this.request('DELETE', `/api/v1/projects/${enc(project)}/webhook`);
  }

  notificationTargets(): Promise<{ targets: NotificationTargetView[] }> {
    return this.request('GET', '/api/v1/notifications/targets');
  }

  addNotificationTarget(body: { kind: 'webhook' | 'slack'; url: string; project?: string; events?: EventType[] }): Promise<{ target: NotificationTargetView; secret: string | null }> {
    return this.request('POST', '/api/v1/notifications/targets', body);
  }

  removeNotificationTarget(id: string): Promise<{ removed: string }> {
    return this.request('DELETE', `/api/v1/notifications/targets/${enc(id)}`);
  }

  notificationDeliveries(limit = 50): Promise<{ deliveries: Array<NotificationDelivery & { type: string | null; project: string | null }> }> {
    return this.request('GET', `/api/v1/notifications/deliveries${query({ limit })}`);
  }

  /** The base URL this client talks to (for printing webhook URLs). */
  get url(): string {
    return this.base;
  }

  createBaseImage(kind: BaseImageKind, force = false): Promise<{ image: BaseImageResult }> {
    return this.request('POST', '/api/v1/base-images', { kind, force });
  }

  /** Follows a deployment's events (SSE) until it ends, resuming after disconnects. */
  async *followDeployment(id: string, signal?: AbortSignal): AsyncGenerator<DeploymentStreamEvent> {
    let lastId = 0;
    for (let attempt = 0; attempt < 30; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.base}/api/v1/deployments/${enc(id)}/events`, {
          headers: { ...this.authHeaders(), accept: 'text/event-stream', 'last-event-id': String(lastId) },
          signal,
        });
      } catch (err) {
        if (signal?.aborted) return;
        await new Promise((r) => setTimeout(r, 1000));
        if (attempt === 29) throw err;
        continue;
      }
      if (!res.ok) throw await toApiError(res);
      for await (const ev of parseSse(res.body!)) {
        if (ev.id) lastId = Number(ev.id);
        const data = JSON.parse(ev.data);
        if (ev.event === 'log') yield { type: 'log', line: data };
        else if (ev.event === 'state') yield { type: 'state', ...data };
        else if (ev.event === 'end') {
          yield { type: 'end', ...data };
          return;
        }
      }
    }
  }

  /** Runs a one-off command in the live release; yields its output and finally its exit. */
  async *run(project: string, service: string, body: { env?: string; argv: string[]; timeout?: string }): AsyncGenerator<RunEvent> {
    const res = await fetch(`${this.base}/api/v1/projects/${enc(project)}/services/${enc(service)}/run`, {
      method: 'POST',
      headers: { ...this.authHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).catch((err: Error) => {
      throw new ApiError(0, 'SLW_UNREACHABLE', `cannot reach the Slipway server at ${this.base} (${err.message})`);
    });
    if (!res.ok) throw await toApiError(res);
    yield* ndjson<RunEvent>(res.body!);
  }

  /** Container logs as they arrive (NDJSON stream). */
  async *logs(project: string, service: string, q: { env?: string; tail?: number; follow?: boolean }, signal?: AbortSignal): AsyncGenerator<LogEntry> {
    const res = await fetch(`${this.base}/api/v1/projects/${enc(project)}/services/${enc(service)}/logs${query(q)}`, {
      headers: this.authHeaders(),
      signal,
    });
    if (!res.ok) throw await toApiError(res);
    yield* ndjson<LogEntry>(res.body!);
  }

  private authHeaders(): Record<string, string> {
    return this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {};
  }

  private async request<T>(method: string, path: string, body?: unknown, okStatuses?: number[]): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { ...this.authHeaders(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(0, 'SLW_UNREACHABLE', `cannot reach the Slipway server at ${this.base} (${cause}); is "slipway server" running?`);
    }
    if (!res.ok && !okStatuses?.includes(res.status)) throw await toApiError(res);
    return (await res.json()) as T;
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code: string; message: string; details?: ErrorDetail[] } };
    if (body.error) return new ApiError(res.status, body.error.code, body.error.message, body.error.details ?? []);
  } catch {
    // not JSON
  }
  return new ApiError(res.status, 'SLW_HTTP', `HTTP ${res.status}: ${text.slice(0, 200)}`);
}

async function* ndjson<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) yield JSON.parse(line) as T;
    }
  }
}

async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<{ id?: string; event: string; data: string }> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let sep: number;
    while ((sep = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, sep);
      buf = buf.slice(sep + 2);
      const ev: { id?: string; event: string; data: string } = { event: 'message', data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'id') ev.id = value;
        else if (field === 'event') ev.event = value;
        else if (field === 'data') ev.data += (ev.data ? '\n' : '') + value;
      }
      if (ev.data) yield ev;
    }
  }
}

const enc = encodeURIComponent;

function query(q: Record<string, string | number | boolean | undefined>): string {
  const entries = Object.entries(q).filter(([, v]) => v !== undefined) as [string, string | number | boolean][];
  return entries.length ? `?${entries.map(([k, v]) => `${enc(k)}=${enc(String(v))}`).join('&')}` : '';
}
