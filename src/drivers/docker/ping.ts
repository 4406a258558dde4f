/** Is the Docker engine answering? Fails with SLW_HOST_MISSING and what to do about it. */
import type Docker from 'dockerode';
import { SlipwayError } from '../../core/errors';
import { dockerMessage } from './docker-errors';

const PING_TIMEOUT_MS = 5000;

export async function pingEngine(docker: Docker, socketPath: string): Promise<void> {
  const signal = AbortSignal.timeout(PING_TIMEOUT_MS);
  try {
    // dockerode forwards abortSignal to the request (its types omit the options argument).
    await (docker.ping as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>).call(docker, { abortSignal: signal });
  } catch (err) {
    const reason = signal.aborted ? `no answer within ${PING_TIMEOUT_MS / 1000}s` : dockerMessage(err);
    const hint = /EACCES/.test(reason) ? 'run as root or add this user to the "docker" group' : 'start dockerd or run scripts/bootstrap-host.sh';
    throw new SlipwayError('SLW_HOST_MISSING', `the Docker engine at ${socketPath} does not answer (${reason}): ${hint}`);
  }
}
