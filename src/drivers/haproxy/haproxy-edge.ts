/**
 * Edge port over HAProxy. Server changes (add, drain, remove) go through the
 * runtime API with no reload; host changes of an existing backend update the map
 * at runtime; only a new or removed backend (structural) regenerates haproxy.cfg
 * and does a seamless reload. The backend list is persisted in backends.json;
 * servers are read back from the running HAProxy, which is their source of truth.
 */
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { SlipwayError, errorMessage } from '../../core/errors';
import type { DrainResult, Edge, EdgeBackendSpec, EdgeCertificate, EdgeServer, EdgeServerSpec, EdgeStartResult, EdgeStatus, EdgeWatch } from '../../core/ports/edge';
import { assertUsableDir, edgeFiles, readBackends, readIfExists, writeAtomic, writeBackends, type EdgeFiles } from './edge-files';
import { assertBackendName, assertServerName, assertStoppedService, assertWeight, normalizeHosts, serverAddress } from './edge-names';
import { checkConfig, haproxyVersion, isOurHaproxy, killLeftovers, readPid, reload, showProc, startDetached } from './edge-process';
import { watchEdge } from './edge-watch';
import { renderConfig, renderMap, structuralPart } from './render-config';
import { assertHealthCheck, serverCheckOptions } from './health-check-lines';
import { CONTROL_BACKEND } from './https-lines';
import {
  assertCertificateName, certificateFile, describeCertificate, hstsEntries, installAtRuntime, joinPem, prepareTlsFiles, readCertificateEntries,
  redirectEntries, removeAtRuntime, removeCertificateFile, renderMapFile, writeCertificateEntries, type CertificateEntry,
} from './edge-certificates';
import type { RequestLogTarget } from './request-log-format';
import { runCommand, sendCommand, sendToWorker } from './runtime-api';
import { drainedServers, parseBackendNames, parseMapEntries, parseServers, parseServersByBackend, serverSessions } from './runtime-replies';
import { createMutex, type Mutex } from './mutex';
import { LOCAL_SERVER } from '../../core/servers';

export { stopEdge } from './edge-process';

/** stopped.map's entries: backend → service, for the backends of stopped services (validated: they reach a runtime command line). */
function stoppedEntries(backends: EdgeBackendSpec[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of backends) {
    if (!b.stopped) continue;
    assertStoppedService(b.stopped.service);
    out.set(b.name, b.stopped.service);
  }
  return out;
}

export interface HaproxyEdgeOptions {
  /** Directory for haproxy.cfg, hosts.map, backends.json, sockets, pid and log; created if missing. */
  dataDir: string;
  /** The server this edge runs on (default `local`: the control plane's host). */
  server?: string;
  httpPort: number;
  /** Default 0.0.0.0. */
  bindAddress?: string;
  /** Default `haproxy` (looked up in PATH). */
  haproxyBin?: string;
  /** Send one JSON line per request to this listener (a ring forwarded over TCP); none when absent. */
  requestLog?: RequestLogTarget;
  /** Serve HAProxy's Prometheus exporter on this address (loopback in practice); none when absent. */
  prometheus?: { address: string; port: number };
  /** Serve HTTPS on this port too (certificates through installCertificate); HTTP only when absent. */
  https?: { port: number };
  /**
   * The control plane's API address: ACME HTTP-01 challenges (any host, path
   * /.well-known/acme-challenge/) go there, and so does `domain` (dashboard and API) when set.
   */
  control?: { address: string; port: number; domain: string | null };
  logger: Logger;
}

const DRAIN_POLL_MS = 100;
/** How long removeServer retries `del server` while HAProxy still has streams on the server. */
/** Connection reuse for runtime-added servers, as static servers have it (bench/edge-overhead.ts). */
export const RUNTIME_SERVER_POOL = 'pool-purge-delay 5s pool-max-conn -1';
const DELETE_RETRY_MS = 5000;

export class HaproxyEdge implements Edge {
  readonly server: string;
  private readonly files: EdgeFiles;
  private readonly bin: string;
  private readonly bind: string;
  private readonly log: Logger;
  private readonly serialized: Mutex = createMutex();
  private backends: EdgeBackendSpec[];
  private certs: CertificateEntry[] = [];
  private reloads = 0;
  private binaryVersion: string | null = null;

