/**
 * A throwaway copy of examples/stack (web ×2 + worker + Postgres + Redis) deployed under its
 * own project name: the example's own slipway.yml, with only what a test must change (project,
 * domains, APP_VERSION, faster health probing, and the variant's additions).
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';

export const STACK_EXAMPLE = path.resolve(import.meta.dirname, '../../examples/stack');

export interface StackVariant {
  version: string;
  /** Extra env of web (merged over the example's). */
  webEnv?: Record<string, string>;
  /** Extra fields of the `db` accessory (env, resources…), as written in slipway.yml. */
  db?: Record<string, unknown>;
  /** Top-level per-environment overrides. */
  environments?: Record<string, unknown>;
}

interface Yaml {
  project: string;
  accessories: Record<string, Record<string, unknown>>;
  services: Record<string, Record<string, unknown>>;
}

export class StackProject {
  readonly dir: string;

  constructor(readonly project: string) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), `slipway-stack-${project}-`));
    cpSync(STACK_EXAMPLE, this.dir, { recursive: true });
  }

  get domain(): string {
    return `${this.project}.test.localhost`;
  }

  domainOf(env: string): string {
    return env === 'production' ? this.domain : `${env}.${this.domain}`;
  }

  configText(v: StackVariant): string {
    const doc = parse(readFileSync(path.join(STACK_EXAMPLE, 'slipway.yml'), 'utf8')) as Yaml;
    doc.project = this.project;
    const web = doc.services.web!;
    const worker = doc.services.worker!;
    web.domains = [this.domain];
    web.env = { ...(web.env as Record<string, string>), APP_VERSION: v.version, ...v.webEnv };
    // The tests' fast probing (test/support/test-project.ts); the example keeps friendlier values.
    web.health = { ...(web.health as Record<string, unknown>), interval: '200ms', timeout: '1s', successes: 2, deadline: '60s' };
    web.deploy = { ...(web.deploy as Record<string, unknown>), stop_timeout: '5s' };
    worker.env = { ...(worker.env as Record<string, string>), APP_VERSION: v.version };
    worker.deploy = { stop_timeout: '5s' };
    if (v.db) doc.accessories.db = { ...doc.accessories.db, ...v.db };
    const out: Record<string, unknown> = { ...doc };
    if (v.environments) out.environments = v.environments;
    return stringify(out);
  }

  /** Writes slipway.yml for a variant and returns what deployDirectory needs to deploy it. */
  write(v: StackVariant, env?: string): { config: string; dir: string; env?: string } {
    const config = this.configText(v);
    writeFileSync(path.join(this.dir, 'slipway.yml'), config);
    return { config, dir: this.dir, ...(env ? { env } : {}) };
  }
}
