/**
 * Small in-memory stand-ins for the ports the accessory manager uses (the accessory parts of
 * Store and Runtime, a SecretCipher that authenticates its context, AccessoryImages,
 * PostgresAdmin), recording what was called, for the engine's unit tests. Integration tests
 * exercise the real Docker, store and Postgres.
 */
import pino from 'pino';
import type { AccessoryConfig, ServiceConfig } from '../core/config';
import type { AccessoryRecord, SealedAccessoryCredentials } from '../core/domain';
import type { AccessoryWrite } from '../core/ports/store';
import type { AccessoryContainer, AccessorySpec, ExecResult, VolumeInfo } from '../core/ports/runtime';
import type { PostgresProvisioning, PostgresTarget } from '../core/ports/postgres-admin';
import type { ProbeResult } from '../core/ports/probe';
import type { EngineContext } from './engine-context';
import { Accessories } from './accessories';

export function accessoryConfig(name: string, kind: AccessoryConfig['kind'], over: Partial<AccessoryConfig> = {}): AccessoryConfig {
  const builtIn = kind !== 'container';
  const port = { postgres: 5432, redis: 6379, nats: 4222, container: null }[kind];
  const health: AccessoryConfig['health'] =
    kind === 'postgres'
      ? { kind: 'exec', path: null, port: null, command: ['pg_isready', '-q'], intervalMs: 1, timeoutMs: 1000, deadlineMs: 200 }
      : kind === 'redis'
        ? { kind: 'exec', path: null, port: null, command: ['sh', '-c', 'redis-cli ping'], intervalMs: 1, timeoutMs: 1000, deadlineMs: 200 }
        : null;
  return {
    name,
    kind,
    image: builtIn ? `slipway/${kind}:${{ postgres: '15', redis: '7', nats: '2' }[kind]}` : 'example/thing:1',
    builtIn,
    version: builtIn ? { postgres: '15', redis: '7', nats: '2' }[kind] : null,
    port,
    volumes: [{ volume: 'data', path: '/data', readOnly: false }],
    env: {},
    command: null,
    health,
    resources: { memoryBytes: null, cpus: null },
    stopTimeoutMs: 5000,
    database: kind === 'postgres' ? 'shop' : null,
    ...over,
  };
}

