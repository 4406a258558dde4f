/**
 * Offline base images, built FROM scratch out of what the host already has, so
 * hosts without registry access (ours, CI, air-gapped users) can build apps:
 *  - slipway/node:<version>: the host's node binary plus the shared libraries ldd lists;
 *  - slipway/static:latest: busybox-static, serving /www with `busybox httpd`.
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { SlipwayError, errorMessage } from '../../core/errors';
import type { BaseImageResult } from '../../core/ports/base-images';
import type { DockerRuntime } from './docker-runtime';

const run = promisify(execFile);

interface RootfsFile {
  /** Path inside the image. */
  target: string;
  /** File on the host whose content is copied (symlinks resolved). */
  source: string;
  mode: number;
}

export async function createNodeBaseImage(runtime: DockerRuntime, opts: { force?: boolean } = {}): Promise<BaseImageResult> {
  const version = process.versions.node;
  const tag = `slipway/node:${version}`;
  const aliases = [`slipway/node:${version.split('.')[0]}`];
  if (!opts.force) {
    const existing = await runtime.inspectImage(tag);
    if (existing) return ensureAliases(runtime, tag, aliases, existing, true);
  }
  const nodeBin = realpathSync(process.execPath);
  const files: RootfsFile[] = [{ target: '/usr/local/bin/node', source: nodeBin, mode: 0o755 }];
  for (const lib of await sharedLibraries(nodeBin)) files.push({ target: lib, source: realpathSync(lib), mode: 0o755 });
  if (existsSync('/etc/ssl/certs/ca-certificates.crt')) {
    files.push({ target: '/etc/ssl/certs/ca-certificates.crt', source: '/etc/ssl/certs/ca-certificates.crt', mode: 0o644 });
  }
  const dockerfile = [
    'FROM scratch',
    'COPY rootfs/ /',
    `ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_VERSION=${version}`,
    `LABEL slipway.base=node slipway.base.version=${version}`,
    'WORKDIR /app',
    'CMD ["node"]',
  ].join('\n');
  const info = await buildFromRootfs(runtime, tag, dockerfile, files, {
    'rootfs/etc/passwd': 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000:node:/home/node:/sbin/nologin\n',
    'rootfs/etc/group': 'root:x:0:\nnode:x:1000:\n',
  });
  return ensureAliases(runtime, tag, aliases, info, false);
}

export async function createStaticBaseImage(runtime: DockerRuntime, opts: { force?: boolean } = {}): Promise<BaseImageResult> {
  const busybox = '/bin/busybox';
  if (!existsSync(busybox)) {
    throw new SlipwayError('SLW_HOST_MISSING', 'busybox is not installed: apt-get install busybox-static (or run scripts/bootstrap-host.sh)');
  }
  const { stdout } = await run('file', ['-L', busybox]).catch(() => ({ stdout: '' }));
  const libs = await sharedLibraries(busybox).catch(() => []);
  if (libs.length > 0 || /dynamically linked/.test(stdout)) {
    throw new SlipwayError('SLW_HOST_MISSING', `${busybox} is dynamically linked; the static base image needs busybox-static (apt-get install busybox-static)`);
  }
  const version = (await run(busybox, []).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))).stdout.match(/BusyBox v([\d.]+)/)?.[1] ?? 'latest';
  const tag = `slipway/static:${version}`;
  const aliases = ['slipway/static:latest'];
  if (!opts.force) {
    const existing = await runtime.inspectImage(tag);
    if (existing) return ensureAliases(runtime, tag, aliases, existing, true);
  }
  const dockerfile = [
    'FROM scratch',
    'COPY rootfs/ /',
    'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
    `LABEL slipway.base=static slipway.base.version=${version}`,
    'EXPOSE 8080',
    'CMD ["/bin/busybox", "httpd", "-f", "-v", "-p", "8080", "-h", "/www"]',
  ].join('\n');
  const info = await buildFromRootfs(runtime, tag, dockerfile, [{ target: '/bin/busybox', source: realpathSync(busybox), mode: 0o755 }], {
    'rootfs/www/index.html': '<!doctype html><title>slipway/static</title><p>Put your site in /www.</p>\n',
    'rootfs/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nwww:x:1000:1000:www:/www:/bin/sh\n',
    'rootfs/etc/group': 'root:x:0:\nwww:x:1000:\n',
  });
  return ensureAliases(runtime, tag, aliases, info, false);
}

/** Absolute paths of the shared libraries (and loader) a binary needs, from `ldd`. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('ldd', [binary]));
  } catch (err) {
    const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(out)) return [];
    throw new SlipwayError('SLW_HOST_MISSING', `ldd ${binary} failed: ${errorMessage(err)}`);
  }
  const libs = new Set<string>();
  for (const line of stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]!);
  }
  return [...libs].sort();
}

async function buildFromRootfs(runtime: DockerRuntime, tag: string, dockerfile: string, files: RootfsFile[], extra: Record<string, string>): Promise<{ id: string; tags: string[]; repoDigests: string[]; sizeBytes: number }> {
  const pack = tarStream.pack();
  const add = (name: string, content: string, mode = 0o644) => pack.entry({ name, mode }, content);
  add('Dockerfile', `${dockerfile}\n`);
  for (const [name, content] of Object.entries(extra)) add(name, content);
  pack.entry({ name: 'rootfs/tmp', type: 'directory', mode: 0o1777 });
  pack.entry({ name: 'rootfs/home/node', type: 'directory', mode: 0o755, uid: 1000, gid: 1000 });
  const feed = (async () => {
    for (const f of files) {
      const size = statSync(f.source).size;
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: `rootfs${f.target}`, size, mode: f.mode }, (err) => (err ? reject(err) : resolve()));
        createReadStream(f.source).on('error', reject).pipe(entry);
      });
    }
    pack.finalize();
  })();
  let stream: NodeJS.ReadableStream;
  try {
    stream = await runtime.docker.buildImage(pack as unknown as Readable, { t: tag, rm: true, forcerm: true });
  } catch (err) {
    throw new SlipwayError('SLW_BUILD_FAILED', `building ${tag}: ${errorMessage(err)}`);
  }
  await new Promise<void>((resolve, reject) =>
    runtime.docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(new SlipwayError('SLW_BUILD_FAILED', `building ${tag}: ${err.message}`)) : resolve()),
      (e: { error?: string }) => e.error && reject(new SlipwayError('SLW_BUILD_FAILED', `building ${tag}: ${e.error}`)),
    ),
  );
  await feed;
  const info = await runtime.inspectImage(tag);
  if (!info) throw new SlipwayError('SLW_BUILD_FAILED', `building ${tag}: the image is missing after the build`);
  return info;
}

async function ensureAliases(runtime: DockerRuntime, tag: string, aliases: string[], info: { id: string; tags: string[]; repoDigests: string[]; sizeBytes: number }, reused: boolean): Promise<BaseImageResult> {
  for (const alias of aliases) if (!info.tags.includes(alias)) await runtime.tagImage(tag, alias);
  return { ...info, tags: [tag, ...aliases], tag, reused };
}