  constructor(private readonly opts: HaproxyEdgeOptions) {
    this.server = opts.server ?? LOCAL_SERVER;
    this.files = edgeFiles(opts.dataDir);
    assertUsableDir(this.files);
    this.bin = opts.haproxyBin ?? 'haproxy';
    this.bind = opts.bindAddress ?? '0.0.0.0';
    this.log = opts.logger;
    mkdirSync(this.files.dir, { recursive: true, mode: 0o700 });
    this.backends = readBackends(this.files);
  }

  ensureRunning(): Promise<EdgeStatus> {
    return this.serialized(async () => {
      await this.loadPersisted();
      if (await this.isRunning()) {
        this.log.info({ haproxyPid: readPid(this.files) }, 'adopting the running edge');
        await this.reconcile();
      } else {
        const pid = readPid(this.files);
        if (isOurHaproxy(pid, this.files) && !(await this.answersWithin(3000))) {
          throw new SlipwayError('SLW_EDGE', `HAProxy (pid ${pid}) runs on ${this.files.dir} but its sockets do not answer; stop it (kill ${pid}) and retry`);
        }
        if (!(await this.isRunning())) await this.launch();
      }
      return this.statusNow();
    });
  }

  start(servers: EdgeServerSpec[]): Promise<EdgeStartResult> {
    return this.serialized(async () => {
      await this.loadPersisted();
      const pid = readPid(this.files);
      if (isOurHaproxy(pid, this.files) && (await this.answersWithin(2000))) {
        this.log.info({ haproxyPid: pid }, 'adopting the running edge');
        await this.reconcile();
        return { ...(await this.statusNow()), started: false, servers: 0 };
      }
      if (isOurHaproxy(pid, this.files)) {
        throw new SlipwayError('SLW_EDGE', `HAProxy (pid ${pid}) runs on ${this.files.dir} but its sockets do not answer; stop it (kill ${pid}) and retry`);
      }
      const killed = await killLeftovers(this.files);
      if (killed.length) this.log.warn({ pids: killed }, 'killed leftover processes of the dead edge');
      const known = new Set(this.backends.map((b) => b.name));
      const byBackend = new Map<string, EdgeServer[]>();
      let count = 0;
      for (const s of servers) {
        if (!known.has(s.backend)) {
          this.log.warn({ backend: s.backend, server: s.name }, 'edge start: a server of a backend the edge does not declare is left out');
          continue;
        }
        assertServerName(s.name);
        assertWeight(s.weight);
        const list = byBackend.get(s.backend) ?? [];
        list.push({ name: s.name, address: s.address, port: s.port, state: s.weight > 0 ? 'ready' : 'standby', weight: s.weight, activeSessions: 0 });
        byBackend.set(s.backend, list);
        count++;
      }
      await this.launch(byBackend, { check: false });
      return { ...(await this.statusNow()), started: true, servers: count };
    });
  }

  watch(onDown: (reason: string) => void): EdgeWatch {
    return watchEdge(this.files, onDown, { logger: this.log });
  }

  status(): Promise<EdgeStatus> {
    return this.statusNow();
  }

