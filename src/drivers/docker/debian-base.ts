/**
 * `slipway/debian:<codename>`: a minimal Debian root filesystem made by
 * `debootstrap --variant=minbase` from the host's own apt mirror, then imported into Docker
 * (`tar | POST /images/create?fromSrc=-`). No registry is involved; containers built on it
 * `apt-get install` from the same mirror (its /etc/apt/sources.list says so). The built-in
 * accessory images start FROM it. Idempotent: an image whose fingerprint (release, mirror,
 * recipe) matches is reused unless `force`. The temporary root filesystem is always removed.
 * See docs/base-images.md.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { SlipwayError, errorMessage } from '../../core/errors';
import type { BaseImageResult } from '../../core/ports/base-images';
import { pickDebianMirror, readHostAptSources, readHostOsRelease, renderSourcesList, type DebianMirror } from './apt-sources';
import { dockerMessage } from './docker-errors';
import { inspectImage, inspectImageRaw, tagImage } from './images';
import { FINGERPRINT_LABEL } from './rootfs-image';
import { SharedBuilds, type OutputLine } from './shared-builds';

export const DEBIAN_IMAGE_REPO = 'slipway/debian';
/** Bump when what goes into the image changes (files written below, import changes). */
const RECIPE_VERSION = '2';
const DEBOOTSTRAP_PATHS = ['/usr/sbin/debootstrap', '/usr/bin/debootstrap', '/sbin/debootstrap'];
const TAIL_LINES = 20;
const MIRROR_CHECK_TIMEOUT_MS = 15_000;

export interface DebianBaseOptions {
  force?: boolean;
  onOutput?: OutputLine;
  /** Debian release to bootstrap; default the host's (VERSION_CODENAME of /etc/os-release). */
  codename?: string;
  /** Where the temporary root filesystem goes; default the OS temp dir. */
  workDir?: string;
  /** Host files (tests point them elsewhere). */
  osReleaseFile?: string;
  aptRoot?: string;
}

/** Inside the image: daemons are never started by package installs (what Docker's own Debian images do). */
const POLICY_RC_D = '#!/bin/sh\n# Written by Slipway: no service starts while a package is installed in an image build.\nexit 101\n';
/** Leaner installs on top: no manuals or docs (copyrights kept), as in Debian's slim images. */
const DPKG_SLIM = [
  '# Written by Slipway: images need no manuals or documentation.',
  'path-exclude /usr/share/doc/*',
  'path-include /usr/share/doc/*/copyright',
  'path-exclude /usr/share/man/*',
  'path-exclude /usr/share/info/*',
  'path-exclude /usr/share/groff/*',
  'path-exclude /usr/share/lintian/*',
  'path-exclude /usr/share/locale/*',
  '',
].join('\n');
/** apt inside images: no package caches or translations left in layers (what Docker's own Debian images configure). */
const APT_CLEAN = [
  '// Written by Slipway: image layers keep no package caches or translations.',
  'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
  'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
  'Dir::Cache::pkgcache "";',
  'Dir::Cache::srcpkgcache "";',
  'Acquire::Languages "none";',
  '',
].join('\n');
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Everything the image is made of, for the fingerprint (the packages themselves come from the mirror). */
export function debianFingerprint(codename: string, mirror: DebianMirror, include: string[]): string {
  const recipe = { RECIPE_VERSION, codename, mirror: { ...mirror, note: null }, include, sources: renderSourcesList(mirror, codename), POLICY_RC_D, DPKG_SLIM, APT_CLEAN, IMAGE_PATH };
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 32);
}

/** The debootstrap argv (never a shell string). */
export function debootstrapArgs(codename: string, mirror: DebianMirror, target: string, include: string[]): string[] {
  return [
    '--variant=minbase',
    `--components=${mirror.components.join(',')}`,
    ...(include.length ? [`--include=${include.join(',')}`] : []),
    ...(mirror.keyring ? [`--keyring=${mirror.keyring}`] : []),
    codename,
    target,
    mirror.uri,
  ];
}

