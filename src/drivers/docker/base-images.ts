/**
 * Offline base images, built FROM scratch out of what the host already has, so hosts
 * without registry access (ours, CI, air-gapped servers) can build and run apps:
 *  - `slipway/node:<host node version>` (+ `slipway/node:<major>`): the host's node
 *    binary and every shared library `ldd` lists for it, at the same absolute paths;
 *  - `slipway/static:<busybox version>` (+ `slipway/static:latest`): busybox-static and
 *    its applets, serving /www with `busybox httpd` on port 8080.
 * Both are idempotent (same inputs → the existing image is reused) unless `force`.
 * See docs/base-images.md.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { SlipwayError, errorMessage } from '../../core/errors';
import type { BaseImageResult } from '../../core/ports/base-images';
import { DockerRuntime } from './docker-runtime';
import { readElf } from './elf';
import { buildRootfsImage, type RootfsImageOptions } from './rootfs-image';
import { sharedLibraries } from './shared-libraries';
import type { TarEntry } from '../../source/tar-pack';

const run = promisify(execFile);

export type BaseImageOptions = RootfsImageOptions;

export const NODE_IMAGE_REPO = 'slipway/node';
export const STATIC_IMAGE_REPO = 'slipway/static';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Loaded with dlopen by glibc before 2.34 for name resolution (built into libc since). */
const NSS_LIBRARIES = ['libnss_files.so.2', 'libnss_dns.so.2', 'libresolv.so.2'];

const PASSWD_NODE = 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000:node:/home/node:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n';
const GROUP_NODE = 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n';
const NSSWITCH = 'passwd: files\ngroup: files\nhosts: files dns\n';

/** `slipway/node:<version of this host's node>` and `slipway/node:<major>`. */
export async function createNodeBaseImage(target: DockerRuntime | Docker, opts: BaseImageOptions = {}): Promise<BaseImageResult> {
  const version = process.versions.node;
  const binary = await realpath(process.execPath);
  const libraries = await sharedLibraries(binary);
  const libc = libraries.find((l) => path.basename(l) === 'libc.so.6');
  if (libc) {
    for (const name of NSS_LIBRARIES) {
      const candidate = path.join(path.dirname(libc), name);
      if (existsSync(candidate) && !libraries.includes(candidate)) libraries.push(candidate);
    }
  }
  const rootfs: TarEntry[] = [await hostFile('/usr/local/bin/node', binary)];
  for (const lib of libraries) rootfs.push(await hostFile(lib, lib));
  if (existsSync(CA_BUNDLE)) rootfs.push(await hostFile(CA_BUNDLE, CA_BUNDLE, 0o644));
  rootfs.push(
    { type: 'content', name: '/etc/passwd', content: PASSWD_NODE, mode: 0o644 },
    { type: 'content', name: '/etc/group', content: GROUP_NODE, mode: 0o644 },
    { type: 'content', name: '/etc/nsswitch.conf', content: NSSWITCH, mode: 0o644 },
    { type: 'directory', name: '/tmp', mode: 0o1777 },
    { type: 'directory', name: '/app', mode: 0o755 },
    { type: 'directory', name: '/home', mode: 0o755 },
  );
  return buildRootfsImage(
    dockerOf(target),
    {
      tag: `${NODE_IMAGE_REPO}:${version}`,
      aliases: [`${NODE_IMAGE_REPO}:${version.split('.')[0]}`],
      rootfs,
      userOwned: [{ type: 'directory', name: '/home/node', mode: 0o755 }],
      instructions: [`ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_VERSION=${version}`, 'WORKDIR /app', 'CMD ["node"]'],
      labels: { 'slipway.base': 'node', 'slipway.base.version': version },
    },
    opts,
  );
}

/** `slipway/static:<busybox version>` and `slipway/static:latest`, from the host's busybox-static. */
export async function createStaticBaseImage(target: DockerRuntime | Docker, opts: BaseImageOptions = {}): Promise<BaseImageResult> {
  const busybox = await staticBusybox();
  const version = await busyboxVersion(busybox);
  return buildRootfsImage(
    dockerOf(target),
    {
      tag: `${STATIC_IMAGE_REPO}:${version}`,
      aliases: version === 'latest' ? [] : [`${STATIC_IMAGE_REPO}:latest`],
      rootfs: [
        await hostFile('/bin/busybox', busybox),
        { type: 'content', name: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nwww:x:1000:1000:www:/www:/bin/sh\n', mode: 0o644 },
        { type: 'content', name: '/etc/group', content: 'root:x:0:\nwww:x:1000:\n', mode: 0o644 },
        { type: 'directory', name: '/tmp', mode: 0o1777 },
        { type: 'content', name: '/www/index.html', content: '<!doctype html><title>slipway/static</title><p>Put your site in /www.</p>\n', mode: 0o644 },
      ],
      instructions: [
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
        'ENV PATH=/bin',
        'WORKDIR /www',
        'EXPOSE 8080',
        'CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]',
      ],
      labels: { 'slipway.base': 'static', 'slipway.base.version': version },
    },
    opts,
  );
}

function dockerOf(target: DockerRuntime | Docker): Docker {
  return target instanceof DockerRuntime ? target.docker : target;
}

/** A host file at `target` inside the image (content from the resolved `source`, keeping its mode). */
async function hostFile(target: string, source: string, mode?: number): Promise<TarEntry> {
  const real = await realpath(source);
  const st = await stat(real);
  return { type: 'file', name: target, source: real, size: st.size, mode: mode ?? st.mode & 0o7777, mtime: st.mtime };
}

/** The host's busybox, refused unless it is statically linked (a scratch image has no libc). */
async function staticBusybox(): Promise<string> {
  const install = 'apt-get install busybox-static';
  const file = '/bin/busybox';
  if (!existsSync(file)) throw new SlipwayError('SLW_HOST_MISSING', `busybox is not installed on this host: ${install}`);
  const elf = await readElf(file).catch((err: unknown) => {
    throw new SlipwayError('SLW_HOST_MISSING', `cannot read ${file}: ${errorMessage(err)}`);
  });
  if (!elf) throw new SlipwayError('SLW_HOST_MISSING', `${file} is not a binary: ${install}`);
  if (elf.interpreter) {
    throw new SlipwayError('SLW_HOST_MISSING', `${file} is dynamically linked (loader ${elf.interpreter}); the static base image needs busybox-static: ${install}`);
  }
  return realpath(file);
}

async function busyboxVersion(busybox: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(busybox, ['--help']);
    return /BusyBox v(\d+(?:\.\d+)+)/.exec(stdout + stderr)?.[1] ?? 'latest';
  } catch (err) {
    const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    return /BusyBox v(\d+(?:\.\d+)+)/.exec(out)?.[1] ?? 'latest';
  }
}
