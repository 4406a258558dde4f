import type { ReplicaPlacement } from '../../domain';

/** Store role: which server each replica runs on. */
export interface PlacementStore {
  /** Records (or moves) a replica's placement; idempotent by replica name. */
  recordPlacement(p: ReplicaPlacement): Promise<void>;
  /** Placements of one service in one environment, or of one server, by replica name. */
  listPlacements(filter: { serviceId?: number; environmentId?: number; server?: string }): Promise<ReplicaPlacement[]>;
  /** Forgets replicas that are gone; unknown names are fine. */
  forgetPlacements(replicas: string[]): Promise<void>;
}