/** One bootstrap per tag in this process: concurrent callers (two accessory images) share it. */
const builds = new SharedBuilds<BaseImageResult>();

export async function createDebianBaseImage(docker: Docker, opts: DebianBaseOptions = {}): Promise<BaseImageResult> {
  const osRelease = await readHostOsRelease(opts.osReleaseFile);
  if (osRelease.id !== 'debian') {
    throw new SlipwayError('SLW_HOST_MISSING', `the Debian base image is bootstrapped from the host's Debian mirror; this host runs "${osRelease.id || 'unknown'}", not Debian`);
  }
  const codename = opts.codename ?? osRelease.codename;
  if (!codename) throw new SlipwayError('SLW_HOST_MISSING', 'cannot tell the Debian release of this host: /etc/os-release has no VERSION_CODENAME');
  const mirror = pickDebianMirror(await readHostAptSources(opts.aptRoot), codename);
  // An https mirror needs the CA bundle for apt inside the image too.
  const include = mirror.uri.startsWith('https:') || mirror.security?.uri.startsWith('https:') ? ['ca-certificates'] : [];
  const fingerprint = debianFingerprint(codename, mirror, include);
  const tag = `${DEBIAN_IMAGE_REPO}:${codename}`;
  // `latest` follows the host's release only (an accessory build of another release leaves it).
  const aliases = codename === osRelease.codename ? [`${DEBIAN_IMAGE_REPO}:latest`] : [];
  if (!opts.force) {
    const existing = await inspectImageRaw(docker, tag);
    if (existing?.Config?.Labels?.[FINGERPRINT_LABEL] === fingerprint) return withAliases(docker, tag, aliases, true);
  }
  return builds.run(tag, opts.onOutput, async (emit) => {
    if (mirror.note) emit(`note: ${mirror.note}`);
    await bootstrapAndImport(docker, { codename, mirror, include, tag, fingerprint, workDir: opts.workDir ?? os.tmpdir(), emit });
    return withAliases(docker, tag, aliases, false);
  });
}

interface BuildPlan {
  codename: string;
  mirror: DebianMirror;
  include: string[];
  tag: string;
  fingerprint: string;
  workDir: string;
  emit: OutputLine;
}