  ensureBackend(spec: EdgeBackendSpec): Promise<void> {
    return this.serialized(async () => {
      assertBackendName(spec.name);
      const hosts = normalizeHosts(spec.hosts);
      await this.requireRunning();
      this.backends = readBackends(this.files);
      this.assertHostsFree(spec.name, hosts);
      const existing = this.backends.find((b) => b.name === spec.name);
      if (spec.check) assertHealthCheck(spec.check);
      if (spec.stopped) assertStoppedService(spec.stopped.service);
      const wanted: EdgeBackendSpec = {
        name: spec.name,
        hosts,
        ...(spec.https ? { https: { ...spec.https } } : {}),
        ...(spec.check ? { check: { ...spec.check } } : {}),
        ...(spec.stopped ? { stopped: { service: spec.stopped.service } } : {}),
      };
      const next = existing ? this.backends.map((b) => (b === existing ? wanted : b)) : [...this.backends, wanted];
      // Health checks are written on the servers of haproxy.cfg: a change of them is structural.
      const checkChanged = existing !== undefined && JSON.stringify(existing.check ?? null) !== JSON.stringify(wanted.check ?? null);
      if (!existing || checkChanged || !(await this.runtimeBackends()).includes(spec.name)) {
        if (checkChanged) {
          await this.restructure(next);
          this.log.info({ backend: spec.name, check: wanted.check ?? null }, 'changed the edge health checks of a backend (seamless reload)');
          await this.syncMaps();
          return;
        }
        await this.restructure(next);
        this.log.info({ backend: spec.name, hosts }, 'added backend (seamless reload)');
        return;
      }
      // Host, HTTPS or stopped changes of an existing backend: files first (a crash in between is repaired by the next sync), then the runtime maps.
      if (JSON.stringify(next) !== JSON.stringify(this.backends)) {
        this.backends = next;
        writeBackends(this.files, next);
        this.writeMaps(next);
      }
      const changed = await this.syncMaps();
      if (changed) this.log.info({ backend: spec.name, hosts, stopped: wanted.stopped?.service ?? null }, 'updated host routes at runtime (no reload)');
    });
  }

  removeBackend(name: string): Promise<void> {
    return this.serialized(async () => {
      assertBackendName(name);
      await this.requireRunning();
      this.backends = readBackends(this.files);
      const known = this.backends.some((b) => b.name === name);
      if (!known && !(await this.runtimeBackends()).includes(name)) return;
      await this.restructure(this.backends.filter((b) => b.name !== name));
      this.log.info({ backend: name }, 'removed backend (seamless reload)');
    });
  }

  async listBackends(): Promise<EdgeBackendSpec[]> {
    return readBackends(this.files);
  }

  async listRoutes(): Promise<Array<{ host: string; backend: string }>> {
    const entries = parseMapEntries(await sendCommand(this.files.adminSocket, `show map ${this.files.map}`));
    return entries.filter((e) => e.value !== CONTROL_BACKEND).map((e) => ({ host: e.key, backend: e.value }));
  }

  removeRoute(host: string): Promise<void> {
    return this.serialized(async () => {
      const key = host.toLowerCase();
      // The map is read by host name; anything else cannot be one of its keys (and must not reach the CLI line).
      if (!/^[a-z0-9*._-]+$/.test(key)) throw new SlipwayError('SLW_EDGE', `removeRoute: "${host}" is not a host name`);
      await this.requireRunning();
      this.backends = readBackends(this.files);
      const owner = this.routed(this.backends).find((b) => b.hosts.includes(key));
      if (owner) throw new SlipwayError('SLW_EDGE', `host ${key} is declared by backend ${owner.name}: change that backend instead`);
      const reply = (await sendCommand(this.files.adminSocket, `del map ${this.files.map} ${key}`)).trim();
      if (reply && !/not found|no such/i.test(reply)) throw new SlipwayError('SLW_EDGE', `HAProxy refused "del map ${key}": ${reply.split('\n')[0]}`);
      this.log.info({ host: key }, 'host route removed from the edge');
    });
  }

  async listServers(backend: string): Promise<EdgeServer[]> {
    assertBackendName(backend);
    // "No such proxy." for an unknown backend parses as no servers.
    const servers = parseServers(await sendCommand(this.files.adminSocket, `show stat ${backend} 4 -1`), backend);
    return this.withDrainOfDownServers(new Map([[backend, servers]])).then((m) => m.get(backend) ?? []);
  }

  /**
   * `show stat` says "DOWN" for a drained server failing its checks: for those (rare) the admin
   * state is read from `show servers state`, so a drained server never reads as ready.
   */
  private async withDrainOfDownServers(all: Map<string, EdgeServer[]>): Promise<Map<string, EdgeServer[]>> {
    const suspects = [...all.entries()].filter(([, list]) => list.some((s) => s.health === 'down' && s.state === 'ready'));
    for (const [backend, list] of suspects) {
      const drained = drainedServers(await sendCommand(this.files.adminSocket, `show servers state ${backend}`));
      all.set(backend, list.map((s) => (s.health === 'down' && s.state === 'ready' && drained.has(`${backend}/${s.name}`) ? { ...s, state: 'drain' } : s)));
    }
    return all;
  }

