/**
 * A throwaway copy of examples/hello with its own project name and slipway.yml,
 * so integration tests can deploy variants (versions, failing health…).
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

const EXAMPLE = path.resolve(import.meta.dirname, '../../examples/hello');

export interface Variant {
  version: string;
  env?: Record<string, string>;
  replicas?: number;
  health?: Record<string, unknown>;
  deploy?: Record<string, unknown>;
  /** Extra service fields (release_command, …). */
  service?: Record<string, unknown>;
  /** Top-level per-environment overrides. */
  environments?: Record<string, unknown>;
  /** More services beside web (workers…), as written in slipway.yml. */
  services?: Record<string, unknown>;
  /** Top-level accessories (databases, any container), as written in slipway.yml. */
  accessories?: Record<string, unknown>;
}

export class TestProject {
  readonly dir: string;

  constructor(readonly project: string) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), `slipway-app-${project}-`));
    cpSync(EXAMPLE, this.dir, { recursive: true });
  }

  get domain(): string {
    return `${this.project}.test.localhost`;
  }

  configText(v: Variant): string {
    return stringify({
      project: this.project,
      services: {
        web: {
          build: '.',
          port: 3000,
          domains: [this.domain],
          replicas: v.replicas ?? 2,
          health: { path: '/health', interval: '200ms', timeout: '1s', successes: 2, deadline: '30s', ...v.health },
          deploy: { max_surge: 1, max_unavailable: 0, drain_timeout: '10s', stop_timeout: '5s', ...v.deploy },
          env: { APP_VERSION: v.version, ...v.env },
          ...v.service,
        },
        ...v.services,
      },
      ...(v.accessories ? { accessories: v.accessories } : {}),
      ...(v.environments ? { environments: v.environments } : {}),
    });
  }

  /** Writes slipway.yml for a variant and returns what deployDirectory needs to deploy it. */
  write(v: Variant, env?: string): { config: string; dir: string; env?: string } {
    const config = this.configText(v);
    writeFileSync(path.join(this.dir, 'slipway.yml'), config);
    return { config, dir: this.dir, ...(env ? { env } : {}) };
  }
}