async function bootstrapAndImport(docker: Docker, plan: BuildPlan): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new SlipwayError('SLW_HOST_MISSING', 'building the Debian base image needs root (debootstrap creates device nodes and chroots): run the Slipway server as root');
  }
  const debootstrap = DEBOOTSTRAP_PATHS.find((p) => existsSync(p));
  if (!debootstrap) throw new SlipwayError('SLW_HOST_MISSING', 'debootstrap is not installed on this host: apt-get install debootstrap');
  await checkMirror(plan.mirror.uri, plan.codename);

  const tmp = await mkdtemp(path.join(plan.workDir, 'slipway-debian-'));
  const rootfs = path.join(tmp, 'rootfs');
  const started = Date.now();
  try {
    plan.emit(`debootstrap --variant=minbase ${plan.codename} from ${plan.mirror.uri}`);
    const tail = await runStreaming(debootstrap, debootstrapArgs(plan.codename, plan.mirror, rootfs, plan.include), plan.emit);
    if (tail.code !== 0) {
      const offline = tail.lines.some((l) => /Failed getting release file|Failure trying to run|Couldn't download|Temporary failure resolving|Could not resolve/i.test(l));
      throw new SlipwayError(
        'SLW_BUILD_FAILED',
        `debootstrap of Debian ${plan.codename} from ${plan.mirror.uri} failed (exit ${tail.code})${offline ? ': the mirror could not be reached or lacks this release' : ''}\n--- last output ---\n${tail.lines.join('\n')}`,
      );
    }
    await finishRootfs(rootfs, plan);
    await unmountUnder(tmp);
    plan.emit(`importing the root filesystem as ${plan.tag}`);
    await importRootfs(docker, rootfs, plan);
    plan.emit(`built ${plan.tag} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await removeTemp(tmp, plan.emit);
  }
}

/** A quick look at the mirror first: a clear message instead of debootstrap's retries. */
async function checkMirror(uri: string, codename: string): Promise<void> {
  const release = `${uri}/dists/${codename}/Release`;
  if (uri.startsWith('file:')) {
    if (!existsSync(new URL(release))) throw new SlipwayError('SLW_BUILD_FAILED', `the apt mirror ${uri} has no Debian "${codename}" (${release} is missing)`);
    return;
  }
  let status: number;
  try {
    // GET, not HEAD (some apt proxies refuse HEAD); only the status is read.
    const res = await fetch(release, { signal: AbortSignal.timeout(MIRROR_CHECK_TIMEOUT_MS) });
    status = res.status;
    await res.body?.cancel();
  } catch (err) {
    throw new SlipwayError('SLW_BUILD_FAILED', `cannot reach the apt mirror ${uri} (${errorMessage((err as { cause?: unknown }).cause ?? err)}): the Debian base image is bootstrapped from it; check this host's network or its apt sources`);
  }
  if (status >= 400) throw new SlipwayError('SLW_BUILD_FAILED', `the apt mirror ${uri} answered ${status} for ${release}: it does not serve Debian "${codename}"`);
}

/** Apt sources of the host's mirror, no daemons started by installs, slim installs, no host files left behind. */
async function finishRootfs(rootfs: string, plan: BuildPlan): Promise<void> {
  const at = (p: string) => path.join(rootfs, p);
  await writeFile(at('etc/apt/sources.list'), renderSourcesList(plan.mirror, plan.codename), { mode: 0o644 });
  await writeFile(at('usr/sbin/policy-rc.d'), POLICY_RC_D);
  await chmod(at('usr/sbin/policy-rc.d'), 0o755);
  await mkdir(at('etc/dpkg/dpkg.cfg.d'), { recursive: true });
  await writeFile(at('etc/dpkg/dpkg.cfg.d/slipway-slim'), DPKG_SLIM, { mode: 0o644 });
  await writeFile(at('etc/apt/apt.conf.d/docker-clean'), APT_CLEAN, { mode: 0o644 });
  // debootstrap copies the host's resolv.conf and hostname in; Docker provides its own at run time.
  for (const f of ['etc/resolv.conf', 'etc/hostname']) await rm(at(f), { force: true });
  await writeFile(at('etc/hostname'), '', { mode: 0o644 });
  // What the dpkg exclusions would have left out had they been there from the start (about 45 MB).
  await slim(rootfs);
  await rm(at('var/cache/apt'), { recursive: true, force: true });
  await mkdir(at('var/cache/apt/archives/partial'), { recursive: true });
  await rm(at('var/lib/apt/lists'), { recursive: true, force: true });
  await mkdir(at('var/lib/apt/lists/partial'), { recursive: true });
}

async function slim(rootfs: string): Promise<void> {
  for (const dir of ['usr/share/man', 'usr/share/info', 'usr/share/groff', 'usr/share/lintian', 'usr/share/locale']) {
    await rm(path.join(rootfs, dir), { recursive: true, force: true });
    await mkdir(path.join(rootfs, dir), { recursive: true });
  }
  const doc = path.join(rootfs, 'usr/share/doc');
  for (const pkg of await readdir(doc).catch(() => [] as string[])) {
    for (const f of await readdir(path.join(doc, pkg)).catch(() => [] as string[])) {
      if (f !== 'copyright') await rm(path.join(doc, pkg, f), { recursive: true, force: true });
    }
  }
}

async function importRootfs(docker: Docker, rootfs: string, plan: BuildPlan): Promise<void> {
  const labels = { 'slipway.base': 'debian', 'slipway.base.version': plan.codename, 'slipway.base.mirror': plan.mirror.uri, [FINGERPRINT_LABEL]: plan.fingerprint };
  const changes = [
    `ENV PATH=${IMAGE_PATH} LANG=C.UTF-8`,
    'CMD ["bash"]',
    `LABEL ${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`,
  ];
  const [repo, tagName] = plan.tag.split(':') as [string, string];
  // --numeric-owner: ids as in the rootfs (the host's names may differ); --xattrs keeps file capabilities.
  const tar = spawn('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tarErr = '';
  tar.stderr.on('data', (d: Buffer) => (tarErr = (tarErr + d.toString()).slice(-2000)));
  const tarDone = new Promise<number>((resolve) => tar.on('close', (code) => resolve(code ?? 1)));
  try {
    const out = await docker.importImage(tar.stdout, { repo, tag: tagName, changes, message: `slipway base-image create debian (${plan.codename})` } as object);
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        out,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (e: { status?: string; error?: string; errorDetail?: { message?: string } }) => {
          if (e.error || e.errorDetail) reject(new Error(e.errorDetail?.message ?? e.error));
          else if (e.status) plan.emit(e.status);
        },
      );
    });
  } catch (err) {
    tar.kill();
    throw new SlipwayError('SLW_BUILD_FAILED', `docker import of ${plan.tag} failed: ${dockerMessage(err)}`);
  }
  const code = await tarDone;
  if (code !== 0) throw new SlipwayError('SLW_BUILD_FAILED', `tar of the Debian root filesystem failed (exit ${code}): ${tarErr.trim()}`);
}

