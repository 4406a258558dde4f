/**
 * A fleet of N static web services (busybox httpd from the offline `slipway/static` base
 * image, R replicas each) deployed in one request, as the read-side and footprint benchmarks
 * need: many real containers behind the edge without pulling or building an application.
 * The caller creates the base image first (`client.createBaseImage('static')`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { waitDeployment } from '../../test/support/wait-deployment';
import { deployDirectory } from '../../src/client/upload-contexts';
import type { SlipwayClient } from '../../src/client/api-client';
import type { DeploymentView } from '../../src/core/contract/views';

export interface Fleet {
  project: string;
  services: number;
  replicas: number;
  /** The page every replica serves (default the same for every fleet, so Docker's layer cache serves every build after the first); changing it makes a new source, hence new images and releases. */
  page?: string;
}

/** Service names sort in deploy order: svc-001, svc-002… */
export const fleetService = (i: number): string => `svc-${String(i).padStart(3, '0')}`;

/** The domain the edge routes to service i (1-based) of the project. */
export const fleetDomain = (project: string, i: number): string => `svc-${i}.${project}.localhost`;

/** One build context shared by every service: uploaded once; each service builds its own image tag from it. */
function siteDir(page: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-fleet-'));
  mkdirSync(path.join(dir, 'site'));
  writeFileSync(path.join(dir, 'site/index.html'), `<p>${page}</p>\n`);
  writeFileSync(path.join(dir, 'site/health'), 'ok\n');
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM slipway/static:latest\nCOPY site/ /www/\n');
  return dir;
}

export function fleetConfig({ project, services, replicas }: Fleet): string {
  const all: Record<string, unknown> = {};
  for (let i = 1; i <= services; i++) {
    all[fleetService(i)] = {
      build: '.',
      port: 8080,
      replicas,
      domains: [fleetDomain(project, i)],
      // Fast probes so the figures are the platform's, not a health interval's.
      health: { path: '/health', interval: '200ms', timeout: '1s', successes: 1, deadline: '120s' },
      deploy: { drain_timeout: '1s', stop_timeout: '2s' },
    };
  }
  return stringify({ project, services: all });
}

/** When the deploy request was sent (epoch ms) and every deployment's final record. */
export interface FleetDeploy {
  requestedAt: number;
  deployments: DeploymentView[];
  /** From the request to the last deployment's end (every one succeeded), in ms. */
  succeededMs: number;
}

/** Deploys the fleet in one request and waits for every deployment; throws if any failed. */
export async function deployFleet(client: SlipwayClient, fleet: Fleet): Promise<FleetDeploy> {
  const dir = siteDir(fleet.page ?? 'static fleet');
  try {
    const config = fleetConfig(fleet);
    writeFileSync(path.join(dir, 'slipway.yml'), config);
    const requestedAt = Date.now();
    const { deployments } = await deployDirectory(client, { config, dir });
    const outcomes = await Promise.all(deployments.map((d) => waitDeployment(client, d.id)));
    const succeededMs = Date.now() - requestedAt;
    const failed = outcomes.filter((d) => d.state !== 'succeeded');
    if (failed.length > 0) throw new Error(`${failed.length} deployment(s) failed, e.g. ${failed[0]!.service}: ${failed[0]!.error}`);
    return { requestedAt, deployments: outcomes, succeededMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
