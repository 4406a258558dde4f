/**
 * A hand-configured HAProxy in front of one container, as teams with their own proxy run it:
 * a static config, one server = the container's port published on 127.0.0.1, HTTP health
 * checks, the default retries. Deploys happen behind it (`docker stop` + `docker run` on the
 * same published port); the proxy itself is never touched. Not Slipway's edge: no runtime
 * API, no drain, no `retry-on empty-response`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/support/free-port';

export class StandaloneHaproxy {
  private constructor(
    private readonly dir: string,
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Starts `haproxy -db` (foreground, our child) on a free 127.0.0.1 port, proxying to 127.0.0.1:backendPort. */
  static async start(backendPort: number, healthPath = '/health'): Promise<StandaloneHaproxy> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-haproxy-'));
    const port = await freePort();
    const cfg = path.join(dir, 'haproxy.cfg');
    writeFileSync(cfg, config(port, backendPort, healthPath));
    const child = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    const proxy = new StandaloneHaproxy(dir, child, port);
    await proxy.waitListening(() => stderr);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Stops our haproxy child (by its pid) and removes its config; never throws. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitListening(stderr: () => string): Promise<void> {
    for (let i = 0; i < 50; i++) {
      if (this.child.exitCode !== null) throw new Error(`haproxy exited with ${this.child.exitCode}: ${stderr()}`);
      try {
        await fetch(this.url, { signal: AbortSignal.timeout(500) });
        return; // any HTTP answer (even 503 while the check has not passed) means it listens
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`haproxy did not listen on ${this.url}: ${stderr()}`);
  }
}

/**
 * A typical hand-written config: keep-alive both sides, `retries 3` (on connection failures,
 * HAProxy's default `retry-on`), a check every 500 ms that marks the server down after 2
 * failures and up after 2 successes.
 */
function config(port: number, backendPort: number, healthPath: string): string {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-keep-alive 10s',
    '  retries 3',
    'frontend web',
    `  bind 127.0.0.1:${port}`,
    '  default_backend app',
    'backend app',
    `  option httpchk GET ${healthPath}`,
    `  server app 127.0.0.1:${backendPort} check inter 500ms fall 2 rise 2`,
    '',
  ].join('\n');
}
