/**
 * nginx as a comparison reverse proxy for benchmarks: a foreground master (`daemon off`) run
 * from a config in a temp dir, on a free 127.0.0.1 port, never the system service. The config
 * mirrors what the Slipway edge does per request (keep-alive both sides, X-Forwarded-For,
 * X-Request-ID, one JSON access-log line per request written off the request path).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/support/free-port';
import { getWithHost } from '../../test/support/http-get';

const INSTALL_HINT =
  'nginx is not installed. Install it with `SLIPWAY_BOOTSTRAP_NGINX=1 bash scripts/bootstrap-host.sh` (as root; installs nginx-light and keeps its system service stopped, so it never takes port 80 from the edge).';

export interface NginxOptions {
  /** The app's address as nginx reaches it (the replica's IP on the Slipway network). */
  upstream: { address: string; port: number };
  /** nginx worker processes: the same as the edge's threads for a fair comparison. */
  workers: number;
  /** Hostname the app answers on (sent as Host, like the edge forwards it). */
  hostHeader: string;
}

/**
 * The nginx binary, installed first through the project's bootstrap script when missing and
 * this runs as root (nginx-light, its system service kept stopped); otherwise throws how to
 * install it.
 */
export function ensureNginx(): string {
  try {
    return findNginx();
  } catch (err) {
    if (process.getuid?.() !== 0) throw err;
    console.log('nginx is missing: installing nginx-light (scripts/bootstrap-host.sh)…');
    const script = path.resolve(import.meta.dirname, '../../scripts/bootstrap-host.sh');
    execFileSync('bash', [script], { stdio: 'inherit', env: { ...process.env, SLIPWAY_BOOTSTRAP_NGINX: '1' } });
    return findNginx();
  }
}

/** The nginx binary on PATH or in /usr/sbin (root's PATH usually has it, a user's may not); throws how to install it. */
export function findNginx(): string {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const bin = path.join(dir, 'nginx');
    try {
      accessSync(bin, constants.X_OK);
      return bin;
    } catch {
      // not here
    }
  }
  throw new Error(INSTALL_HINT);
}

export class NginxProxy {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Process ids of the master and its workers (for CPU accounting). */
  get pids(): number[] {
    const master = this.child.pid;
    return master ? [master, ...childPids(master)] : [];
  }

  static async start(bin: string, o: NginxOptions): Promise<NginxProxy> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-nginx-'));
    const port = await freePort();
    const conf = path.join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConfig(dir, port, o));
    const out = openSync(path.join(dir, 'nginx.out'), 'a');
    // -p: every relative path (temp dirs) under our dir; -e: errors before the config is read go there too.
    const child = spawn(bin, ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', out, out] });
    const proxy = new NginxProxy(child, dir, port);
    try {
      await proxy.waitServing(o.hostHeader);
    } catch (err) {
      await proxy.stop();
      throw err;
    }
    return proxy;
  }

  /** Fast shutdown (SIGTERM to the master, which stops its workers), SIGKILL if it lingers; removes the temp dir. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Until nginx answers 200 through to the app; throws with nginx's own error log if it exits or never does. */
  private async waitServing(host: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (this.child.exitCode !== null) break;
      try {
        if ((await getWithHost(this.port, host, '/health')).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nginx did not serve on 127.0.0.1:${this.port}: ${this.errors()}`);
  }

  private errors(): string {
    for (const f of ['error.log', 'nginx.out']) {
      try {
        const text = readFileSync(path.join(this.dir, f), 'utf8').trim();
        if (text) return text.split('\n').slice(-10).join('\n');
      } catch {
        // not written
      }
    }
    return '(no error output)';
  }
}

/**
 * The config. Choices, each to match the edge (src/drivers/haproxy/render-config.ts):
 * - worker_processes = the edge's threads (HAProxy 2.6 starts one per CPU);
 * - keepalive_requests unlimited in practice on both sides (nginx closes a client connection
 *   after 1000 requests by default, HAProxy never does); upstream keep-alive pool as `http-reuse`;
 * - keep-alive timeout 10 s as `timeout http-keep-alive`;
 * - X-Forwarded-For appended, X-Request-ID set when absent, as the edge does;
 * - access log: a JSON line per request, buffered (64 KiB, flushed every second) into a file
 *   in the temp dir. The edge writes its JSON lines into an in-memory ring that a forwarder
 *   sends to the control plane in batches: both keep the write off the request path. The
 *   file has no reader; the edge's lines are parsed by the control plane, whose CPU is
 *   therefore part of the edge's cost in this benchmark.
 */
export function nginxConfig(dir: string, port: number, o: NginxOptions): string {
  const logFormat = [
    '{"t":"$msec"',
    '"m":"$request_method"',
    '"p":"$uri"',
    '"st":$status',
    '"by":$bytes_sent',
    '"ta":$request_time',
    '"tr":"$upstream_response_time"',
    '"ci":"$remote_addr"',
    '"xff":"$http_x_forwarded_for"',
    '"id":"$slw_request_id"}',
  ].join(',');
  return `daemon off;
master_process on;
worker_processes ${o.workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout 10s;
  keepalive_requests 1000000000;
  map $http_x_request_id $slw_request_id { "" $request_id; default $http_x_request_id; }
  log_format slipway escape=json '${logFormat}';
  access_log ${dir}/access.log slipway buffer=64k flush=1s;
  upstream app {
    server ${o.upstream.address}:${o.upstream.port};
    keepalive 256;
    keepalive_requests 1000000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Request-ID $slw_request_id;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
    }
  }
}
`;
}

/** Children of a process, from /proc (nginx's workers under the master). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