  async listServersOf(backends: string[]): Promise<Map<string, EdgeServer[]>> {
    backends.forEach(assertBackendName);
    // One `show stat` of every proxy: the runtime socket takes one connection at a time well,
    // not fifty at once (EAGAIN when its backlog is full).
    const all = parseServersByBackend(backends.length > 0 ? await sendCommand(this.files.adminSocket, 'show stat -1 4 -1') : '');
    return this.withDrainOfDownServers(new Map(backends.map((b) => [b, all.get(b) ?? []])));
  }

  addServer(backend: string, server: { name: string; address: string; port: number }, opts: { weight?: number } = {}): Promise<void> {
    return this.serialized(async () => {
      assertBackendName(backend);
      assertServerName(server.name);
      const weight = opts.weight ?? 1;
      assertWeight(weight);
      const addr = serverAddress(server.address, server.port);
      const id = `${backend}/${server.name}`;
      const check = this.backends.find((b) => b.name === backend)?.check;
      const existing = (await this.listServers(backend)).find((s) => s.name === server.name);
      if (!existing) {
        // A server added at runtime gets no idle-connection pool in HAProxy 2.6 (purge delay 0,
        // limit 0): every request would open a new connection to the app, a third of the
        // throughput. These are the values a server written in haproxy.cfg gets.
        await runCommand(this.files.adminSocket, `add server ${id} ${addr} ${RUNTIME_SERVER_POOL}${check ? ` ${serverCheckOptions(check)}` : ''}`, /^New server registered/);
      } else if (existing.address !== server.address || existing.port !== server.port) {
        await runCommand(this.files.adminSocket, `set server ${id} addr ${server.address} port ${server.port}`, /changed|no need/i);
      }
      // Dynamic servers start in maintenance; a server rendered as drained has weight 0. The caller vouches for readiness.
      // Weight before state: a standby server (weight 0) must not take a request in between.
      await runCommand(this.files.adminSocket, `set server ${id} weight ${weight}`);
      await runCommand(this.files.adminSocket, `set server ${id} state ready`);
      // HAProxy 2.6 leaves the checks of a server added at runtime off until asked. Enabled after
      // `state ready`, the server starts UP (it passed Slipway's readiness), not "down until rise
      // checks pass"; until its first `rise` successes, one failed check takes it out (docs/edge.md).
      if (check && !existing) await runCommand(this.files.adminSocket, `enable health ${id}`);
      this.log.info({ backend, server: server.name, addr, weight, existed: Boolean(existing), checked: Boolean(check) }, weight > 0 ? 'server ready at the edge' : 'server on standby at the edge');
    });
  }

  /**
   * One runtime API line (`set server … weight N;set server … weight M;…`): HAProxy's CLI runs
   * the commands of one line back to back, in order, in one task, without waiting for anything
   * in between, so the change lands within microseconds. Each `set server … weight` is atomic
   * for its server; there is no cross-server transaction, which is why the caller orders the
   * raises first (docs/edge.md, "Switching traffic in one change").
   */
  setWeights(backend: string, weights: Array<{ name: string; weight: number }>): Promise<void> {
    return this.serialized(async () => {
      assertBackendName(backend);
      if (weights.length === 0) return;
      const names = new Set<string>();
      for (const w of weights) {
        assertServerName(w.name);
        assertWeight(w.weight);
        if (names.has(w.name)) throw new SlipwayError('SLW_EDGE', `setWeights: server ${w.name} is listed twice`);
        names.add(w.name);
      }
      const servers = new Map((await this.listServers(backend)).map((s) => [s.name, s]));
      for (const w of weights) {
        const s = servers.get(w.name);
        if (!s) throw new SlipwayError('SLW_EDGE', `backend ${backend} has no server ${w.name}: weights not changed`);
        if (s.state !== 'ready' && s.state !== 'standby') {
          throw new SlipwayError('SLW_EDGE', `server ${backend}/${w.name} is ${s.state}: a weight would not bring it back; weights not changed`);
        }
      }
      const line = weights.map((w) => `set server ${backend}/${w.name} weight ${w.weight}`).join(';');
      const reply = (await sendCommand(this.files.adminSocket, line)).trim();
      if (reply) throw new SlipwayError('SLW_EDGE', `HAProxy refused part of a weight change on ${backend}: ${reply.split('\n').filter(Boolean).join('; ')}`);
      // Old workers still answering keep-alive clients after a reload route with their own weights.
      await this.onOldWorkers(line);
      this.log.info({ backend, weights }, 'server weights changed in one runtime command');
    });
  }

