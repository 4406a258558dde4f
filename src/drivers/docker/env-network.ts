/**
 * Each project environment's own bridge network, `<base>_<project>_<env>`: its replicas,
 * one-offs and accessories join it (only it) and reach each other by name through Docker's
 * DNS; Docker's bridge isolation keeps other networks out. The host (edge, control plane)
 * still reaches every container by IP. Subnets are explicit /24s from Slipway's pool.
 * The separator is `_`, which project and environment names (`[a-z0-9-]`) cannot contain, so
 * two environments never share a name (`shop`+`preview-x` ≠ `shop-preview`+`x`); a network of
 * that name Slipway did not create for this project environment is refused, never adopted.
 */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { SlipwayError } from '../../core/errors';
import { dockerCall, dockerCallTolerating, dockerMessage, statusOf } from './docker-errors';
import { BASE_LABEL, MANAGED_LABELS, NETWORK_LABEL } from './labels';
import { type Cidr, formatCidr, freeSubnets, gatewayOf, parseCidr, subnetCount } from './subnet-pool';

export const envNetworkName = (base: string, project: string, env: string): string => `${base}_${project}_${env}`;

type Labels = Record<string, string> | null | undefined;

/**
 * Why an existing network of our name is not this project environment's (null when it is): it
 * lacks Slipway's labels (someone else's), or they name another base, project or environment.
 */
export function networkOwnerProblem(name: string, labels: Labels, want: { base: string; project: string; env: string }): string | null {
  const l = labels ?? {};
  const project = l[NETWORK_LABEL.project];
  const env = l[NETWORK_LABEL.env];
  if (project === undefined || env === undefined) {
    return `docker network ${name} already exists but was not created by Slipway (no ${NETWORK_LABEL.project}/${NETWORK_LABEL.env} labels), so it is not used as the network of project ${want.project} environment ${want.env}. Docker cannot rename a network: if it is needed, recreate it under another name; then remove this one (\`docker network rm ${name}\`, after disconnecting its containers)`;
  }
  const base = l[BASE_LABEL];
  if (project !== want.project || env !== want.env || (base !== undefined && base !== want.base)) {
    const whose = `project ${project} environment ${env}${base !== undefined && base !== want.base ? ` of the Slipway with base network ${base}` : ''}`;
    return `docker network ${name} belongs to ${whose} (its ${NETWORK_LABEL.project}/${NETWORK_LABEL.env}/${BASE_LABEL} labels), not to project ${want.project} environment ${want.env}: refusing to use it. Remove it (\`docker network rm ${name}\`) if it is stale, or give this Slipway another SLIPWAY_DOCKER_NETWORK`;
  }
  return null;
}

type Endpoints = Record<string, { IPAddress?: string }> | undefined;

/** A container's IP: on the first of `preferred` it is attached to, else on any network. */
export function containerAddress(networks: Endpoints, preferred: string[]): string | null {
  for (const name of preferred) {
    const ip = networks?.[name]?.IPAddress;
    if (ip) return ip;
  }
  for (const n of Object.values(networks ?? {})) if (n.IPAddress) return n.IPAddress;
  return null;
}

