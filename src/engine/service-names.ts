/** The names behind a (service id, environment id) pair, as recorded in the store. */
import type { ServiceRef } from '../core/domain';
import type { Store } from '../core/ports/store';

/** Each name, or null where the record is gone. */
export async function serviceNames(store: Store, serviceId: number, environmentId: number): Promise<{ [K in keyof ServiceRef]: string | null }> {
  const service = await store.getServiceById(serviceId);
  const project = service ? (await store.listProjects()).find((p) => p.id === service.projectId) : undefined;
  const env = project ? (await store.listEnvironments(project.id)).find((e) => e.id === environmentId) : undefined;
  return { project: project?.name ?? null, service: service?.name ?? null, env: env?.name ?? null };
}

/** The ServiceRef, or null if the service, its project or the environment no longer exists. */
export async function serviceRefOf(store: Store, serviceId: number, environmentId: number): Promise<ServiceRef | null> {
  const n = await serviceNames(store, serviceId, environmentId);
  return n.project && n.service && n.env ? { project: n.project, service: n.service, env: n.env } : null;
}
