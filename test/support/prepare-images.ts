/**
 * Builds, once before the integration lane, the images many test files start from: the
 * offline node and static bases and the built-in accessory images. Files run side by side;
 * without this, the first few would each bootstrap Debian and build Postgres at once.
 * Reused when present (the same driver the control plane uses decides).
 */
import Docker from 'dockerode';
import { createNodeBaseImage, createStaticBaseImage } from '../../src/drivers/docker/base-images';
import { ensureAccessoryImage } from './accessory-image';

const docker = new Docker();
const t0 = Date.now();
await createNodeBaseImage(docker);
await createStaticBaseImage(docker);
for (const [kind, version] of [['postgres', '15'], ['redis', '7'], ['nats', '2']] as const) await ensureAccessoryImage(kind, version);
console.log(`[test] images ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
