/**
 * The container an accessory should run, without I/O: its AccessorySpec from the resolved
 * config, the image's content address and the credentials, and the hash of it that goes
 * into the `slipway.accessory.spec` label. The hash covers exactly what would differ in the
 * container (image digest, env, command, volumes, limits, port): a different hash means
 * recreate, the same means leave it running. Credential values enter only through the env
 * and command (a Postgres rotation keeps the superuser, so it never changes the hash).
 */
import { createHash, randomBytes } from 'node:crypto';
import { accessoryCommand, accessoryContainerEnv, accessoryShmBytes, type AccessoryCredentials } from '../core/accessory-kinds';
import type { AccessoryConfig } from '../core/config';
import type { AccessorySpec } from '../core/ports/runtime';

export interface DesiredAccessory {
  project: string;
  env: string;
  /** Where it runs (placement.ts). */
  server: string;
  config: AccessoryConfig;
  /** The image's content address (`sha256:…`): the container is created from it, not from the tag. */
  imageDigest: string;
  creds: AccessoryCredentials;
}

const sortedEntries = (o: Record<string, string>) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** 16 hex characters of SHA-256 over the container's desired shape (values included, never shown). */
export function accessorySpecHash(d: Omit<DesiredAccessory, 'project' | 'env' | 'server'>): string {
  const cfg = d.config;
  const shape = {
    image: d.imageDigest,
    env: sortedEntries(accessoryContainerEnv(cfg, d.creds)),
    command: accessoryCommand(cfg, d.creds),
    volumes: cfg.volumes.map((v) => [v.volume, v.path, v.readOnly]),
    resources: [cfg.resources.memoryBytes, cfg.resources.cpus],
    port: cfg.port,
    // Only when set, so the hashes of kinds without one (and so their containers) stay as they were.
    ...(accessoryShmBytes(cfg.kind) ? { shm: accessoryShmBytes(cfg.kind) } : {}),
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}

/** `<project>-<accessory>-<env>-<6 hex>`: a new suffix per container, so a recreate never clashes with the old name. */
export function accessoryContainerName(project: string, accessory: string, env: string, suffix = randomBytes(3).toString('hex')): string {
  return `${project}-${accessory}-${env}-${suffix}`;
}

export function desiredAccessorySpec(d: DesiredAccessory, suffix?: string): AccessorySpec {
  const cfg = d.config;
  const command = accessoryCommand(cfg, d.creds);
  const hasLimits = cfg.resources.memoryBytes !== null || cfg.resources.cpus !== null;
  return {
    server: d.server,
    name: accessoryContainerName(d.project, cfg.name, d.env, suffix),
    image: d.imageDigest,
    env: accessoryContainerEnv(cfg, d.creds),
    ...(command ? { command } : {}),
    labels: { project: d.project, env: d.env, accessory: cfg.name, spec: accessorySpecHash(d) },
    volumes: cfg.volumes,
    ...(hasLimits ? { resources: cfg.resources } : {}),
    ...(accessoryShmBytes(cfg.kind) ? { shmBytes: accessoryShmBytes(cfg.kind)! } : {}),
  };
}

/**
 * Why a recreate happens, for the deployment log: what differs between the config last
 * applied and the new one. Env values are never shown (they may be secrets): only names.
 */
export function describeAccessoryChange(before: { config: AccessoryConfig; imageDigest: string } | null, after: { config: AccessoryConfig; imageDigest: string }): string[] {
  if (!before) return [];
  const a = before.config;
  const b = after.config;
  const out: string[] = [];
  if (a.image !== b.image) out.push(`image ${a.image} → ${b.image}`);
  else if (before.imageDigest !== after.imageDigest) out.push(`image ${b.image} rebuilt (${short(before.imageDigest)} → ${short(after.imageDigest)})`);
  if (a.version !== b.version && a.image === b.image) out.push(`version ${a.version ?? '-'} → ${b.version ?? '-'}`);
  const envNames = new Set([...Object.keys(a.env), ...Object.keys(b.env)]);
  const envChanged = [...envNames].filter((k) => a.env[k] !== b.env[k]).sort();
  if (envChanged.length) out.push(`env ${envChanged.join(', ')}`);
  if (JSON.stringify(a.command) !== JSON.stringify(b.command)) out.push('command');
  if (JSON.stringify(a.volumes) !== JSON.stringify(b.volumes)) out.push(`volumes ${fmtVolumes(a)} → ${fmtVolumes(b)}`);
  if (a.resources.memoryBytes !== b.resources.memoryBytes || a.resources.cpus !== b.resources.cpus) out.push(`resources ${fmtLimits(a)} → ${fmtLimits(b)}`);
  if (a.port !== b.port) out.push(`port ${a.port ?? '-'} → ${b.port ?? '-'}`);
  return out;
}

const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);
const fmtVolumes = (c: AccessoryConfig) => (c.volumes.length ? c.volumes.map((v) => `${v.volume}:${v.path}${v.readOnly ? ':ro' : ''}`).join(',') : 'none');
const fmtLimits = (c: AccessoryConfig) => `memory ${c.resources.memoryBytes ?? 'none'}, cpus ${c.resources.cpus ?? 'none'}`;
