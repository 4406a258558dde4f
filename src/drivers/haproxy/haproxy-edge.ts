/**
 * Edge port over HAProxy. Server changes (add, drain, remove) go through the
 * runtime API with no reload; host changes of an existing backend update the map
 * at runtime; only a new backend (structural) regenerates haproxy.cfg and does a
 * seamless reload. The backend list is persisted; servers are read back from the
 * running HAProxy, which is their source of truth.
 */
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { SlipwayError } from '../../core/errors';
import type { DrainResult, Edge, EdgeBackendSpec, EdgeServer, EdgeStatus } from '../../core/ports/edge';
import { edgeFiles, readBackends, writeAtomic, type EdgeFiles } from './edge-files';
import { checkConfig, haproxyVersion, isAlive, readPid, reload, showProc, startDetached } from './edge-process';
import { renderConfig, renderMap } from './render-config';
import { parseStatCsv, runCommand, sendCommand } from './runtime-api';

export interface HaproxyEdgeOptions {
  dataDir: string;
  httpPort: number;
  bindAddress?: string;
  haproxyBin?: string;
  logger: Logger;
}

const SERVER_NAME_RE = /^[A-Za-z0-9._-]+$/;

export class HaproxyEdge implements Edge {
  private readonly files: EdgeFiles;
  private readonly bin: string;
  private readonly bind: string;
  private backends: EdgeBackendSpec[];
  private reloads = 0;
  private version: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: HaproxyEdgeOptions) {
    this.files = edgeFiles(opts.dataDir);
    this.bin = opts.haproxyBin ?? 'haproxy';
    this.bind = opts.bindAddress ?? '0.0.0.0';
    mkdirSync(this.files.dir, { recursive: true, mode: 0o700 });
    this.backends = readBackends(this.files);
  }

  ensureRunning(): Promise<EdgeStatus> {
    return this.serialized(async () => {
      this.version ??= await haproxyVersion(this.bin);
      if (await this.answers()) {
        this.opts.logger.info({ pid: readPid(this.files) }, 'adopting the running edge');
      } else {
        // Not running (first start or after a host reboot): start from the persisted structure.
        await this.writeConfig([]);
        await startDetached(this.bin, this.files);
        await this.waitAnswering();
        this.opts.logger.info({ pid: readPid(this.files), port: this.opts.httpPort }, 'started the edge');
      }
      return this.statusNow();
    });
  }

  status(): Promise<EdgeStatus> {
    return this.statusNow();
  }

  ensureBackend(spec: EdgeBackendSpec): Promise<void> {
    return this.serialized(async () => {
      const existing = this.backends.find((b) => b.name === spec.name);
      if (existing) {
        await this.updateHosts(existing, spec.hosts);
        return;
      }
      this.assertHostsFree(spec);
      const servers = await this.currentServers();
      this.backends = [...this.backends, { name: spec.name, hosts: [...spec.hosts] }];
      await this.writeConfig(servers);
      await checkConfig(this.bin, this.files.config);
      await reload(this.files);
      this.reloads++;
      writeAtomic(this.files.backends, JSON.stringify(this.backends, null, 2));
      this.opts.logger.info({ backend: spec.name, hosts: spec.hosts }, 'added backend (seamless reload)');
    });
  }

  removeBackend(name: string): Promise<void> {
    return this.serialized(async () => {
      if (!this.backends.some((b) => b.name === name)) return;
      const servers = await this.currentServers();
      this.backends = this.backends.filter((b) => b.name !== name);
      await this.writeConfig(servers);
      await checkConfig(this.bin, this.files.config);
      await reload(this.files);
      this.reloads++;
      writeAtomic(this.files.backends, JSON.stringify(this.backends, null, 2));
      this.opts.logger.info({ backend: name }, 'removed backend (seamless reload)');
    });
  }

  async listBackends(): Promise<EdgeBackendSpec[]> {
    return this.backends.map((b) => ({ name: b.name, hosts: [...b.hosts] }));
  }

  async listServers(backend: string): Promise<EdgeServer[]> {
    if (!this.backends.some((b) => b.name === backend)) return [];
    const text = await sendCommand(this.files.adminSocket, `show stat ${backend} 4 -1`);
    return parseStatCsv(text)
      .filter((r) => r.pxname === backend && r.svname !== 'BACKEND')
      .map((r) => {
        const [address, port] = splitAddr(r.addr ?? '');
        const status = (r.status ?? '').toUpperCase();
        return {
          name: r.svname!,
          address,
          port,
          state: status.startsWith('MAINT') ? 'maint' : status.startsWith('DRAIN') || r.weight === '0' ? 'drain' : 'ready',
          activeSessions: Number(r.scur || 0) + Number(r.qcur || 0),
        } satisfies EdgeServer;
      });
  }

  addServer(backend: string, server: { name: string; address: string; port: number }): Promise<void> {
    return this.serialized(async () => {
      this.assertBackend(backend);
      if (!SERVER_NAME_RE.test(server.name)) throw new SlipwayError('SLW_EDGE', `invalid edge server name "${server.name}"`);
      const existing = (await this.listServers(backend)).find((s) => s.name === server.name);
      if (!existing) {
        await runCommand(this.files.adminSocket, `add server ${backend}/${server.name} ${server.address}:${server.port}`, /New server registered/);
      }
      // Dynamic servers start in maintenance; the caller vouches for readiness.
      await runCommand(this.files.adminSocket, `set server ${backend}/${server.name} state ready`);
      await runCommand(this.files.adminSocket, `set server ${backend}/${server.name} weight 1`);
    });
  }

  drainServer(backend: string, name: string, timeoutMs: number): Promise<DrainResult> {
    // Not serialized: waiting for in-flight requests must not block other edge changes.
    return (async () => {
      await this.serialized(() => runCommand(this.files.adminSocket, `set server ${backend}/${name} state drain`));
      const started = Date.now();
      let remaining = 0;
      do {
        const server = (await this.listServers(backend)).find((s) => s.name === name);
        remaining = server?.activeSessions ?? 0;
        if (remaining === 0) return { drained: true, remaining: 0, waitedMs: Date.now() - started };
        await sleep(100);
      } while (Date.now() - started < timeoutMs);
      return { drained: false, remaining, waitedMs: Date.now() - started };
    })();
  }

  removeServer(backend: string, name: string): Promise<void> {
    return this.serialized(async () => {
      if (!(await this.listServers(backend)).some((s) => s.name === name)) return;
      await runCommand(this.files.adminSocket, `set server ${backend}/${name} state maint`);
      // HAProxy refuses to delete a server that still holds (idle) connections; they close within a few seconds.
      let lastError = '';
      for (let attempt = 0; attempt < 30; attempt++) {
        const reply = (await sendCommand(this.files.adminSocket, `del server ${backend}/${name}`)).trim();
        if (/Server deleted|No such server/i.test(reply)) return;
        lastError = reply;
        if (attempt === 0) await sendCommand(this.files.adminSocket, `shutdown sessions server ${backend}/${name}`);
        await sleep(200);
      }
      this.opts.logger.warn({ backend, server: name, reply: lastError }, 'server left in maintenance (HAProxy would not delete it yet); it goes away at the next reload');
    });
  }

  // ---------------------------------------------------------------------------

  private async updateHosts(existing: EdgeBackendSpec, hosts: string[]): Promise<void> {
    const removed = existing.hosts.filter((h) => !hosts.includes(h));
    const added = hosts.filter((h) => !existing.hosts.includes(h));
    if (removed.length === 0 && added.length === 0) return;
    this.assertHostsFree({ name: existing.name, hosts: added });
    for (const h of removed) await runCommand(this.files.adminSocket, `del map ${this.files.map} ${h}`);
    for (const h of added) await runCommand(this.files.adminSocket, `add map ${this.files.map} ${h} ${existing.name}`);
    existing.hosts = [...hosts];
    writeAtomic(this.files.map, renderMap(this.backends));
    writeAtomic(this.files.backends, JSON.stringify(this.backends, null, 2));
    this.opts.logger.info({ backend: existing.name, added, removed }, 'updated host routes at runtime (no reload)');
  }

  private assertHostsFree(spec: EdgeBackendSpec): void {
    for (const b of this.backends) {
      if (b.name === spec.name) continue;
      const clash = spec.hosts.find((h) => b.hosts.includes(h));
      if (clash) throw new SlipwayError('SLW_EDGE', `domain ${clash} is already routed to ${b.name}; a host can route to one service only`);
    }
  }

  private assertBackend(backend: string): void {
    if (!this.backends.some((b) => b.name === backend)) throw new SlipwayError('SLW_EDGE', `backend ${backend} does not exist at the edge`);
  }

  private async currentServers(): Promise<Map<string, EdgeServer[]>> {
    const all = new Map<string, EdgeServer[]>();
    if (!(await this.answers())) return all;
    for (const b of this.backends) all.set(b.name, await this.listServers(b.name));
    return all;
  }

  private async writeConfig(servers: Map<string, EdgeServer[]> | []): Promise<void> {
    const byBackend = servers instanceof Map ? servers : new Map<string, EdgeServer[]>();
    writeAtomic(this.files.map, renderMap(this.backends));
    writeAtomic(
      this.files.config,
      renderConfig({
        httpPort: this.opts.httpPort,
        bindAddress: this.bind,
        adminSocket: this.files.adminSocket,
        mapFile: this.files.map,
        backends: this.backends.map((b) => ({ name: b.name, servers: byBackend.get(b.name) ?? [] })),
      }),
    );
  }

  private async answers(): Promise<boolean> {
    if (!isAlive(readPid(this.files))) return false;
    try {
      await sendCommand(this.files.adminSocket, 'show info', 1000);
      return true;
    } catch {
      return false;
    }
  }

  private async waitAnswering(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (await this.answers()) return;
      await sleep(50);
    }
    throw new SlipwayError('SLW_EDGE', `HAProxy started but its admin socket ${this.files.adminSocket} does not answer`);
  }

  private async statusNow(): Promise<EdgeStatus> {
    const running = await this.answers();
    let pid: number | null = readPid(this.files);
    if (running) {
      try {
        pid = (await showProc(this.files)).masterPid || pid;
      } catch {
        // master socket busy: the pid file is good enough
      }
    }
    return { running, pid: running ? pid : null, version: this.version, httpPort: this.opts.httpPort, reloads: this.reloads };
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** Stops the edge of a data directory. Only for tests and `scripts/stop-all.sh`-style teardown. */
export async function stopEdge(dataDir: string): Promise<void> {
  const files = edgeFiles(dataDir);
  const pid = readPid(files);
  if (!isAlive(pid)) return;
  process.kill(pid!, 'SIGTERM');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
  if (isAlive(pid)) process.kill(pid!, 'SIGKILL');
}

function splitAddr(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  return i < 0 ? [addr, 0] : [addr.slice(0, i), Number(addr.slice(i + 1))];
}
