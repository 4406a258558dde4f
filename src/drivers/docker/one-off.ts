/**
 * One-off containers (release commands, `slipway run`): the image with an argv array
 * instead of its CMD, the release's environment, on its environment's network (it reaches
 * services and accessories by name; no alias of its own); output is
 * streamed as it is produced; killed after the timeout; always removed afterwards.
 *
 * Every line the command wrote is delivered before runOneOff returns. The attach stream
 * (opened before the start, so even a fast command's first line is seen) carries the output
 * live, but it is a separate connection from the wait: Docker answers the wait as soon as the
 * container stopped, while what it still holds for the attach stream arrives after, in any
 * amount of time (a busy host, a command that wrote a lot at the end). So after the exit the
 * attach stream is read to its end (not for a fixed time; bounded by ATTACH_END_MS), and then
 * the container's log, which Docker keeps until the removal, is read to its end: lines the
 * attach stream did not deliver (it ended late or early) are taken from there, per stream,
 * after the ones already delivered.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { LogEntry } from '../../core/ports/runtime';
import type { OneOffResult, OneOffSpec } from '../../core/ports/runtime';
import { envArray } from './container-env';
import { dockerCall } from './docker-errors';
import { oneOffLabels } from './labels';
import { LogDemuxer } from './log-demux';

/** After the exit, how long the attach stream may take to end before the container's log is the source of what it lacks. */
const ATTACH_END_MS = 5_000;
/** Reading the container's log after the exit (it is complete then): a bound in case the engine never ends it. */
const LOG_READ_MS = 30_000;

type Container = ReturnType<Docker['getContainer']>;
type Stream = LogEntry['stream'];

export async function runOneOff(docker: Docker, network: string, spec: OneOffSpec): Promise<OneOffResult> {
  const started = Date.now();
  const container = await dockerCall(`create container ${spec.name}`, () =>
    docker.createContainer({
      name: spec.name,
      Image: spec.image,
      // An empty argv keeps the image's CMD (a scheduled job without `command`).
      ...(spec.argv.length > 0 ? { Cmd: spec.argv } : {}),
      Env: envArray(spec.env),
      Labels: oneOffLabels(spec.labels, spec.kind),
      HostConfig: { NetworkMode: network, RestartPolicy: { Name: 'no' }, Init: true },
      NetworkingConfig: { EndpointsConfig: { [network]: {} } },
    }),
  );
  let output: Readable | undefined;
  try {
    // Attach to the output before starting, so even the first line of a fast command is seen.
    output = (await dockerCall(`attach to ${spec.name}`, () =>
      container.attach({ stream: true, stdout: true, stderr: true, logs: true }),
    )) as unknown as Readable;
    const relay = new OutputRelay(spec.name, spec.onOutput);
    const ended = relay.follow(output);
    await dockerCall(`start container ${spec.name}`, () => container.start());
    // Default condition (not-running): answers at once if the command already finished.
    const exited = dockerCall(`wait for ${spec.name}`, () => container.wait() as Promise<{ StatusCode: number }>);
    exited.catch(() => undefined); // after a timeout nobody awaits it any more

    const outcome = await within(exited, spec.timeoutMs);
    if (outcome === 'timeout') {
      await container.kill().catch(() => undefined);
      // What it wrote before it was killed is delivered too, once it has stopped.
      if ((await within(exited.catch(() => null), ATTACH_END_MS)) !== 'timeout') await relay.finish(container, ended, output);
      return { exitCode: null, timedOut: true, durationMs: Date.now() - started };
    }
    await relay.finish(container, ended, output);
    return { exitCode: outcome.StatusCode, timedOut: false, durationMs: Date.now() - started };
  } finally {
    output?.destroy();
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** The promise's value, or 'timeout' after `ms` (the timer is cleared either way). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A one-off's output lines to onOutput: live from the attach stream, then what it lacked from the container's log; each line once, in order per stream. */
class OutputRelay {
  /** Lines delivered so far, per stream. */
  private readonly delivered: Record<Stream, number> = { stdout: 0, stderr: 0 };
  // Attach output is raw (no timestamps): a line that starts with a date is the command's own text.
  private readonly demux: LogDemuxer;

  constructor(
    private readonly name: string,
    private readonly onOutput: OneOffSpec['onOutput'],
  ) {
    this.demux = new LogDemuxer(name, false);
  }

  /** Relays the attach stream's lines; true once it ended (all of it read), false if it failed or was closed first. */
  follow(stream: Readable): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      stream.on('data', (chunk: Buffer) => this.deliver(this.demux.push(chunk)));
      stream.once('end', () => resolve(true));
      stream.once('close', () => resolve(false)); // after 'end' when it ended: resolved already
      stream.once('error', () => resolve(false));
    });
  }

  /** After the exit: the attach stream to its end (bounded), then whatever it lacked from the container's log. */
  async finish(container: Container, ended: Promise<boolean>, stream: Readable): Promise<void> {
    const complete = (await within(ended, ATTACH_END_MS)) === true;
    stream.destroy();
    // A last line without a newline: whole only if the stream ended; otherwise the log has it whole.
    if (complete) this.deliver(this.demux.flush());
    await this.catchUp(container);
  }

  private deliver(entries: LogEntry[]): void {
    for (const e of entries) {
      this.delivered[e.stream]++;
      this.onOutput?.(e.line, e.stream);
    }
  }

  /** The container's whole log (complete once it stopped), skipping per stream the lines already delivered. Best effort: a log driver that cannot be read leaves what the attach stream gave. */
  private async catchUp(container: Container): Promise<void> {
    let log: Readable;
    try {
      log = (await container.logs({ stdout: true, stderr: true, follow: true, timestamps: false })) as unknown as Readable;
    } catch {
      return;
    }
    const seen: Record<Stream, number> = { stdout: 0, stderr: 0 };
    const demux = new LogDemuxer(this.name, false);
    const relay = (entries: LogEntry[]) => this.deliver(entries.filter((e) => ++seen[e.stream] > this.delivered[e.stream]));
    const done = new Promise<boolean>((resolve) => {
      log.on('data', (chunk: Buffer) => relay(demux.push(chunk)));
      log.once('end', () => resolve(true));
      log.once('close', () => resolve(false));
      log.once('error', () => resolve(false));
    });
    try {
      if ((await within(done, LOG_READ_MS)) === true) relay(demux.flush());
    } finally {
      log.destroy();
    }
  }
}
