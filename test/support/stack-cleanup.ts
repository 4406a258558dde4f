/**
 * Everything a stack test's projects left on the host, whatever state the test stopped in:
 * replicas and accessories (their own labels), the per-environment networks and the volumes of
 * the test's control plane, the app images, and the projects' directories.
 */
import { rmSync } from 'node:fs';
import Docker from 'dockerode';
import type { ControlPlaneProcess } from './control-plane-process';

export async function removeStackLeftovers(cp: Pick<ControlPlaneProcess, 'network'>, projects: Array<{ project: string; dir: string }>): Promise<void> {
  const docker = new Docker();
  for (const label of ['slipway.project', 'slipway.accessory.project']) {
    for (const { project } of projects) {
      const containers = await docker.listContainers({ all: true, filters: { label: [`${label}=${project}`] } });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    }
  }
  for (const n of await docker.listNetworks()) if (n.Name.startsWith(`${cp.network}_`)) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  const { Volumes } = await docker.listVolumes({ filters: { label: [`slipway.base=${cp.network}`] } });
  await Promise.all((Volumes ?? []).map((v) => docker.getVolume(v.Name).remove().catch(() => undefined)));
  for (const { project } of projects) {
    const images = await docker.listImages({ filters: { reference: [`slipway/${project}-*`] } });
    await Promise.all(images.map((i) => docker.getImage(i.Id).remove({ force: true }).catch(() => undefined)));
  }
  for (const p of projects) rmSync(p.dir, { recursive: true, force: true });
}