  async drainServer(backend: string, name: string, timeoutMs: number): Promise<DrainResult> {
    assertBackendName(backend);
    assertServerName(name);
    const id = `${backend}/${name}`;
    const found = await this.serialized(async () => {
      const reply = (await sendCommand(this.files.adminSocket, `set server ${id} state drain`)).trim();
      if (/^No such (server|backend)/i.test(reply)) return false;
      if (reply) throw new SlipwayError('SLW_EDGE', `HAProxy refused "set server ${id} state drain": ${reply}`);
      await this.onOldWorkers(`set server ${id} state drain`);
      return true;
    });
    if (!found) {
      this.log.warn({ backend, server: name }, 'drain of a server the edge does not have: nothing to wait for');
      return { drained: true, remaining: 0, waitedMs: 0 };
    }
    // The wait is not serialized: it must not hold up other edge changes.
    const started = Date.now();
    for (;;) {
      const remaining = await this.sessionsEverywhere(backend, name);
      const waitedMs = Date.now() - started;
      if (remaining === 0 || waitedMs >= timeoutMs) {
        const result = { drained: remaining === 0, remaining, waitedMs };
        this.log.info({ backend, server: name, ...result }, remaining === 0 ? 'server drained' : 'drain timed out with requests in flight');
        return result;
      }
      await sleep(Math.min(DRAIN_POLL_MS, Math.max(1, timeoutMs - waitedMs)));
    }
  }

  removeServer(backend: string, name: string): Promise<void> {
    return this.serialized(async () => {
      assertBackendName(backend);
      assertServerName(name);
      const id = `${backend}/${name}`;
      if (!(await this.listServers(backend)).some((s) => s.name === name)) return;
      await runCommand(this.files.adminSocket, `set server ${id} state maint`);
      await this.onOldWorkers(`set server ${id} state maint`);
      // HAProxy refuses to delete a server while streams still use it (a drain that timed out).
      // Those are not cut: the server stays in maintenance (harmless, gone at the next reload).
      const started = Date.now();
      let reply = '';
      do {
        reply = (await sendCommand(this.files.adminSocket, `del server ${id}`)).trim();
        if (/^(Server deleted|No such server)/i.test(reply)) {
          this.log.info({ backend, server: name }, 'server removed from the edge');
          return;
        }
        await sleep(200);
      } while (Date.now() - started < DELETE_RETRY_MS);
      this.log.warn({ backend, server: name, reply }, 'server left in maintenance (HAProxy would not delete it yet); it goes away at the next reload');
    });
  }

  installCertificate(cert: { name: string; hosts: string[]; certPem: string; keyPem: string; redirectByDefault: boolean }): Promise<void> {
    return this.serialized(async () => {
      assertCertificateName(cert.name);
      const hosts = cert.hosts.map((h) => h.toLowerCase());
      if (!this.opts.https) throw new SlipwayError('SLW_EDGE', 'the edge serves HTTP only (no HTTPS port configured): certificate not installed');
      await this.requireRunning();
      const file = certificateFile(this.files, cert.name);
      const pem = joinPem(cert.certPem, cert.keyPem);
      // HAProxy parses and checks the PEM here; a refusal leaves the previous certificate serving.
      await installAtRuntime(this.files.adminSocket, this.files, file, pem);
      writeAtomic(file, pem);
      this.certs = [...this.certs.filter((c) => c.name !== cert.name), { name: cert.name, hosts, redirectByDefault: cert.redirectByDefault }];
      writeCertificateEntries(this.files, this.certs);
      this.writeMaps(this.backends);
      await this.syncMaps();
      this.log.info({ certificate: cert.name, hosts }, 'certificate installed at the edge (no reload)');
    });
  }