async function withAliases(docker: Docker, tag: string, aliases: string[], reused: boolean): Promise<BaseImageResult> {
  const main = await inspectImage(docker, tag);
  if (!main) throw new SlipwayError('SLW_BUILD_FAILED', `building ${tag}: the image is missing after the import`);
  for (const alias of aliases) {
    const current = await inspectImage(docker, alias);
    if (current?.id !== main.id) await tagImage(docker, tag, alias);
  }
  return { id: main.id, tags: [...new Set([tag, ...aliases, ...main.tags])], repoDigests: main.repoDigests, sizeBytes: main.sizeBytes, tag, reused };
}

/** Runs a program, streaming its stdout and stderr line by line; returns the exit code and the last lines. */
function runStreaming(file: string, args: string[], emit: OutputLine): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } });
    const feed = (stream: NodeJS.ReadableStream) => {
      let rest = '';
      stream.on('data', (d: Buffer) => {
        const parts = (rest + d.toString()).split('\n');
        rest = parts.pop() ?? '';
        for (const l of parts) push(l);
      });
      stream.on('end', () => rest && push(rest));
    };
    const push = (l: string) => {
      const line = l.trimEnd();
      if (!line) return;
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      emit(line);
    };
    feed(child.stdout);
    feed(child.stderr);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, lines }));
  });
}

/** Mount points under `dir` (debootstrap bind-mounts /dev, /proc, /sys into the target; a killed run leaves them). */
async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .map((l) => unescape(l.split(' ')[1] ?? ''))
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

async function unmountUnder(dir: string): Promise<void> {
  for (const m of await mountsUnder(dir)) await runStreaming('umount', ['-l', m], () => {}).catch(() => undefined);
}

/** Removes the temporary rootfs, never through a mount that is still there (that would delete the host's /dev). */
async function removeTemp(tmp: string, emit: OutputLine): Promise<void> {
  try {
    await unmountUnder(tmp);
    const left = await mountsUnder(tmp);
    if (left.length) {
      emit(`warning: ${tmp} kept: still mounted: ${left.join(', ')}`);
      return;
    }
    await rm(tmp, { recursive: true, force: true });
  } catch (err) {
    emit(`warning: could not remove ${tmp}: ${errorMessage(err)}`);
  }
}
