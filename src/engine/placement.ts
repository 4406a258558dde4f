/**
 * Which server a new container goes to. A control plane runs one server today (its runtime's
 * only one), so this is where several servers will decide (spread a service's replicas, keep an
 * accessory on the server that holds its volumes); the engine never names a server itself.
 */
import { SlipwayError } from '../core/errors';
import type { Runtime } from '../core/ports/runtime';

export function placeContainer(runtime: Pick<Runtime, 'servers'>): string {
  const [only, ...more] = runtime.servers;
  if (only === undefined) throw new SlipwayError('SLW_INTERNAL', 'the runtime runs no server');
  if (more.length > 0) throw new SlipwayError('SLW_INTERNAL', `the runtime runs ${runtime.servers.length} servers; placing containers across several is not built yet`);
  return only;
}
