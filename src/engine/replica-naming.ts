/** Container and edge-server names for replicas: readable, unique, valid for both Docker and HAProxy. */
import { randomBytes } from 'node:crypto';
import type { ServiceRef } from '../core/domain';

export function replicaName(ref: ServiceRef, release: number): string {
  return `${ref.project}-${ref.service}-${ref.env}-v${release}-${randomBytes(3).toString('hex')}`;
}
