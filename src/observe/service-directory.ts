/**
 * Backend name → project, service and environment. The directory computes backendName()
 * for every service and environment the store knows and inverts it (rather than splitting
 * the name), so only backends of services that exist resolve; it is refreshed when an
 * unknown backend shows up (a new service routes traffic only after its first deploy
 * recorded it). Workers have no backend.
 */
import { backendName } from '../core/ports/edge';
import type { Store } from '../core/ports/store';

export interface ServiceKey {
  project: string;
  service: string;
  env: string;
}

export class ServiceDirectory {
  private byBackend = new Map<string, ServiceKey>();
  private refreshing: Promise<void> | null = null;
  /** Date.now() of the start of the last completed refresh. */
  refreshedAt = 0;

  constructor(private readonly store: Store) {}

  resolve(backend: string): ServiceKey | undefined {
    return this.byBackend.get(backend);
  }

  /** Reloads from the store; concurrent calls share one reload. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const started = Date.now();
    const next = new Map<string, ServiceKey>();
    for (const project of await this.store.listProjects()) {
      const [services, envs] = await Promise.all([this.store.listServices(project.id), this.store.listEnvironments(project.id)]);
      for (const s of services) {
        if (s.type !== 'web') continue;
        for (const e of envs) next.set(backendName(project.name, s.name, e.name), { project: project.name, service: s.name, env: e.name });
      }
    }
    this.byBackend = next;
    this.refreshedAt = started;
  }
}
