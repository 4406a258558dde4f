/**
 * Let's Encrypt's test ACME server, pebble, for integration tests: a throwaway CA for
 * pebble's own HTTPS listener, `pebble-challtestsrv` as a DNS server that answers every
 * name with 127.0.0.1, and `pebble` whose validator sends HTTP-01 requests to
 * 127.0.0.1:<httpPort> (the edge's HTTP port). Everything listens on and talks to
 * 127.0.0.1 only. Needs the Debian package `pebble` (2.4: /usr/bin/pebble and
 * /usr/bin/pebble-challtestsrv); the listener certificate is made with src/core/tls/test-certificates.ts.
 *
 *   const pebble = await Pebble.start({ httpPort, validitySeconds: 120 });
 *   // ACME client: directory pebble.directoryUrl, trusting pebble.caFile (or caPem);
 *   // issued certificates chain to await pebble.issuingRoots().
 *   await pebble.stop();
 *
 * Pebble behaviours found by experiment (pebble 2.4.0+ds1 from Debian) — see
 * test/pebble-harness.test.ts, which checks most of them:
 * - `pebble-challtestsrv -management ""` does NOT disable the management server: it binds
 *   ":http", i.e. port 80 on every interface (as root). The other listeners (-http01,
 *   -https01, -tlsalpn01, -dns01) are disabled by "". So management gets a loopback port.
 * - `-defaultIPv6 ""` makes AAAA answers empty (NODATA), so the validator dials 127.0.0.1.
 *   With challtestsrv's default (AAAA ::1) the validator dials [::1]:<httpPort> ONLY: with
 *   nothing listening on ::1 the challenge fails ("dial tcp [::1]:<port>: connect:
 *   connection refused"), with no fallback to 127.0.0.1; with listeners on both, every
 *   validation request arrives on ::1. (POST {"ip":"::1"} to
 *   <dnsManagementUrl>/set-default-ipv6 brings that behaviour back for a test.)
 * - The validator sends `GET /.well-known/acme-challenge/<token>` to <name>:<httpPort>
 *   with `Host: <name>:<httpPort>` (the port stays in the Host header when it is not 80,
 *   so an edge routing challenges by host must strip it) and User-Agent
 *   "LetsEncrypt-Pebble-VA (linux; amd64)". Pebble 2.4 makes 3 validation requests per
 *   challenge ("Starting 3 validations"), all of which must succeed; with
 *   PEBBLE_VA_NOSLEEP=1 a whole order (account, challenge, finalize, download) takes ~0.1 s.
 * - `certificateValidityPeriod` (seconds) works in 2.4 (the log says "Using certificate
 *   validity period of N seconds"): notAfter = notBefore + N - 1 s; notBefore is the
 *   issuance time, not backdated. Without it, leaves last 5 years (157766399 s).
 * - Issued chains: leaf <- "Pebble Intermediate CA xxxxxx" <- "Pebble Root CA xxxxxx"
 *   (30 years); the ACME certificate download holds leaf + intermediate, not the root.
 *   Root and intermediate (and their keys) are new on every pebble start, including
 *   startPebbleAgain().
 * - Pebble keeps no state across starts: after startPebbleAgain() the old account URL is
 *   unknown (HTTP 400 "Account <url> not found." — accountDoesNotExist). acme-client 5.4
 *   caches the account URL in its Client, so even client.createAccount() fails on the old
 *   Client; a new acme.Client with the same account key registers again (a new account).
 * - Pebble's own default PEBBLE_AUTHZREUSE=50 reuses a valid authorization for a new order
 *   of the same account half of the time (the order is 'ready' without any challenge);
 *   this harness defaults it to 0 so that every order needs its HTTP-01 challenge answered.
 * - The management interface (roots, intermediates, cert status) is HTTPS with the same
 *   listener certificate as the ACME API.
 * - While pebble is stopped its ports refuse connections (ECONNREFUSED). Not pebble but
 *   worth knowing: acme-client 5.4 retries refused connections and 5xx/429 answers
 *   (acme.axios.defaults.acmeSettings.retryMaxAttempts 5, waiting 5 s x attempt: ~75 s in
 *   all) before its call fails; lower retryMaxAttempts / retryDefaultDelay in tests.
 *
 * The child processes are killed by stop() and, should a test forget that, by a process
 * 'exit' handler (and they get SIGINT with the test's process group on Ctrl-C).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeCa, makeLeaf } from '../../src/core/tls/test-certificates';
import { freePort } from './free-port';

export interface PebbleOptions {
  /** Where pebble's validator sends HTTP-01 requests (on 127.0.0.1): the edge's HTTP port. */
  httpPort: number;
  /** Lifetime of issued certificates in seconds (pebble's certificateValidityPeriod); default 5 years. */
  validitySeconds?: number;
  /**
   * Percent of new orders that reuse a still-valid authorization of the same account
   * (PEBBLE_AUTHZREUSE), default 0: every order needs its challenge answered. Pebble's own default is 50.
   */
  authzReusePercent?: number;
}

