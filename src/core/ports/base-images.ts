/**
 * Offline base images, no registry needed: `node` and `static` built FROM scratch from host
 * binaries; `debian` bootstrapped from the host's apt mirror (debootstrap + docker import).
 */
import type { ImageInfo } from './runtime';

export const BASE_IMAGE_KINDS = ['node', 'static', 'debian'] as const;
export type BaseImageKind = (typeof BASE_IMAGE_KINDS)[number];

export interface BaseImageResult extends ImageInfo {
  /** The main tag, e.g. `slipway/node:20.20.2`. */
  tag: string;
  reused: boolean;
}

export interface BaseImageFactory {
  create(kind: BaseImageKind, opts: { force?: boolean }): Promise<BaseImageResult>;
}
