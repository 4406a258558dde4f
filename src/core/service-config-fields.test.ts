/**
 * The service fields of issue 20: volumes, resources, health kinds (tcp, exec) and
 * `release:` (the release command from its own image), normalized and refused naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import type { ServiceConfig } from './config';
import { formatErrors, parseProjectConfig } from './parse-config';

const file = (services: Record<string, Record<string, unknown>>, rest: Record<string, unknown> = {}) => stringify({ project: 'shop', services, ...rest });
const web = (fields: Record<string, unknown>) => file({ web: { build: '.', port: 3000, ...fields } });
const worker = (fields: Record<string, unknown>) => file({ jobs: { build: '.', command: ['node', 'worker.js'], ...fields } });

function servicesOf(text: string, env?: string): Record<string, ServiceConfig> {
  const r = parseProjectConfig(text, { env });
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  return r.config.services;
}

function errorsOf(text: string, env?: string): string {
  const r = parseProjectConfig(text, { env });
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return formatErrors(r.ok ? [] : r.errors);
}

test('volumes and resources of a service', () => {
  const s = servicesOf(web({ volumes: ['uploads:/app/uploads', 'cfg:/etc/app:ro', { name: 'cache', path: '/tmp/cache' }], resources: { memory: '512m', cpus: 0.5 } })).web!;
  assert.deepEqual(s.volumes, [
    { volume: 'uploads', path: '/app/uploads', readOnly: false },
    { volume: 'cfg', path: '/etc/app', readOnly: true },
    { volume: 'cache', path: '/tmp/cache', readOnly: false },
  ]);
  assert.deepEqual(s.resources, { memoryBytes: 512 * 1024 ** 2, cpus: 0.5 });
  assert.deepEqual(servicesOf(web({ resources: { memory: 67108864 } })).web!.resources, { memoryBytes: 64 * 1024 ** 2, cpus: null });
  assert.deepEqual(servicesOf(web({ resources: {} })).web!.resources, { memoryBytes: null, cpus: null });
  assert.match(errorsOf(web({ volumes: ['uploads:/app/../etc'] })), /^services\.web\.volumes\.0\.path: must not contain "\." or "\.\." segments$/m);
  assert.match(errorsOf(web({ volumes: ['a:/x', 'b:/x'] })), /^services\.web\.volumes\.1\.path: "\/x" is already the mount point of item 0/m);
  assert.match(errorsOf(web({ volumes: ['a:/x,y'] })), /^services\.web\.volumes\.0\.path: must not contain ":", ","/m);
  assert.match(errorsOf(web({ resources: { memory: '1k' } })), /^services\.web\.resources\.memory: must be at least 6m/m);
  assert.match(errorsOf(web({ resources: { cpus: -1 } })), /^services\.web\.resources\.cpus: must be between 0\.01 and 256/m);
  const vols = Array.from({ length: 21 }, (_, i) => `v${i}:/v${i}`);
  assert.match(errorsOf(web({ volumes: vols })), /^services\.web\.volumes: must have at most 20 volumes \(got 21\)$/m);
});

test('health kinds: tcp and exec for services; http is the default', () => {
  assert.deepEqual([servicesOf(web({ health: { path: '/health' } })).web!.health.kind, servicesOf(web({ health: { path: '/health' } })).web!.health.command], ['http', null]);
  const tcp = servicesOf(web({ health: { kind: 'tcp' } })).web!.health;
  assert.deepEqual([tcp.kind, tcp.command], ['tcp', null]);
  const exec = servicesOf(worker({ health: { kind: 'exec', command: ['test', '-f', '/tmp/ready'], interval: '2s' } })).jobs!.health;
  assert.deepEqual([exec.kind, exec.command, exec.intervalMs], ['exec', ['test', '-f', '/tmp/ready'], 2000]);
  assert.equal(servicesOf(worker({ health: { command: ['true'] } })).jobs!.health.kind, 'exec', 'a command alone means exec');
  assert.equal(servicesOf(web({ health: { kind: 'http', path: '/up' } })).web!.health.kind, 'http');
  assert.match(errorsOf(web({ health: { kind: 'exec' } })), /^services\.web\.health\.command: health kind "exec" needs a command/m);
  assert.match(errorsOf(web({ health: { kind: 'tcp', command: ['x'] } })), /^services\.web\.health\.command: is only used by health kind "exec"/m);
  assert.match(errorsOf(web({ health: { kind: 'udp' } })), /^services\.web\.health\.kind: must be "http" \(GET path\), "tcp"/m);
  assert.match(errorsOf(worker({ health: { kind: 'tcp' } })), /^services\.jobs\.health\.kind: a service without a port has no HTTP or TCP check: use kind "exec"/m);
  assert.match(errorsOf(web({ health: { kind: 'exec', command: 'pg_isready' } })), /^services\.web\.health\.command: must be a command as a list of arguments/m);
});

test('release: the release command from its own built or prebuilt image', () => {
  const built = servicesOf(web({ release: { build: './migrator', command: ['node', 'migrate.js'] }, release_timeout: '2m' })).web!;
  assert.deepEqual(built.release, { source: { kind: 'build', context: './migrator', dockerfile: 'Dockerfile', args: {} } });
  assert.deepEqual(built.releaseCommand, ['node', 'migrate.js'], 'the release phase keeps working from releaseCommand');
  assert.equal(built.releaseTimeoutMs, 120_000);
  const full = servicesOf(web({ release: { build: { context: 'db', dockerfile: 'Dockerfile.migrate', args: { V: '1' } }, command: ['migrate'] } })).web!;
  assert.deepEqual(full.release!.source, { kind: 'build', context: 'db', dockerfile: 'Dockerfile.migrate', args: { V: '1' } });
  const image = servicesOf(web({ release: { image: 'shop/migrator:3', command: ['migrate', 'up'] } })).web!;
  assert.deepEqual([image.release, image.releaseCommand], [{ source: { kind: 'image', ref: 'shop/migrator:3' } }, ['migrate', 'up']]);
  assert.equal('release' in servicesOf(web({})).web!, false);
  assert.match(errorsOf(web({ release: { image: 'm:1', command: ['x'] }, release_command: ['node', 'migrate.js'] })), /^services\.web\.release: set either "release" \(the release command in its own image\) or "release_command" \(in the service's image\), not both$/m);
  assert.match(errorsOf(web({ release: { image: 'm:1', build: '.', command: ['x'] } })), /^services\.web\.release\.build: set exactly one of "build"/m);
  assert.match(errorsOf(web({ release: { command: ['x'] } })), /^services\.web\.release\.build: set exactly one of "build"/m);
  assert.match(errorsOf(web({ release: { image: 'm:1' } })), /^services\.web\.release\.command: is required$/m);
  assert.match(errorsOf(web({ release: { image: 'm:1', command: [] } })), /^services\.web\.release\.command: must have at least the program to run$/m);
  assert.match(errorsOf(web({ release: { image: 'm:1', command: ['x'], timeout: '1m' } })), /^services\.web\.release: unknown field "timeout"$/m);
});

test('environment overrides: resources merge key by key, volumes and health kind replace', () => {
  const text = stringify({
    project: 'shop',
    services: { web: { build: '.', port: 3000, volumes: ['a:/a'], resources: { memory: '1g', cpus: 2 }, health: { kind: 'exec', command: ['true'] } } },
    environments: { staging: { services: { web: { volumes: ['b:/b'], resources: { cpus: 0.5 }, health: { kind: 'tcp' } } } } },
  });
  const s = servicesOf(text, 'staging').web!;
  assert.deepEqual(s.volumes, [{ volume: 'b', path: '/b', readOnly: false }]);
  assert.deepEqual(s.resources, { memoryBytes: 1024 ** 3, cpus: 0.5 });
  assert.deepEqual([s.health.kind, s.health.command], ['tcp', null], 'a kind override drops the base command');
  assert.match(errorsOf(stringify({ project: 'shop', services: { web: { build: '.', port: 3000 } }, environments: { staging: { services: { web: { resources: { memory: '2m' } } } } } })), /^environments\.staging\.services\.web\.resources\.memory: must be at least 6m/m);
});
