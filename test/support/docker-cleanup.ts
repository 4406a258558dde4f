import Docker from 'dockerode';

/**
 * Removes everything a test's Slipway (base network `network`) left in Docker: the
 * containers on the base network and on its environment networks (`<network>_*`, labelled
 * `slipway.base=<network>`, so another test's `<network>_x` base network is never touched),
 * its accessories, those networks, and its volumes.
 */
export async function removeTestContainers(network: string): Promise<void> {
  const docker = new Docker();
  const base = `slipway.base=${network}`;
  const envNetworks = (await docker.listNetworks({ filters: { label: [base] } })).filter((n) => n.Name.startsWith(`${network}_`));
  const networkIds = [network, ...envNetworks.map((n) => n.Id)];
  const lists = await Promise.all([
    ...networkIds.map((n) => docker.listContainers({ all: true, filters: { network: [n] } }).catch(() => [])),
    docker.listContainers({ all: true, filters: { label: [base] } }),
  ]);
  const ids = new Set(lists.flat().map((c) => c.Id));
  await Promise.all([...ids].map((id) => docker.getContainer(id).remove({ force: true }).catch(() => undefined)));
  await Promise.all([network, ...envNetworks.map((n) => n.Id)].map((n) => docker.getNetwork(n).remove().catch(() => undefined)));
  const volumes = (await docker.listVolumes({ filters: { label: [base] } })).Volumes ?? [];
  await Promise.all(volumes.map((v) => docker.getVolume(v.Name).remove().catch(() => undefined)));
}