  removeCertificate(name: string): Promise<void> {
    return this.serialized(async () => {
      assertCertificateName(name);
      if (!this.opts.https) return;
      await this.requireRunning();
      this.certs = this.certs.filter((c) => c.name !== name);
      writeCertificateEntries(this.files, this.certs);
      this.writeMaps(this.backends);
      // Redirects stop before the certificate goes, so no host is sent to HTTPS without one.
      await this.syncMaps();
      await removeAtRuntime(this.files.adminSocket, this.files, certificateFile(this.files, name));
      removeCertificateFile(this.files, name);
      this.log.info({ certificate: name }, 'certificate removed from the edge');
    });
  }

  async listCertificates(): Promise<EdgeCertificate[]> {
    if (!this.opts.https) return [];
    return readCertificateEntries(this.files).map((c) => describeCertificate(this.files, c));
  }

  // ---------------------------------------------------------------------------

  /** What a start or an adoption needs from disk: the binary's version, the backend list, the TLS files. */
  private async loadPersisted(): Promise<void> {
    this.binaryVersion ??= await haproxyVersion(this.bin);
    this.backends = readBackends(this.files);
    if (this.opts.https) {
      await prepareTlsFiles(this.files);
      this.certs = readCertificateEntries(this.files);
    }
  }

  /**
   * Starts HAProxy from the persisted structure and the given servers, written into haproxy.cfg
   * so that the first request already finds them (ensureRunning passes none).
   */
  private async launch(servers: Map<string, EdgeServer[]> = new Map(), opts: { check: boolean } = { check: true }): Promise<void> {
    this.writeFiles(this.backends, servers);
    // `haproxy -c` costs a few hundred ms on a loaded host; a restart skips it (startDetached reports HAProxy's alerts anyway).
    if (opts.check) await checkConfig(this.bin, this.files.config);
    await startDetached(this.bin, this.files, () => this.isRunning());
    this.log.info({ haproxyPid: readPid(this.files), bind: `${this.bind}:${this.opts.httpPort}`, servers: [...servers.values()].reduce((n, l) => n + l.length, 0) }, 'started the edge');
  }

  /**
   * Adoption: brings the running HAProxy in line with the persisted structure and
   * this instance's options (port, bind address, config template of this version).
   * A structural difference is fixed by a seamless reload; a host map difference
   * (crash between file and runtime update) at runtime.
   */
  private async reconcile(): Promise<void> {
    const running = await this.runtimeBackends();
    const wanted = this.backends.map((b) => b.name);
    const desired = this.renderText(await this.currentServers());
    const onDisk = readIfExists(this.files.config);
    const sameBackends = running.length === wanted.length && wanted.every((n) => running.includes(n));
    if (!sameBackends || onDisk === null || structuralPart(onDisk) !== structuralPart(desired)) {
      this.log.info({ running, wanted }, 'the running edge config differs from the desired one: reloading');
      await this.restructure(this.backends);
      return;
    }
    await this.syncMaps();
  }

  /**
   * A structural change: renders haproxy.cfg (with every current server and its
   * state) and the map, checks them with `haproxy -c`, reloads seamlessly and waits
   * for the new worker to serve exactly the new backend list. Any failure restores
   * the previous files (the previous workers keep serving).
   */
  private async restructure(next: EdgeBackendSpec[]): Promise<void> {
    const previous = { config: readIfExists(this.files.config), map: readIfExists(this.files.map), backends: readIfExists(this.files.backends) };
    const names = next.map((b) => b.name);
    const gone = (await this.runtimeBackends()).filter((n) => !names.includes(n));
    const servers = await this.currentServers();
    try {
      this.writeFiles(next, servers);
      await checkConfig(this.bin, this.files.config);
      // Persisted before the reload: a crash in between is repaired by the next adoption.
      writeBackends(this.files, next);
      await reload(this.files, async () => {
        const now = await this.runtimeBackends().catch(() => null);
        return now !== null && names.every((n) => now.includes(n)) && !gone.some((n) => now.includes(n));
      });
    } catch (err) {
      if (previous.config !== null) writeAtomic(this.files.config, previous.config);
      if (previous.map !== null) writeAtomic(this.files.map, previous.map);
      if (previous.backends !== null) writeAtomic(this.files.backends, previous.backends);
      this.log.error({ err: errorMessage(err) }, 'edge reload failed; previous configuration kept');
      throw err;
    }
    this.backends = next;
    this.reloads++;
    await this.drainAgain(servers);
  }

