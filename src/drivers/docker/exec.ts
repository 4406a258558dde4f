/**
 * A command run inside a running container over Docker's exec API (readiness checks such as
 * `pg_isready`, provisioning): an argv array, never a shell string; no TTY, so stdout and
 * stderr arrive multiplexed and are split by the LogDemuxer; the last 64 KiB are kept.
 * Docker has no way to end an exec: after the timeout we stop waiting and report it, and the
 * process ends by itself (checks bound their own time) or with its container.
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { SlipwayError } from '../../core/errors';
import type { ExecOptions, ExecResult } from '../../core/ports/runtime';
import { envArray } from './container-env';
import { dockerCall } from './docker-errors';
import { LogDemuxer } from './log-demux';

export const EXEC_OUTPUT_LIMIT = 64 * 1024;

/** The tail of a growing text, at most `limit` characters. */
export class OutputTail {
  private text = '';

  constructor(private readonly limit = EXEC_OUTPUT_LIMIT) {}

  addLine(line: string): void {
    this.text += `${line}\n`;
    // Trim now and then rather than on every line.
    if (this.text.length > 2 * this.limit) this.text = this.text.slice(-this.limit);
  }

  toString(): string {
    return this.text.replace(/\n$/, '').slice(-this.limit);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * runc could not start the process at all (exit 126, "OCI runtime exec failed … read init-p:
 * connection reset by peer", seen under load): nothing ran, so trying again is safe.
 */
export const execNeverStarted = (r: ExecResult): boolean => r.exitCode === 126 && /OCI runtime exec failed: exec failed: unable to start container process/.test(r.output);

export async function execInContainer(docker: Docker, containerId: string, argv: string[], opts: ExecOptions): Promise<ExecResult> {
  const first = await execOnce(docker, containerId, argv, opts);
  if (!execNeverStarted(first)) return first;
  await sleep(250);
  return execOnce(docker, containerId, argv, opts);
}

async function execOnce(docker: Docker, containerId: string, argv: string[], opts: ExecOptions): Promise<ExecResult> {
  if (argv.length === 0) throw new SlipwayError('SLW_RUNTIME', 'exec: the command is empty');
  const short = containerId.slice(0, 12);
  const container = docker.getContainer(containerId);
  const exec = await dockerCall(`exec in ${short}`, () =>
    container.exec({ Cmd: argv, Env: envArray(opts.env ?? {}), AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false }),
  );
  const stream = (await dockerCall(`start exec in ${short}`, () => exec.start({ hijack: true, stdin: false }))) as Duplex;
  const tail = new OutputTail();
  const demux = new LogDemuxer(short, false);
  const ended = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      for (const e of demux.push(chunk)) {
        tail.addLine(e.line);
        opts.onOutput?.(e.line);
      }
    });
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), opts.timeoutMs);
  });
  try {
    if ((await Promise.race([ended, timeout])) === 'timeout') {
      for (const e of demux.flush()) tail.addLine(e.line);
      return { exitCode: null, timedOut: true, output: tail.toString() };
    }
  } finally {
    clearTimeout(timer);
    stream.destroy();
  }
  for (const e of demux.flush()) tail.addLine(e.line);
  // The output ends as the process exits; its exit code is recorded a moment later.
  for (let i = 0; ; i++) {
    const info = await dockerCall(`inspect exec in ${short}`, () => exec.inspect());
    if (!info.Running || i >= 50) return { exitCode: info.Running ? null : info.ExitCode, timedOut: false, output: tail.toString() };
    await sleep(20);
  }
}
