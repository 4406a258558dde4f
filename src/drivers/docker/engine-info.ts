/** What the Docker engine says about itself and its host (`docker info`), for the servers view. */
import type Docker from 'dockerode';
import { SlipwayError } from '../../core/errors';
import type { EngineInfo } from '../../core/ports/runtime';
import { dockerMessage } from './docker-errors';

const INFO_TIMEOUT_MS = 5000;

export async function engineInfo(docker: Docker, socketPath: string): Promise<EngineInfo> {
  const signal = AbortSignal.timeout(INFO_TIMEOUT_MS);
  let info: Record<string, unknown>;
  try {
    info = (await (docker.info as unknown as (opts: { abortSignal: AbortSignal }) => Promise<Record<string, unknown>>).call(docker, { abortSignal: signal }));
  } catch (err) {
    const reason = signal.aborted ? `no answer within ${INFO_TIMEOUT_MS / 1000}s` : dockerMessage(err);
    throw new SlipwayError('SLW_HOST_MISSING', `the Docker engine at ${socketPath} does not answer (${reason})`);
  }
  const num = (k: string) => (typeof info[k] === 'number' ? (info[k] as number) : 0);
  const str = (k: string) => (typeof info[k] === 'string' ? (info[k] as string) : '');
  return {
    version: str('ServerVersion'),
    os: str('OperatingSystem'),
    kernel: str('KernelVersion'),
    cpus: num('NCPU'),
    memoryBytes: num('MemTotal'),
    containers: num('Containers'),
    containersRunning: num('ContainersRunning'),
    images: num('Images'),
    liveRestore: info.LiveRestoreEnabled === true,
    rootDir: str('DockerRootDir') || '/var/lib/docker',
  };
}