  /**
   * Drained servers come back from a reload at weight 0 (no config keyword starts a server
   * drained), which would read as standby: drain them again so a drain in progress stays one.
   */
  private async drainAgain(servers: Map<string, EdgeServer[]>): Promise<void> {
    for (const [backend, list] of servers) {
      for (const s of list.filter((x) => x.state === 'drain')) {
        const reply = (await sendCommand(this.files.adminSocket, `set server ${backend}/${s.name} state drain`).catch((e: unknown) => errorMessage(e))).trim();
        if (reply) this.log.warn({ backend, server: s.name, reply }, 'could not drain a server again after the reload');
      }
    }
  }

  private writeFiles(backends: EdgeBackendSpec[], servers: Map<string, EdgeServer[]>): void {
    this.writeMaps(backends);
    writeAtomic(this.files.config, this.renderText(servers, backends));
  }

  private writeMaps(backends: EdgeBackendSpec[]): void {
    writeAtomic(this.files.map, renderMap(this.routed(backends)));
    writeAtomic(this.files.stoppedMap, renderMapFile(stoppedEntries(backends)));
    if (this.opts.https) {
      writeAtomic(this.files.redirectMap, renderMapFile(redirectEntries(this.routed(backends), this.certs)));
      writeAtomic(this.files.hstsMap, renderMapFile(hstsEntries(this.routed(backends), this.certs)));
    }
  }

  /** The service backends plus the control plane's own domain, as the host map routes them. */
  private routed(backends: EdgeBackendSpec[]): EdgeBackendSpec[] {
    const domain = this.opts.control?.domain;
    return domain ? [...backends, { name: CONTROL_BACKEND, hosts: [domain] }] : backends;
  }

  private renderText(servers: Map<string, EdgeServer[]>, backends: EdgeBackendSpec[] = this.backends): string {
    return renderConfig({
      httpPort: this.opts.httpPort,
      bindAddress: this.bind,
      adminSocket: this.files.adminSocket,
      mapFile: this.files.map,
      backends: backends.map((b) => ({ name: b.name, servers: servers.get(b.name) ?? [], ...(b.check ? { check: b.check } : {}) })),
      requestLog: this.opts.requestLog,
      prometheus: this.opts.prometheus,
      https: this.opts.https
        ? { port: this.opts.https.port, defaultCert: this.files.defaultCert, crtList: this.files.crtList, redirectMap: this.files.redirectMap, hstsMap: this.files.hstsMap }
        : undefined,
      control: this.opts.control ? { address: this.opts.control.address, port: this.opts.control.port } : undefined,
      stoppedMap: this.files.stoppedMap,
    });
  }

  /** Makes the runtime maps (hosts; redirects and HSTS with HTTPS) equal to the desired ones; returns the number of changed keys. */
  private async syncMaps(): Promise<number> {
    let changed = await this.syncMap(this.files.map, new Map(this.routed(this.backends).flatMap((b) => b.hosts.map((h) => [h, b.name] as const))));
    changed += await this.syncMap(this.files.stoppedMap, stoppedEntries(this.backends));
    if (this.opts.https) {
      changed += await this.syncMap(this.files.redirectMap, redirectEntries(this.routed(this.backends), this.certs));
      changed += await this.syncMap(this.files.hstsMap, hstsEntries(this.routed(this.backends), this.certs));
    }
    return changed;
  }

  private async syncMap(file: string, desired: Map<string, string>): Promise<number> {
    const entries = parseMapEntries(await sendCommand(this.files.adminSocket, `show map ${file}`));
    const actual = new Map<string, string[]>();
    for (const e of entries) actual.set(e.key, [...(actual.get(e.key) ?? []), e.value]);
    let changed = 0;
    for (const [host, values] of actual) {
      const want = desired.get(host);
      if (want !== undefined && values.length === 1 && values[0] === want) continue;
      await runCommand(this.files.adminSocket, `del map ${file} ${host}`);
      actual.delete(host);
      changed++;
    }
    for (const [host, value] of desired) {
      if (actual.has(host)) continue;
      // Spaces and semicolons (an HSTS value) are escaped: the CLI splits words and commands on them.
      await runCommand(this.files.adminSocket, `add map ${file} ${host} ${value.replace(/([ ;\\])/g, '\\$1')}`);
      changed++;
    }
    return changed;
  }

