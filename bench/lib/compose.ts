/**
 * The baseline our users run today: one service of an image under docker-compose (v1, as
 * Debian ships it), its port published on 127.0.0.1, redeployed by changing an environment
 * value and running `docker-compose up -d`. Shared by the benchmarks that compare with it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../test/support/free-port';

const run = promisify(execFile);
let projects = 0;

export class ComposeService {
  private constructor(
    private readonly dir: string,
    private readonly project: string,
    private readonly image: string,
    readonly port: number,
  ) {}

  /** A compose project (not started) running `image`, whose app listens on 3000 in the container. */
  static async create(image: string): Promise<ComposeService> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-compose-'));
    // Unique per process and per service, so two baselines of one run never share containers.
    return new ComposeService(dir, `slipwaybench${process.pid}x${projects++}`, image, await freePort());
  }

  /** http://127.0.0.1:<published port>/ */
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Writes docker-compose.yml with `version` as APP_VERSION and SLIPWAY_RELEASE, then `docker-compose up -d` (plus `args`). */
  async up(version: string, ...args: string[]): Promise<void> {
    writeFileSync(
      this.file,
      `version: "3"\nservices:\n  web:\n    image: ${this.image}\n    ports: ["127.0.0.1:${this.port}:3000"]\n    environment:\n      APP_VERSION: "${version}"\n      SLIPWAY_RELEASE: "${version}"\n`,
    );
    await this.compose('up', '-d', ...args);
  }

  /** Stops and removes the project's containers (1 s stop timeout) and its directory; never throws. */
  async down(): Promise<void> {
    await this.compose('down', '-t', '1').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get file(): string {
    return path.join(this.dir, 'docker-compose.yml');
  }

  private async compose(...args: string[]): Promise<void> {
    await run('docker-compose', ['-p', this.project, '-f', this.file, ...args], { cwd: this.dir });
  }
}

export interface WaitHttpOptions {
  /** Pause between attempts, default 100 ms. */
  intervalMs?: number;
  /** Give up after this long, default 10 s. */
  timeoutMs?: number;
  /** A 2xx answer counts only if this accepts its body (e.g. it names the new version); default: any 2xx. */
  accept?: (body: string) => boolean;
}

/** Polls `url` until it answers 2xx (and `accept` agrees); throws after timeoutMs. */
export async function waitHttp(url: string, opts: WaitHttpOptions = {}): Promise<void> {
  const { intervalMs = 100, timeoutMs = 10_000, accept } = opts;
  const started = Date.now();
  let last = 'no answer';
  while (Date.now() - started < timeoutMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (res.ok && (!accept || accept(body))) return;
      last = `HTTP ${res.status}: ${body.slice(0, 80)}`;
    } catch (err) {
      // Not up yet (refused, reset by docker-proxy while the container starts).
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${url} did not answer as expected within ${timeoutMs} ms (last: ${last})`);
}