const PEBBLE_BIN = process.env.PEBBLE_BIN ?? 'pebble';
const CHALLTESTSRV_BIN = process.env.PEBBLE_CHALLTESTSRV_BIN ?? 'pebble-challtestsrv';
const READY_TIMEOUT_MS = 20_000;
const LOG_LINES = 400;

/** Children still running and temp dirs not yet removed: killed / removed when the test process exits. */
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
}
function track(child: ChildProcess): void {
  installExitHook();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export class Pebble {
  /** Pebble's ACME directory; its listener certificate is signed by caFile / caPem. */
  readonly directoryUrl: string;
  /** Pebble's management interface (HTTPS, same certificate): /roots/0, /intermediates/0, /cert-status-by-serial/<hex>. */
  readonly managementUrl: string;
  /** pebble-challtestsrv's management API (plain HTTP), e.g. POST /add-a to change DNS answers. */
  readonly dnsManagementUrl: string;
  /** PEM file of the CA that signed pebble's listener certificate: what an ACME client must trust. */
  readonly caFile: string;

  private pebble: ChildProcess | null = null;
  private challtestsrv: ChildProcess | null = null;
  private readonly log: string[] = [];
  private stopped = false;

  private constructor(
    /** Temp dir with ca.pem, the listener cert/key and pebble-config.json (removed by stop()). */
    readonly dir: string,
    /** Contents of caFile. */
    readonly caPem: string,
    readonly httpPort: number,
    readonly acmePort: number,
    readonly managementPort: number,
    readonly dnsPort: number,
    readonly dnsManagementPort: number,
    readonly tlsPort: number,
    private readonly authzReusePercent: number,
  ) {
    this.directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
    this.managementUrl = `https://127.0.0.1:${managementPort}`;
    this.dnsManagementUrl = `http://127.0.0.1:${dnsManagementPort}`;
    this.caFile = path.join(dir, 'ca.pem');
  }

  static async start(opts: PebbleOptions): Promise<Pebble> {
    if (!Number.isInteger(opts.httpPort) || opts.httpPort <= 0 || opts.httpPort > 65535) throw new Error(`pebble: bad httpPort ${opts.httpPort}`);
    if (opts.validitySeconds !== undefined && (!Number.isInteger(opts.validitySeconds) || opts.validitySeconds <= 0)) {
      throw new Error(`pebble: validitySeconds must be a positive integer, got ${opts.validitySeconds}`);
    }
    const reuse = opts.authzReusePercent ?? 0;
    if (!Number.isInteger(reuse) || reuse < 0 || reuse > 100) throw new Error(`pebble: authzReusePercent must be 0..100, got ${reuse}`);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-pebble-'));
    installExitHook();
    dirs.add(dir);
    try {
      const { caPem, certPem, keyPem } = await listenerCertificate();
      writeFileSync(path.join(dir, 'ca.pem'), caPem);
      writeFileSync(path.join(dir, 'cert.pem'), certPem);
      writeFileSync(path.join(dir, 'key.pem'), keyPem, { mode: 0o600 });
      const [acmePort, managementPort, dnsPort, dnsManagementPort, tlsPort] = await distinctFreePorts(5, opts.httpPort);
      const p = new Pebble(dir, caPem, opts.httpPort, acmePort!, managementPort!, dnsPort!, dnsManagementPort!, tlsPort!, reuse);
      const config = {
        pebble: {
          listenAddress: `127.0.0.1:${p.acmePort}`,
          managementListenAddress: `127.0.0.1:${p.managementPort}`,
          certificate: path.join(dir, 'cert.pem'),
          privateKey: path.join(dir, 'key.pem'),
          httpPort: p.httpPort,
          tlsPort: p.tlsPort,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
          ...(opts.validitySeconds !== undefined ? { certificateValidityPeriod: opts.validitySeconds } : {}),
        },
      };
      writeFileSync(path.join(dir, 'pebble-config.json'), JSON.stringify(config, null, 2));
      try {
        await p.startChalltestsrv();
        await p.startPebbleAgain();
      } catch (err) {
        await p.stop().catch(() => undefined);
        throw err;
      }
      return p;
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
      throw err;
    }
  }

  /** Process ids of the running children (undefined when not running). */
  get pids(): { pebble?: number; challtestsrv?: number } {
    const running = (c: ChildProcess | null): number | undefined => (c && c.exitCode === null && c.signalCode === null ? c.pid : undefined);
    return { pebble: running(this.pebble), challtestsrv: running(this.challtestsrv) };
  }

  /** The root and the intermediate that sign issued certificates (PEM, root first). New on every pebble start. */
  async issuingChain(): Promise<{ root: string; intermediate: string }> {
    const [root, intermediate] = await Promise.all([this.management('/roots/0'), this.management('/intermediates/0')]);
    return { root, intermediate };
  }

  /** Root + intermediate PEM concatenated: what a client must trust for certificates issued by this pebble run. */
  async issuingRoots(): Promise<string> {
    const { root, intermediate } = await this.issuingChain();
    return `${root.trimEnd()}\n${intermediate.trimEnd()}\n`;
  }

  /** Stops pebble only (its ports then refuse connections); DNS keeps running. */
  async stopPebbleOnly(): Promise<void> {
    const child = this.pebble;
    this.pebble = null;
    if (child) await terminate(child);
  }

  /** (Re)starts pebble on the same ports and waits until the directory answers. All ACME state, roots included, is new. */
  async startPebbleAgain(): Promise<void> {
    if (this.stopped) throw new Error('pebble: already stopped');
    if (this.pebble) throw new Error('pebble: already running');
    const child = this.spawnLogged('pebble', PEBBLE_BIN, ['-config', path.join(this.dir, 'pebble-config.json'), '-dnsserver', `127.0.0.1:${this.dnsPort}`], {
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
      PEBBLE_AUTHZREUSE: String(this.authzReusePercent),
    });
    this.pebble = child;
    await this.waitFor(child, 'pebble', async () => {
      const dir = JSON.parse(await this.get(this.directoryUrl)) as { newOrder?: string };
      if (!dir.newOrder) throw new Error('no newOrder in the directory');
    });
  }

  /** Kills both processes, waits for them to exit, removes the temp dir. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    const children = [this.pebble, this.challtestsrv].filter((c): c is ChildProcess => c !== null);
    this.pebble = null;
    this.challtestsrv = null;
    await Promise.all(children.map(terminate));
    rmSync(this.dir, { recursive: true, force: true });
    dirs.delete(this.dir);
  }

  /** The last lines both processes printed (each prefixed with its name), for failure messages. Works after stop() too. */
  logTail(lines = 60): string {
    return this.log.slice(-lines).join('\n');
  }

  private async startChalltestsrv(): Promise<void> {
    const child = this.spawnLogged('challtestsrv', CHALLTESTSRV_BIN, [
      '-dns01', `127.0.0.1:${this.dnsPort}`,
      '-defaultIPv4', '127.0.0.1',
      '-defaultIPv6', '',
      '-http01', '',
      '-https01', '',
      '-tlsalpn01', '',
      // "" would bind :80 on every interface (see above).
      '-management', `127.0.0.1:${this.dnsManagementPort}`,
    ]);
    this.challtestsrv = child;
    await this.waitFor(child, 'pebble-challtestsrv', async () => {
      await connects(this.dnsPort);
      await connects(this.dnsManagementPort);
    });
  }

  private spawnLogged(name: string, bin: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let partial = '';
    const onData = (chunk: Buffer): void => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.addLog(`[${name}] ${line}`);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', (err) => this.addLog(`[${name}] error: ${err.message}`));
    child.once('exit', (code, signal) => {
      if (partial) this.addLog(`[${name}] ${partial}`);
      partial = '';
      this.addLog(`[${name}] exited (${signal ?? code})`);
    });
    // A forgotten stop() must not keep the test process alive; the 'exit' hook then kills the child.
    child.unref();
    (child.stdout as net.Socket | null)?.unref();
    (child.stderr as net.Socket | null)?.unref();
    return child;
  }

  private addLog(line: string): void {
    this.log.push(line);
    if (this.log.length > LOG_LINES) this.log.splice(0, this.log.length - LOG_LINES);
  }

  /** Polls `ready` until it resolves; fails early when the child exits or cannot be spawned. */
  private async waitFor(child: ChildProcess, what: string, ready: () => Promise<void>): Promise<void> {
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last: unknown;
    for (;;) {
      if (spawnError) {
        const hint = (spawnError as NodeJS.ErrnoException).code === 'ENOENT' ? ' (is the Debian package pebble installed?)' : '';
        throw new Error(`${what}: cannot start: ${spawnError.message}${hint}`);
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${what} exited (${child.signalCode ?? child.exitCode}) before it was ready:\n${this.logTail(30)}`);
      }
      try {
        await ready();
        return;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) throw new Error(`${what} not ready within ${READY_TIMEOUT_MS} ms (${String(last)}):\n${this.logTail(30)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async management(pathname: string): Promise<string> {
    return this.get(`${this.managementUrl}${pathname}`);
  }

  /** GET over HTTPS trusting caPem only; throws unless 200. */
  private get(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = https.get(url, { ca: this.caPem, agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('error', reject);
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`))));
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)));
      req.on('error', reject);
    });
  }
}

/** SIGTERM, SIGKILL after 3 s; resolves once the child has exited. */
function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** `n` free loopback ports, all different and none equal to `exclude`. */
async function distinctFreePorts(n: number, exclude: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) {
    const port = await freePort();
    if (port !== exclude) ports.add(port);
  }
  return [...ports];
}

function connects(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}

/** A throwaway CA and a certificate for localhost / 127.0.0.1 / ::1 signed by it (src/core/tls/test-certificates.ts). */
async function listenerCertificate(): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const ca = await makeCa({ cn: 'Slipway test pebble listener CA' });
  const leaf = await makeLeaf({ domains: ['localhost'], ips: ['127.0.0.1', '::1'], issuer: ca });
  return { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem };
}