  private assertHostsFree(name: string, hosts: string[]): void {
    const domain = this.opts.control?.domain;
    if (domain && hosts.includes(domain)) throw new SlipwayError('SLW_EDGE', `host ${domain} is the control plane's own domain (SLIPWAY_DOMAIN); a service cannot use it`);
    for (const b of this.backends) {
      if (b.name === name) continue;
      const clash = hosts.find((h) => b.hosts.includes(h));
      if (clash) throw new SlipwayError('SLW_EDGE', `host ${clash} is already routed to ${b.name}; a host can route to one backend only`);
    }
  }

  private async runtimeBackends(): Promise<string[]> {
    // The control plane's backend is part of the config template, not of the backend list.
    return parseBackendNames(await sendCommand(this.files.adminSocket, 'show backend')).filter((n) => n !== CONTROL_BACKEND);
  }

  /** The servers of every backend the running worker has (the runtime is their truth). */
  private async currentServers(): Promise<Map<string, EdgeServer[]>> {
    const all = new Map<string, EdgeServer[]>();
    if (!(await this.isRunning())) return all;
    for (const name of await this.runtimeBackends()) all.set(name, await this.listServers(name));
    return all;
  }

  /** Streams on a server in the current worker plus in old workers still finishing their requests after a reload. */
  private async sessionsEverywhere(backend: string, name: string): Promise<number> {
    const command = `show stat ${backend} 4 -1`;
    let total = serverSessions(await sendCommand(this.files.adminSocket, command), backend, name);
    for (const pid of await this.oldWorkers()) {
      total += serverSessions(await sendToWorker(this.files.masterSocket, pid, command).catch(() => ''), backend, name);
    }
    return total;
  }

  /** Best effort: an old worker exits as soon as its last connection ends. */
  private async onOldWorkers(command: string): Promise<void> {
    for (const pid of await this.oldWorkers()) await sendToWorker(this.files.masterSocket, pid, command).catch(() => '');
  }

  private async oldWorkers(): Promise<number[]> {
    try {
      return (await showProc(this.files)).oldWorkerPids;
    } catch {
      return [];
    }
  }

  /** Our HAProxy: pid file → live haproxy process on our config, master socket and admin socket answer. */
  private async isRunning(): Promise<boolean> {
    if (!isOurHaproxy(readPid(this.files), this.files)) return false;
    try {
      await showProc(this.files, 1000);
      await sendCommand(this.files.adminSocket, 'show info', 1000);
      return true;
    } catch {
      return false;
    }
  }

  private async requireRunning(): Promise<void> {
    if (!(await this.isRunning())) {
      throw new SlipwayError('SLW_EDGE', `the edge (HAProxy on ${this.files.dir}) is not running or does not answer; the control plane starts it when it starts (see ${this.files.log})`);
    }
  }

  private async answersWithin(ms: number): Promise<boolean> {
    const started = Date.now();
    while (Date.now() - started < ms) {
      if (await this.isRunning()) return true;
      await sleep(100);
    }
    return false;
  }

  private async statusNow(): Promise<EdgeStatus> {
    const base = { httpPort: this.opts.httpPort, httpsPort: this.opts.https?.port ?? null, reloads: this.reloads };
    const down = { ...base, running: false, pid: null, version: this.binaryVersion };
    if (!isOurHaproxy(readPid(this.files), this.files)) return down;
    // The isRunning checks, at once, keeping the master's answer for its pid and version.
    try {
      const [proc] = await Promise.all([showProc(this.files, 1000), sendCommand(this.files.adminSocket, 'show info', 1000)]);
      return { ...base, running: true, pid: proc.masterPid, version: proc.version ?? this.binaryVersion };
    } catch {
      return down;
    }
  }
}
