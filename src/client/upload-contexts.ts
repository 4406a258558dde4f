/**
 * The client half of "deploy from the local directory": packs each built service's
 * context, and each release image's (`release: { build }`, keyed `<service>:release`)
 * (`.dockerignore` honoured) into a deterministic tar, asks the server whether it
 * already has those bytes, and streams it up if not. Returns what the deploy request
 * names as each service's source. Node only (it reads the filesystem).
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { parseProjectConfig } from '../core/parse-config';
import { writeSourceArchive } from '../source/source-archive';
import type { DeploymentView } from '../core/contract/views';
import type { SlipwayClient } from './api-client';

export type UploadProgress =
  | { service: string; phase: 'packed'; files: number; bytes: number; sha256: string; commit: string | null }
  | { service: string; phase: 'present'; bytes: number }
  | { service: string; phase: 'uploading'; sent: number; bytes: number }
  | { service: string; phase: 'uploaded'; bytes: number; ms: number };

export interface UploadOptions {
  /** Text of slipway.yml. */
  config: string;
  /** Directory of slipway.yml: build contexts are relative to it. */
  dir: string;
  /** Services to deploy (default all). */
  services?: string[];
  /** Environment whose overrides apply (one may swap a build for a prebuilt image). */
  env?: string;
  onProgress?: (p: UploadProgress) => void;
}

export type DeploySources = Record<string, { sha256: string; commit: string | null }>;

/** How often an upload reports bytes sent. */
const PROGRESS_EVERY_BYTES = 1024 * 1024;

export async function uploadBuildContexts(client: SlipwayClient, opts: UploadOptions): Promise<DeploySources> {
  const parsed = parseProjectConfig(opts.config, { env: opts.env });
  // An invalid slipway.yml is sent as is: the server's answer names every bad field.
  if (!parsed.ok) return {};
  const names = opts.services ?? Object.keys(parsed.config.services);
  const sources: DeploySources = {};
  const packed = new Map<string, { sha256: string; commit: string | null }>();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'slipway-upload-'));
  try {
    // Each built service's context, and the context of a release image built beside it (key `<service>:release`).
    const builds = names.flatMap((name) => {
      const svc = parsed.config.services[name];
      const release = svc?.release?.source;
      return [
        ...(svc?.source.kind === 'build' ? [{ name, source: svc.source }] : []),
        ...(release?.kind === 'build' ? [{ name: `${name}:release`, source: release }] : []),
      ];
    });
    for (const { name, source } of builds) {
      const contextDir = path.resolve(opts.dir, source.context);
      // Services sharing a context and Dockerfile (a web and a worker) upload it once.
      const key = `${contextDir}\0${source.dockerfile}`;
      let entry = packed.get(key);
      if (!entry) {
        const archive = await writeSourceArchive(contextDir, source.dockerfile, path.join(tmp, `${packed.size}.tar`));
        const commit = await cleanCommit(contextDir);
        opts.onProgress?.({ service: name, phase: 'packed', files: archive.files, bytes: archive.bytes, sha256: archive.sha256, commit });
        // Archives are kept per project: another project's upload of the same bytes does not count.
        if (await client.source(parsed.config.project, archive.sha256)) {
          opts.onProgress?.({ service: name, phase: 'present', bytes: archive.bytes });
        } else {
          const started = Date.now();
          await client.uploadSource(parsed.config.project, archive.sha256, progressStream(archive.file, archive.bytes, name, opts.onProgress), archive.bytes);
          opts.onProgress?.({ service: name, phase: 'uploaded', bytes: archive.bytes, ms: Date.now() - started });
        }
        entry = { sha256: archive.sha256, commit };
        packed.set(key, entry);
      }
      sources[name] = entry;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return sources;
}

/** Uploads the contexts that the server lacks, then starts the deployments. */
export async function deployDirectory(client: SlipwayClient, opts: UploadOptions): Promise<{ deployments: DeploymentView[] }> {
  const sources = await uploadBuildContexts(client, opts);
  return client.deploy({ config: opts.config, services: opts.services, env: opts.env, sources });
}

function progressStream(file: string, bytes: number, service: string, onProgress?: (p: UploadProgress) => void): ReadableStream<Uint8Array> {
  let sent = 0;
  let reported = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      if (sent - reported >= PROGRESS_EVERY_BYTES || sent === bytes) {
        reported = sent;
        onProgress?.({ service, phase: 'uploading', sent, bytes });
      }
      done(null, chunk);
    },
  });
  return Readable.toWeb(createReadStream(file).pipe(meter)) as ReadableStream<Uint8Array>;
}

/**
 * The HEAD commit when the context sits in a git work tree with nothing changed under it
 * (tracked or untracked); null otherwise, or without git. The commit names the build in
 * tags and release records; the content hash stays what decides whether to rebuild.
 */
async function cleanCommit(contextDir: string): Promise<string | null> {
  const git = (args: string[]) =>
    new Promise<string | null>((resolve) => {
      execFile('git', ['-C', contextDir, ...args], { timeout: 10_000 }, (err, stdout) => resolve(err ? null : stdout.trim()));
    });
  const commit = await git(['rev-parse', '--verify', '--quiet', 'HEAD']);
  if (!commit || !/^[0-9a-f]{40}$/.test(commit)) return null;
  const status = await git(['status', '--porcelain', '--', '.']);
  return status === '' ? commit : null;
}
