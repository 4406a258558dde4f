/** Kysely table types (snake_case, as stored). */
import type { Generated } from 'kysely';

export interface Database {
  projects: { id: Generated<number>; name: string; created_at: string };
  environments: { id: Generated<number>; project_id: number; name: string; created_at: string };
  services: { id: Generated<number>; project_id: number; name: string; type: string; created_at: string };
  releases: {
    id: Generated<number>;
    service_id: number;
    environment_id: number;
    number: number;
    image_ref: string;
    image_digest: string;
    config: string;
    source_ref: string | null;
    created_at: string;
  };
  current_releases: { service_id: number; environment_id: number; release_id: number | null };
  deployments: {
    id: string;
    service_id: number;
    environment_id: number;
    kind: string;
    state: string;
    release_id: number | null;
    previous_release_id: number | null;
    error_code: string | null;
    error: string | null;
    created_at: string;
    started_at: string | null;
    finished_at: string | null;
  };
  deployment_steps: { deployment_id: string; seq: number; name: string; status: string; detail: string | null; started_at: string; finished_at: string | null };
  deployment_logs: { deployment_id: string; seq: number; level: string; message: string; at: string };
  leases: { key: string; holder: string; expires_at: string };
  settings: { key: string; value: string };
}
