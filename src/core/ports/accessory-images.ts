/**
 * AccessoryImages port: the built-in accessory images (`slipway/postgres:15`, `slipway/redis:7`,
 * `slipway/nats:2`), built from Debian's packages on the Debian base image on first use
 * (itself built by debootstrap when missing). Implemented in src/drivers/docker.
 */
import type { AccessoryKind } from '../config';

export type BuiltInAccessoryKind = Exclude<AccessoryKind, 'container'>;

export interface AccessoryImage {
  /** The tag, e.g. `slipway/postgres:15`. */
  ref: string;
  /** Content address (`sha256:…`). */
  id: string;
  /** False when it was already on the host. */
  built: boolean;
}

export interface AccessoryImages {
  /**
   * The image for a kind and version, built when missing (and the Debian base with it);
   * build output is streamed line by line. Concurrent calls for one image share one build.
   * Throws SLW_BUILD_FAILED naming the step that failed.
   */
  ensure(kind: BuiltInAccessoryKind, version: string, onOutput?: (line: string) => void): Promise<AccessoryImage>;
}