/** Docker's creation time (RFC 3339, nanoseconds with trailing zeros dropped) as a sortable string. */
export function createdKey(created: string | undefined): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(created ?? '');
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}${m[3]}` : '';
}

/** Docker's refusal of a subnet another network (maybe created a moment ago) already covers. */
const isOverlap = (err: unknown): boolean => /overlap/i.test(dockerMessage(err));
const isExists = (err: unknown): boolean => statusOf(err) === 409 || /already exists/i.test(dockerMessage(err));

export interface EnvNetworksOptions {
  docker: Docker;
  /** The base network name (`slipway`): the prefix of every environment network. */
  base: string;
  pool: Cidr;
  logger: Logger;
  /** Create attempts when another process takes the same subnet at the same moment. */
  maxAttempts?: number;
}

interface NetworkListing {
  Id: string;
  Name: string;
  Created?: string;
  Labels?: Labels;
  IPAM?: { Config?: Array<{ Subnet?: string }> | null } | null;
}

export class EnvNetworks {
  /** Networks known to exist: ensuring one again costs nothing. */
  private readonly ensured = new Set<string>();
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Subnet picks are serialized in this process, so two of ours never race for one /24. */
  private allocation: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: EnvNetworksOptions) {}

  ensure(project: string, env: string): Promise<string> {
    const name = envNetworkName(this.opts.base, project, env);
    if (this.ensured.has(name)) return Promise.resolve(name);
    const pending = this.inFlight.get(name);
    if (pending) return pending;
    const created = this.createIfMissing(project, env, name)
      .then(() => {
        this.ensured.add(name);
        return name;
      })
      .finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, created);
    return created;
  }

  /** Drops a network from the cache (it was found missing: removed behind our back). */
  forget(name: string): void {
    this.ensured.delete(name);
  }

  async remove(project: string, env: string): Promise<void> {
    const name = envNetworkName(this.opts.base, project, env);
    this.ensured.delete(name);
    const existing = await this.inspect(name);
    if (!existing) return;
    if (networkOwnerProblem(name, existing.Labels, { base: this.opts.base, project, env })) {
      // Not this environment's (someone else's network of the same name): never ours to remove.
      this.opts.logger.warn({ network: name, project, env }, 'a network of the environment network name was not created by Slipway for this environment: left alone');
      return;
    }
    try {
      await dockerCallTolerating(`remove network ${name}`, [404], () => this.opts.docker.getNetwork(name).remove());
    } catch (err) {
      const info = await this.opts.docker
        .getNetwork(name)
        .inspect()
        .catch(() => null) as { Containers?: Record<string, { Name?: string }> } | null;
      const users = Object.values(info?.Containers ?? {}).map((c) => c.Name ?? '?');
      if (users.length > 0) throw new SlipwayError('SLW_RUNTIME', `docker: network ${name} is still used by ${users.join(', ')}: stop them first`);
      throw err;
    }
    this.opts.logger.info({ network: name }, 'removed an environment network');
  }

  private async createIfMissing(project: string, env: string, name: string): Promise<void> {
    const existing = await this.inspect(name);
    if (existing) {
      this.checkOwner(name, existing.Labels, project, env);
      if (existing.Driver !== 'bridge') this.opts.logger.warn({ network: name, driver: existing.Driver }, 'an environment network exists but is not a bridge network');
      return;
    }
    const run = this.allocation.then(() => this.allocateAndCreate(project, env, name));
    this.allocation = run.catch(() => undefined);
    await run;
  }

  /** The network of exactly this name (Docker also resolves ids and id prefixes), or undefined. */
  private async inspect(name: string): Promise<{ Name: string; Driver: string; Labels?: Labels } | undefined> {
    const found = await dockerCallTolerating(`inspect network ${name}`, [404], () => this.opts.docker.getNetwork(name).inspect() as Promise<{ Name: string; Driver: string; Labels?: Labels }>);
    return found && found.Name === name ? found : undefined;
  }

  /** Refuses (SLW_RUNTIME) a network of our name that is not this project environment's. */
  private checkOwner(name: string, labels: Labels, project: string, env: string): void {
    const problem = networkOwnerProblem(name, labels, { base: this.opts.base, project, env });
    if (problem) throw new SlipwayError('SLW_RUNTIME', problem);
  }

  /** Another process created the network meanwhile: use it only if it is this environment's. */
  private async checkCreatedMeanwhile(project: string, env: string, name: string): Promise<void> {
    const found = await this.inspect(name);
    if (found) this.checkOwner(name, found.Labels, project, env);
  }

  private async allocateAndCreate(project: string, env: string, name: string): Promise<void> {
    const { docker, pool, logger } = this.opts;
    const maxAttempts = this.opts.maxAttempts ?? 8;
    const refused: Cidr[] = [];
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const networks = (await dockerCall('list networks', () => docker.listNetworks())) as NetworkListing[];
      const meanwhile = networks.find((n) => n.Name === name);
      if (meanwhile) return this.checkOwner(name, meanwhile.Labels, project, env); // created meanwhile (another process)
      const inUse = networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => (c.Subnet ? parseCidr(c.Subnet) : null))).filter((c): c is Cidr => c !== null);
      const free = freeSubnets(pool, [...inUse, ...refused]);
      if (free.length === 0) {
        throw new SlipwayError(
          'SLW_RUNTIME',
          `no free /24 subnet left for network ${name}: all ${subnetCount(pool)} of the pool ${formatCidr(pool)} are in use. Set SLIPWAY_SUBNET_POOL to a larger or another private range (e.g. 10.214.0.0/15) and restart the server, or destroy environments no longer used`,
        );
      }
      // A retry means another process took our pick: spread out rather than race it again.
      const subnet = attempt === 0 ? free[0]! : free[Math.floor(Math.random() * Math.min(free.length, 16))]!;
      let created: { id: string };
      try {
        created = await docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: { ...MANAGED_LABELS, [BASE_LABEL]: this.opts.base, [NETWORK_LABEL.project]: project, [NETWORK_LABEL.env]: env },
          IPAM: { Driver: 'default', Config: [{ Subnet: formatCidr(subnet), Gateway: gatewayOf(subnet) }] },
        });
      } catch (err) {
        if (isExists(err)) return this.checkCreatedMeanwhile(project, env, name); // another process created it between our inspect and create
        if (!isOverlap(err)) throw new SlipwayError('SLW_RUNTIME', `docker: create network ${name}: ${dockerMessage(err)}`);
        refused.push(subnet);
        logger.debug({ network: name, subnet: formatCidr(subnet), attempt }, 'subnet taken meanwhile; trying another');
        continue;
      }
      await this.keepOldest(name, created.id);
      logger.info({ network: name, subnet: formatCidr(subnet) }, 'created an environment network');
      return;
    }
    throw new SlipwayError('SLW_RUNTIME', `docker: create network ${name}: every subnet tried (${maxAttempts}) was taken by another network meanwhile; try again`);
  }

  /**
   * Docker's duplicate-name check races: two processes creating one name at once can both
   * succeed, and then every use of the name is "ambiguous". Each creator looks afterwards;
   * all agree the oldest stays, and the creator of a newer one removes its own (still empty).
   */
  private async keepOldest(name: string, ours: string): Promise<void> {
    const { docker } = this.opts;
    const same = ((await dockerCall('list networks', () => docker.listNetworks({ filters: { name: [name] } }))) as NetworkListing[]).filter((n) => n.Name === name);
    if (same.length < 2) return;
    const [keeper] = same.sort((a, b) => createdKey(a.Created).localeCompare(createdKey(b.Created)) || a.Id.localeCompare(b.Id));
    if (keeper!.Id === ours) return;
    await dockerCallTolerating(`remove duplicate network ${name}`, [404], () => docker.getNetwork(ours).remove());
    this.opts.logger.debug({ network: name }, 'another process created the same network at once; kept the older one');
  }
}
