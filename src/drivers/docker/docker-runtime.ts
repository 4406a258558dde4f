/**
 * Runtime port over the Docker Engine API (dockerode). Replicas join a Slipway
 * bridge network and publish no ports: the edge reaches them by IP. Containers are
 * created from API objects (argv and env arrays), never from shell strings.
 */
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { Logger } from 'pino';
import { SlipwayError, errorMessage } from '../../core/errors';
import type { BuildRequest, ImageInfo, LogEntry, LogOptions, OneOffResult, OneOffSpec, Replica, ReplicaFilter, ReplicaSpec, ReplicaState, Runtime } from '../../core/ports/runtime';
import { packContext } from './build-context';
import { demuxBuffer, demuxStream, mergeIterables } from './docker-logs';
import { LABEL, fromDockerLabels, labelFilters, oneOffLabels, toDockerLabels } from './labels';

export interface DockerRuntimeOptions {
  socketPath?: string;
  network?: string;
  logger: Logger;
}

export class DockerRuntime implements Runtime {
  readonly docker: Docker;
  readonly network: string;
  private readonly logger: Logger;

  constructor(opts: DockerRuntimeOptions) {
    this.docker = new Docker({ socketPath: opts.socketPath ?? '/var/run/docker.sock' });
    this.network = opts.network ?? 'slipway';
    this.logger = opts.logger;
  }

  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw new SlipwayError(
        'SLW_HOST_MISSING',
        `the Docker engine does not answer (${errorMessage(err)}): start dockerd or run scripts/bootstrap-host.sh`,
      );
    }
  }

  async ensureNetwork(): Promise<void> {
    const existing = await this.docker.listNetworks({ filters: { name: [this.network] } });
    if (existing.some((n) => n.Name === this.network)) return;
    await wrap('create network', () =>
      this.docker.createNetwork({ Name: this.network, Driver: 'bridge', CheckDuplicate: true, Labels: { 'slipway.managed': 'true' } }),
    ).catch((err) => {
      if (!/already exists/.test(errorMessage(err))) throw err;
    });
    this.logger.info({ network: this.network }, 'created the replica network');
  }

  async build(req: BuildRequest): Promise<ImageInfo> {
    const [tag, ...moreTags] = req.tags;
    if (!tag) throw new SlipwayError('SLW_BUILD_FAILED', 'a build needs at least one tag');
    const context = packContext(req.contextDir, req.dockerfile);
    const recent: string[] = [];
    const emit = (line: string) => {
      recent.push(line);
      if (recent.length > 15) recent.shift();
      req.onOutput?.(line);
    };
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.buildImage(context, { t: tag, dockerfile: req.dockerfile, buildargs: req.buildArgs ?? {}, rm: true, forcerm: true });
    } catch (err) {
      throw new SlipwayError('SLW_BUILD_FAILED', `docker build could not start: ${errorMessage(err)}`);
    }
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (event: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string } }) => {
          if (event.error) {
            reject(new SlipwayError('SLW_BUILD_FAILED', `docker build failed: ${event.errorDetail?.message ?? event.error}\n${recent.join('\n')}`));
            return;
          }
          const text = event.stream ?? event.status;
          if (text) for (const line of text.split('\n')) if (line.trim()) emit(line.trimEnd());
        },
      );
    });
    for (const t of moreTags) await this.tagImage(tag, t);
    const info = await this.inspectImage(tag);
    if (!info) throw new SlipwayError('SLW_BUILD_FAILED', `docker build reported success but ${tag} does not exist`);
    return info;
  }

  async inspectImage(ref: string): Promise<ImageInfo | null> {
    try {
      const i = await this.docker.getImage(ref).inspect();
      return { id: i.Id, tags: i.RepoTags ?? [], repoDigests: i.RepoDigests ?? [], sizeBytes: i.Size };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw new SlipwayError('SLW_RUNTIME', `inspect image ${ref}: ${errorMessage(err)}`);
    }
  }

  async tagImage(ref: string, tag: string): Promise<void> {
    const i = tag.lastIndexOf(':');
    const [repo, t] = i > tag.lastIndexOf('/') ? [tag.slice(0, i), tag.slice(i + 1)] : [tag, 'latest'];
    await wrap(`tag ${ref} as ${tag}`, () => this.docker.getImage(ref).tag({ repo, tag: t }));
  }

  async startReplica(spec: ReplicaSpec): Promise<Replica> {
    const container = await wrap(`create ${spec.name}`, () =>
      this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Labels: toDockerLabels(spec.labels, spec.port),
        HostConfig: {
          NetworkMode: this.network,
          RestartPolicy: { Name: 'no' },
          // tini as PID 1: forwards SIGTERM to the app and reaps zombies, whatever the image.
          Init: true,
          LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
        },
      }),
    );
    try {
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw new SlipwayError('SLW_RUNTIME', `start ${spec.name}: ${errorMessage(err)}`);
    }
    const replica = await this.inspectReplica(container.id);
    if (!replica) throw new SlipwayError('SLW_RUNTIME', `replica ${spec.name} vanished right after starting`);
    return replica;
  }

  async inspectReplica(id: string): Promise<Replica | null> {
    try {
      const c = await this.docker.getContainer(id).inspect();
      const labels = fromDockerLabels(c.Config.Labels ?? {});
      if (!labels) return null;
      const net = c.NetworkSettings.Networks?.[this.network];
      return {
        id: c.Id,
        name: c.Name.replace(/^\//, ''),
        labels,
        state: c.State.Status as ReplicaState,
        address: c.State.Running && net?.IPAddress ? net.IPAddress : null,
        port: Number(c.Config.Labels?.[LABEL.port] ?? 0),
        image: c.Image,
        startedAt: c.State.StartedAt && !c.State.StartedAt.startsWith('0001') ? c.State.StartedAt : null,
        exitCode: c.State.Running ? null : c.State.ExitCode,
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw new SlipwayError('SLW_RUNTIME', `inspect ${id}: ${errorMessage(err)}`);
    }
  }

  async listReplicas(filter: ReplicaFilter): Promise<Replica[]> {
    const list = await wrap('list containers', () => this.docker.listContainers({ all: true, filters: { label: labelFilters(filter) } }));
    return list
      .map((c): Replica | null => {
        const labels = fromDockerLabels(c.Labels ?? {});
        if (!labels) return null;
        const ip = c.NetworkSettings?.Networks?.[this.network]?.IPAddress;
        return {
          id: c.Id,
          name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
          labels,
          state: c.State as ReplicaState,
          address: c.State === 'running' && ip ? ip : null,
          port: Number(c.Labels?.[LABEL.port] ?? 0),
          image: c.ImageID,
          startedAt: c.State === 'running' ? new Date(c.Created * 1000).toISOString() : null,
          exitCode: null,
        };
      })
      .filter((r): r is Replica => r !== null)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async stopReplica(id: string, stopTimeoutMs: number): Promise<void> {
    const container = this.docker.getContainer(id);
    try {
      await container.stop({ t: Math.max(1, Math.ceil(stopTimeoutMs / 1000)) });
    } catch (err) {
      const status = statusOf(err);
      if (status !== 304 && status !== 404) throw new SlipwayError('SLW_RUNTIME', `stop ${id.slice(0, 12)}: ${errorMessage(err)}`);
    }
    try {
      await container.remove({ force: true });
    } catch (err) {
      const status = statusOf(err);
      if (status !== 404 && status !== 409) throw new SlipwayError('SLW_RUNTIME', `remove ${id.slice(0, 12)}: ${errorMessage(err)}`);
    }
  }

  logs(filter: ReplicaFilter, opts: LogOptions): AsyncIterable<LogEntry> {
    return this.streamLogs(filter, opts);
  }

  async runOnce(spec: OneOffSpec): Promise<OneOffResult> {
    const started = Date.now();
    const container = await wrap(`create ${spec.name}`, () =>
      this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Cmd: spec.argv,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Labels: oneOffLabels(spec.labels, spec.kind),
        HostConfig: { NetworkMode: this.network, RestartPolicy: { Name: 'no' }, Init: true },
      }),
    );
    try {
      await wrap(`start ${spec.name}`, () => container.start());
      const logs = (await container.logs({ stdout: true, stderr: true, follow: true, timestamps: false })) as unknown as Readable;
      const pump = (async () => {
        for await (const entry of demuxStream(logs, spec.name)) spec.onOutput?.(entry.line, entry.stream);
      })().catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), spec.timeoutMs);
      });
      const outcome = await Promise.race([container.wait() as Promise<{ StatusCode: number }>, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        await container.kill().catch(() => undefined);
        logs.destroy();
        return { exitCode: null, timedOut: true, durationMs: Date.now() - started };
      }
      await pump;
      return { exitCode: outcome.StatusCode, timedOut: false, durationMs: Date.now() - started };
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  private async *streamLogs(filter: ReplicaFilter, opts: LogOptions): AsyncGenerator<LogEntry> {
    const replicas = await this.listReplicas(filter);
    const tail = opts.tail ?? 100;
    if (!opts.follow) {
      for (const r of replicas) {
        const buf = (await this.docker.getContainer(r.id).logs({ stdout: true, stderr: true, timestamps: true, tail, follow: false })) as unknown as Buffer;
        yield* demuxBuffer(buf, r.name);
      }
      return;
    }
    const streams = await Promise.all(
      replicas.map(async (r) => {
        const stream = (await this.docker.getContainer(r.id).logs({ stdout: true, stderr: true, timestamps: true, tail, follow: true })) as unknown as Readable;
        opts.signal?.addEventListener('abort', () => stream.destroy(), { once: true });
        return demuxStream(stream, r.name);
      }),
    );
    yield* mergeIterables(streams);
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

async function wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_RUNTIME', `docker: ${what}: ${errorMessage(err)}`);
  }
}
