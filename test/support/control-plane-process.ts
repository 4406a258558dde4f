/**
 * Runs a real `slipway server` in a child process for integration tests: its own
 * data dir, API port, edge port (127.0.0.1 only) and Docker network. It can be
 * SIGKILLed and restarted on the same state to test crash safety.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SlipwayClient } from '../../src/client/api-client';
import { freePort } from './free-port';

const ROOT = path.resolve(import.meta.dirname, '../..');

export class ControlPlaneProcess {
  readonly token = `test-token-${Math.random().toString(36).slice(2)}`;
  readonly client: SlipwayClient;
  private child: ChildProcess | null = null;

  private constructor(
    readonly dataDir: string,
    readonly apiPort: number,
    readonly httpPort: number,
    readonly network: string,
    readonly httpsPort: number,
  ) {
    this.client = new SlipwayClient({ url: `http://127.0.0.1:${apiPort}`, token: this.token });
  }

  static async create(name: string): Promise<ControlPlaneProcess> {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), `slipway-${name}-`));
    return new ControlPlaneProcess(dataDir, await freePort(), await freePort(), `slipway-test-${name}`, await freePort());
  }

  get logFile(): string {
    return path.join(this.dataDir, 'server.log');
  }

  /** The server's process id while it runs (the child runs the server in-process), else null. */
  get pid(): number | null {
    return this.child?.exitCode === null ? (this.child.pid ?? null) : null;
  }

  get edgeUrl(): string {
    return `http://127.0.0.1:${this.httpPort}/`;
  }

  env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      SLIPWAY_DATA_DIR: this.dataDir,
      SLIPWAY_API_PORT: String(this.apiPort),
      SLIPWAY_HTTP_PORT: String(this.httpPort),
      SLIPWAY_EDGE_BIND: '127.0.0.1',
      SLIPWAY_DOCKER_NETWORK: this.network,
      SLIPWAY_ADMIN_TOKEN: this.token,
      SLIPWAY_LOG_LEVEL: 'debug',
      // SLIPWAY_REQUEST_LOG_LISTEN unset: the default, a unix socket in the (per-test) data directory.
      SLIPWAY_HTTPS_PORT: String(this.httpsPort),
      // Tests never reach Let's Encrypt: a test that wants ACME points SLIPWAY_ACME at pebble.
      SLIPWAY_ACME: 'off',
      // Scheduled backups (default 03:00 UTC) would start in whatever test runs then: only the tests of backups turn them on.
      SLIPWAY_BACKUP_TICK: 'off',
    };
  }

  /** `extraEnv` adds to (or, with undefined values, removes from) the server's environment. */
  async start(extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
    // 0600 like the rest of the data directory (the server fixes it at start, with a warning, otherwise).
    const out = openSync(this.logFile, 'a', 0o600);
    const env = { ...this.env(), ...extraEnv };
    for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete env[k];
    this.child = spawn(process.execPath, [path.join(ROOT, 'bin/slipway.mjs'), 'server'], {
      env,
      stdio: ['ignore', out, out],
    });
    const started = Date.now();
    while (Date.now() - started < 60_000) {
      if (this.child.exitCode !== null) throw new Error(`slipway server exited with ${this.child.exitCode}:\n${this.tail()}`);
      try {
        const h = await this.client.health();
        if (h.ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`slipway server did not become healthy in 60 s:\n${this.tail()}`);
  }

  /** SIGKILL: no chance to clean up, like a power cut of the control plane. */
  kill(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 35_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    this.child = null;
  }

  tail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops the server, the edge, every container and the network it created, and removes the data dir. */
  async destroy(): Promise<void> {
    await this.stop();
    const { stopEdge } = await import('../../src/drivers/haproxy/haproxy-edge');
    await stopEdge(path.join(this.dataDir, 'edge')).catch(() => undefined);
    const { removeTestContainers } = await import('./docker-cleanup');
    await removeTestContainers(this.network);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
