/**
 * One-off containers (release commands, `slipway run`): the image with an argv array
 * instead of its CMD, the release's environment, on its environment's network (it reaches
 * services and accessories by name; no alias of its own); output is
 * streamed as it is produced; killed after the timeout; always removed afterwards.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { OneOffResult, OneOffSpec } from '../../core/ports/runtime';
import { envArray } from './container-env';
import { dockerCall } from './docker-errors';
import { oneOffLabels } from './labels';
import { LogDemuxer } from './log-demux';

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
    const demux = new LogDemuxer(spec.name);
    const stream = output;
    const drained = new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        for (const e of demux.push(chunk)) spec.onOutput?.(e.line, e.stream);
      });
      stream.once('close', resolve);
      stream.once('end', resolve);
      stream.once('error', () => resolve());
    });
    await dockerCall(`start container ${spec.name}`, () => container.start());
    // Default condition (not-running): answers at once if the command already finished.
    const exited = dockerCall(`wait for ${spec.name}`, () => container.wait() as Promise<{ StatusCode: number }>);
    exited.catch(() => undefined); // after a timeout nobody awaits it any more

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), spec.timeoutMs);
    });
    const outcome = await Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
    if (outcome === 'timeout') {
      await container.kill().catch(() => undefined);
      return { exitCode: null, timedOut: true, durationMs: Date.now() - started };
    }
    // The output ends with the container; wait briefly for its last bytes.
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    for (const e of demux.flush()) spec.onOutput?.(e.line, e.stream);
    return { exitCode: outcome.StatusCode, timedOut: false, durationMs: Date.now() - started };
  } finally {
    output?.destroy();
    await container.remove({ force: true }).catch(() => undefined);
  }
}