export function accessoryWorld() {
  let nextId = 1;
  const calls: string[] = [];
  const w = {
    calls,
    records: [] as AccessoryRecord[],
    creds: [] as SealedAccessoryCredentials[],
    containers: [] as AccessoryContainer[],
    volumes: [] as VolumeInfo[],
    started: [] as AccessorySpec[],
    provisions: [] as Array<{ target: PostgresTarget; plan: PostgresProvisioning }>,
    events: [] as Array<{ type: string; payload: Record<string, unknown> }>,
    /** Exec answers, consumed in order; then exit 0. */
    execResults: [] as ExecResult[],
    execEnvs: [] as Array<Record<string, string> | undefined>,
    images: new Map<string, string>([['example/thing:1', 'sha256:thing1']]),
    builtIns: 0,
    /** Log lines of every container (for failed readiness and logs()). */
    containerLog: ['starting', 'ready'] as string[],
    /** A started container exits at once with this (readiness fails). */
    startExited: null as null | { exitCode: number; oomKilled: boolean },
    services: [] as Array<{ id: number; name: string; config: Partial<ServiceConfig> }>,
    networksEnsured: [] as string[],
    networksRemoved: [] as string[],
    tcp: [] as Array<{ host: string; port: number }>,
    http: [] as string[],
    /** Errors postgres.provision throws, consumed in order (then it succeeds). */
    provisionErrors: [] as Error[],
    execArgv: [] as string[][],
    /** Answers exec by argv before execResults (undefined: not this one). */
    execAnswer: null as null | ((argv: string[]) => ExecResult | undefined),
    /** Started containers whose spec this accepts exit at once with code 1 (readiness fails). */
    exitsIf: null as null | ((spec: AccessorySpec) => boolean),
    /** The clock heal()'s backoff reads (ms); tests move it. */
    now: 1_000_000,
  };
  const now = () => new Date().toISOString();
  const leases = new Map<string, { holder: string; expiresAt: string }>();
  const store = {
    getProject: async (name: string) => (name === 'shop' ? { id: 1, name: 'shop', createdAt: now() } : null),
    listProjects: async () => [{ id: 1, name: 'shop', createdAt: now() }],
    getEnvironment: async (_p: number, name: string) => ({ production: { id: 10, projectId: 1, name: 'production' }, staging: { id: 11, projectId: 1, name: 'staging' } })[name] ?? null,
    listEnvironments: async () => [
      { id: 10, projectId: 1, name: 'production' },
      { id: 11, projectId: 1, name: 'staging' },
    ],
    listServices: async () => w.services.map((s) => ({ id: s.id, projectId: 1, name: s.name, type: 'web', createdAt: now() })),
    getCurrentReleaseId: async (serviceId: number) => (w.services.some((s) => s.id === serviceId) ? serviceId * 100 : null),
    getRelease: async (id: number) => {
      const s = w.services.find((x) => x.id * 100 === id);
      return s ? { id, serviceId: s.id, environmentId: 10, number: 1, config: s.config } : null;
    },
    getCurrentRelease: async (serviceId: number) => {
      const s = w.services.find((x) => x.id === serviceId);
      return s ? { id: serviceId * 100, serviceId, environmentId: 10, number: 1, config: s.config } : null;
    },
    listAccessories: async (environmentId?: number) => w.records.filter((r) => environmentId === undefined || r.environmentId === environmentId).map((r) => ({ ...r })),
    getAccessory: async (environmentId: number, name: string) => {
      const r = w.records.find((x) => x.environmentId === environmentId && x.name === name);
      return r ? { ...r } : null;
    },
    saveAccessory: async (a: AccessoryWrite) => {
      calls.push(`save ${a.name} ${a.specHash || '(never started)'}`);
      let r = w.records.find((x) => x.environmentId === a.environmentId && x.name === a.name);
      if (!r) {
        r = { id: nextId++, credentialsVersion: 0, createdAt: now(), updatedAt: now(), ...a };
        w.records.push(r);
      } else Object.assign(r, a, { updatedAt: now() });
      return { ...r };
    },
    deleteAccessory: async (id: number) => {
      w.records = w.records.filter((r) => r.id !== id);
      w.creds = w.creds.filter((c) => c.accessoryId !== id);
    },
    addAccessoryCredentials: async (accessoryId: number, sealed: { keyId: string; sealed: string }) => {
      const version = w.creds.filter((c) => c.accessoryId === accessoryId).length + 1;
      const row = { accessoryId, version, ...sealed, createdAt: now() };
      w.creds.push(row);
      w.records.find((r) => r.id === accessoryId)!.credentialsVersion = version;
      return row;
    },
    getAccessoryCredentials: async (accessoryId: number, version?: number) => {
      const rows = w.creds.filter((c) => c.accessoryId === accessoryId);
      const v = version ?? w.records.find((r) => r.id === accessoryId)?.credentialsVersion ?? 0;
      return rows.find((c) => c.version === v) ?? null;
    },
    appendOutboxEvent: async (e: { type: string; payload: Record<string, unknown> }) => void w.events.push(e),
    getLease: async (key: string) => leases.get(key) ?? null,
    acquireLease: async (key: string, holder: string, ttlMs: number) => {
      const l = leases.get(key);
      if (l && l.holder !== holder && Date.parse(l.expiresAt) > Date.now()) return false;
      leases.set(key, { holder, expiresAt: new Date(Date.now() + ttlMs).toISOString() });
      return true;
    },
    releaseLease: async (key: string, holder: string) => void (leases.get(key)?.holder === holder && leases.delete(key)),
  };
  let seq = 0;
  const runtime = {
    servers: ['local'],
    ensureEnvNetwork: async (project: string, env: string) => {
      w.networksEnsured.push(`${project}-${env}`);
      return `slipway-${project}-${env}`;
    },
    removeEnvNetwork: async (project: string, env: string) => void w.networksRemoved.push(`${project}-${env}`),
    inspectImage: async (ref: string) => {
      const id = w.images.get(ref) ?? ([...w.images.values()].includes(ref) ? ref : null);
      return id ? { id, tags: [ref], repoDigests: [], sizeBytes: 1 } : null;
    },
    startAccessory: async (spec: AccessorySpec) => {
      calls.push(`start ${spec.labels.accessory}`);
      w.started.push(spec);
      seq++;
      const exited = w.startExited ?? (w.exitsIf?.(spec) ? { exitCode: 1, oomKilled: false } : null);
      const c: AccessoryContainer = {
        id: `c${seq}`,
        server: spec.server,
        name: spec.name,
        labels: { ...spec.labels },
        state: exited ? 'exited' : 'running',
        address: exited ? null : `10.213.0.${seq + 1}`,
        image: spec.image,
        startedAt: now(),
        exitCode: exited ? exited.exitCode : null,
        oomKilled: exited?.oomKilled ?? false,
        resources: spec.resources ?? { memoryBytes: null, cpus: null },
      };
      w.containers.push(c);
      // Docker reports it running at first; it dies right after.
      return exited ? { ...c, state: 'running' as const, address: '10.213.0.99' } : { ...c };
    },
    listAccessories: async (f: { project?: string; env?: string; accessory?: string }) =>
      w.containers.filter((c) => (!f.project || c.labels.project === f.project) && (!f.env || c.labels.env === f.env) && (!f.accessory || c.labels.accessory === f.accessory)).map((c) => ({ ...c })),
    stopAccessory: async (id: string) => {
      const c = w.containers.find((x) => x.id === id);
      calls.push(`stop ${c?.labels.accessory ?? id}`);
      w.containers = w.containers.filter((x) => x.id !== id);
    },
    exec: async (id: string, argv: string[], opts: { env?: Record<string, string> }) => {
      if (w.containers.find((x) => x.id === id)?.state === 'exited') return { exitCode: 1, timedOut: false, output: 'container is not running' };
      w.execArgv.push(argv);
      w.execEnvs.push(opts.env);
      return w.execAnswer?.(argv) ?? w.execResults.shift() ?? { exitCode: 0, timedOut: false, output: '' };
    },
    replicaLogs: async function* (r: { id: string; name: string }) {
      for (const line of w.containerLog) yield { replica: r.name, stream: 'stdout' as const, at: now(), line };
    },
    listVolumes: async (f: { project?: string; env?: string }) => w.volumes.filter((v) => (!f.project || v.project === f.project) && (!f.env || v.env === f.env)),
    removeVolume: async (name: string) => {
      if (w.volumes.find((v) => v.name === name)?.usedBy.length) return { removed: false, reason: 'in use' };
      w.volumes = w.volumes.filter((v) => v.name !== name);
      return { removed: true };
    },
  };
  /** Seals as base64(context + NUL + plaintext): opening under another context fails, like AES-GCM's AAD. */
  const cipher = {
    primaryKeyId: () => 'k1',
    holdsKey: () => true,
    seal: (plaintext: string, context: string) => ({ keyId: 'k1', sealed: Buffer.from(`${context}\0${plaintext}`).toString('base64') }),
    open: (sealed: string, context: string) => {
      const [ctx, plain] = Buffer.from(sealed, 'base64').toString().split('\0');
      if (ctx !== context) throw new Error('seal does not open under this context');
      return plain!;
    },
  };
  const ctx = {
    store,
    runtime,
    cipher,
    logger: pino({ level: 'silent' }),
    probe: async (url: string): Promise<ProbeResult> => {
      w.http.push(url);
      return { ok: true, status: 200, error: null, durationMs: 1 };
    },
    tcpProbe: async (host: string, port: number): Promise<ProbeResult> => {
      w.tcp.push({ host, port });
      return { ok: true, status: null, error: null, durationMs: 1 };
    },
  } as unknown as EngineContext;
  const images = {
    ensure: async (kind: string, version: string, onOutput?: (line: string) => void) => {
      const ref = `slipway/${kind}:${version}`;
      const built = !w.images.has(ref);
      if (built) {
        w.builtIns++;
        onOutput?.(`Step 1/2 : FROM slipway/debian:bookworm`);
        onOutput?.(`Step 2/2 : RUN apt-get install ${kind}`);
        w.images.set(ref, `sha256:${kind}${version}build${w.builtIns}`);
      }
      return { ref, id: w.images.get(ref)!, built };
    },
  };
  const postgres = {
    provision: async (target: PostgresTarget, plan: PostgresProvisioning) => {
      calls.push('provision');
      const failure = w.provisionErrors.shift();
      if (failure) throw failure;
      w.provisions.push({ target, plan });
      return { changes: w.provisions.length === 1 ? ['created role owner', 'created role app', `created database ${plan.database}`] : [] };
    },
    tableRowCounts: async () => ({}),
  };
  const accessories = new Accessories({ ctx, images, postgres, sleep: async () => undefined, now: () => w.now });
  const log: string[] = [];
  const sink = async (line: string, level: 'info' | 'warn' | 'error' = 'info') => void log.push(`${level}: ${line}`);
  /** Every credential value generated so far (opened with the fake cipher). */
  const secretValues = () => w.creds.flatMap((c) => Object.values(JSON.parse(cipher.open(c.sealed, `slipway/accessories/${c.accessoryId}/v${c.version}`)) as Record<string, string>));
  return { w, ctx, accessories, log, sink, secretValues, cipher };
}
