/** The user-defined bridge network replicas join (no published ports; the edge reaches replicas by IP). */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { dockerCallTolerating, dockerMessage, statusOf } from './docker-errors';
import { MANAGED_LABELS } from './labels';
import { SlipwayError } from '../../core/errors';

/** Creates the network if it is missing; safe to call concurrently and repeatedly. */
export async function ensureBridgeNetwork(docker: Docker, name: string, logger: Logger): Promise<void> {
  const existing = await dockerCallTolerating(`inspect network ${name}`, [404], () => docker.getNetwork(name).inspect() as Promise<{ Name: string; Driver: string }>);
  if (existing && existing.Name === name) {
    if (existing.Driver !== 'bridge') logger.warn({ network: name, driver: existing.Driver }, 'the replica network exists but is not a bridge network');
    return;
  }
  try {
    await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { ...MANAGED_LABELS } });
    logger.info({ network: name }, 'created the replica network');
  } catch (err) {
    // Another process created it between our inspect and create: that is what we wanted.
    if (statusOf(err) === 409 || /already exists/i.test(dockerMessage(err))) return;
    throw new SlipwayError('SLW_RUNTIME', `docker: create network ${name}: ${dockerMessage(err)}`);
  }
}

/** Removes a network Slipway created (tests, environment teardown); a missing network is fine. */
export async function removeNetwork(docker: Docker, name: string): Promise<void> {
  await dockerCallTolerating(`remove network ${name}`, [404], () => docker.getNetwork(name).remove());
}
