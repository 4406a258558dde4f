/**
 * A built-in accessory image (slipway/postgres:15, slipway/redis:7, slipway/nats:2) for tests
 * that run one directly: built by the same driver the control plane uses when it is missing or
 * its recipe changed (minutes the first time, the Debian base included), else reused.
 */
import Docker from 'dockerode';
import { DockerAccessoryImages } from '../../src/drivers/docker/accessory-images';

export async function ensureAccessoryImage(kind: 'postgres' | 'redis' | 'nats', version: string): Promise<string> {
  const image = await new DockerAccessoryImages(new Docker()).ensure(kind, version, (line) => console.log(`[${kind} image] ${line}`));
  return image.ref;
}
