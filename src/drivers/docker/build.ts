/**
 * Runs a Docker build from a context tar stream, streaming its output line by line.
 * Failures become SLW_BUILD_FAILED with Docker's error text and the last output lines.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { SlipwayError, errorMessage } from '../../core/errors';
import { dockerMessage } from './docker-errors';

export interface BuildOptions {
  /** The first tag; more are applied by the caller. */
  tag: string;
  /** Dockerfile path inside the context. */
  dockerfile: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  onOutput?: (line: string) => void;
}

/** How many trailing output lines a build failure carries. */
const TAIL_LINES = 20;

interface BuildEvent {
  stream?: string;
  status?: string;
  aux?: { ID?: string };
  error?: string;
  errorDetail?: { message?: string };
}

export async function runBuild(docker: Docker, context: Readable, opts: BuildOptions): Promise<void> {
  const recent: string[] = [];
  const emit = (line: string) => {
    recent.push(line);
    if (recent.length > TAIL_LINES) recent.shift();
    opts.onOutput?.(line);
  };
  const failure = (reason: string) =>
    new SlipwayError('SLW_BUILD_FAILED', `docker build of ${opts.tag} failed: ${reason}${recent.length ? `\n--- last build output ---\n${recent.join('\n')}` : ''}`);

  // A context that cannot be read (permissions, a file vanishing) fails the build instead of hanging it.
  const contextFailed = new Promise<never>((_, reject) => {
    context.once('error', (err: unknown) => reject(failure(`could not read the build context: ${errorMessage(err)}`)));
  });
  let output: NodeJS.ReadableStream | undefined;
  try {
    output = await Promise.race([
      docker.buildImage(context, {
        t: opts.tag,
        dockerfile: opts.dockerfile,
        buildargs: opts.buildArgs ?? {},
        labels: opts.labels ?? {},
        rm: true,
        forcerm: true,
        pull: false,
      }),
      contextFailed,
    ]);
    await Promise.race([followBuild(docker, output, emit, failure), contextFailed]);
  } catch (err) {
    (output as Readable | undefined)?.destroy?.();
    context.destroy();
    if (err instanceof SlipwayError) throw err;
    throw failure(dockerMessage(err));
  }
}

function followBuild(docker: Docker, output: NodeJS.ReadableStream, emit: (line: string) => void, failure: (reason: string) => SlipwayError): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failed: SlipwayError | null = null;
    docker.modem.followProgress(
      output,
      (err: Error | null) => {
        if (failed) reject(failed);
        else if (err) reject(failure(errorMessage(err)));
        else resolve();
      },
      (event: BuildEvent) => {
        if (event.error || event.errorDetail) {
          failed ??= failure(withPullHint(event.errorDetail?.message ?? event.error ?? 'unknown error'));
          return;
        }
        const text = event.stream ?? event.status;
        if (!text) return;
        for (const line of text.split('\n')) if (line.trim()) emit(line.trimEnd());
      },
    );
  });
}

/** Docker's answer when a FROM image is missing locally and cannot be pulled deserves the offline way out. */
export function withPullHint(message: string): string {
  if (!/registry|pull access denied|manifest unknown|repository does not exist|dial tcp|no such host/i.test(message)) return message;
  return `${message} (an image in FROM is not on this host and could not be pulled; build the offline base images with \`slipway base-image create node\`, \`static\` or \`debian\`)`;
}
